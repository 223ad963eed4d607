"""Whole conversations of the demo customers through POST /api/chat, as the chat page has them.

Assertions are on facts (amounts, dates, references, links), not on whole sentences.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from babel.dates import format_date

from bot.services import Services
from tests.helpers import pay_through_page

ALEX, SAM, JORDAN, MARIA = "+12025550101", "+12025550102", "+12025550103", "+12025550104"


class Chat:
    """One browser tab acting as one customer: keeps the session like chat.js does."""

    def __init__(self, client: httpx.AsyncClient, phone: str) -> None:
        self.client = client
        self.phone = phone
        self.session: str | None = None
        self.last: list[dict[str, Any]] = []

    async def say(self, text: str, *, message_id: str | None = None) -> str:
        """Send `text`; returns the replies' text joined, keeps the replies in `last`."""
        body: dict[str, Any] = {"text": text, "as": self.phone}
        if self.session:
            body["session"] = self.session
        if message_id:
            body["id"] = message_id
        response = await self.client.post("/api/chat", json=body)
        assert response.status_code == 200, response.text
        data = response.json()
        self.session, self.last = data["session"], data["replies"]
        return "\n".join(reply["text"] for reply in self.last)

    def option(self, containing: str) -> str:
        """The value of the last offered option whose label contains `containing`."""
        for reply in self.last:
            pairs = zip(reply.get("options", []), reply.get("option_values", []), strict=True)
            for label, value in pairs:
                if containing in label:
                    return str(value)
        raise AssertionError(f"no option with {containing!r} in {self.last}")

    def link(self) -> str:
        links = [reply["link"] for reply in self.last if "link" in reply]
        assert links, f"no link in {self.last}"
        return str(links[0])


async def account_facts(services: Services, phone: str) -> tuple[str, str]:
    """(amount due, next due date) as billing states them, formatted like the bot does."""
    account = await services.billing.find_account_by_msisdn(phone)
    assert account is not None
    balance = await services.billing.get_balance(account.id, now=services.clock.now())
    assert balance.next_due_on is not None
    due = format_date(balance.next_due_on, format="long", locale=account.locale)
    return balance.amount_due.format(account.locale), due


async def line_status(services: Services, phone: str) -> str:
    account = await services.billing.find_account_by_msisdn(phone)
    assert account is not None
    lines = await services.billing.list_lines(account.id)
    return next(line.status for line in lines if line.msisdn == phone)


async def test_alex_asks_what_he_owes(services: Services, client: httpx.AsyncClient) -> None:
    amount, due = await account_facts(services, ALEX)

    text = await Chat(client, ALEX).say("what do I owe")

    assert amount == "$64.20"
    assert "$64.20" in text
    assert due in text


async def test_alex_pays_through_the_link_and_then_owes_nothing(
    client: httpx.AsyncClient,
) -> None:
    alex = Chat(client, ALEX)
    text = await alex.say("pay my bill")
    assert "$64.20" in text
    path = urlsplit(alex.link()).path
    assert path.startswith("/pay/")

    page = await client.get(path)
    assert page.status_code == 200 and "$64.20" in page.text
    paid = await pay_through_page(client, path)
    assert paid.status_code == 200 and "Paid — thank you!" in paid.text
    assert "Paid" in (await client.get(path)).text

    balance = await alex.say("balance")
    assert "$64.20" not in balance
    assert "nothing to pay" in balance.lower()


async def test_sam_is_overdue(client: httpx.AsyncClient) -> None:
    text = await Chat(client, SAM).say("balance")

    assert "$118.45" in text
    assert "overdue" in text


async def test_sam_bars_jordans_lost_phone_once(
    services: Services, client: httpx.AsyncClient
) -> None:
    sam = Chat(client, SAM)
    await sam.say("I lost my phone")
    jordans_line = sam.option("Jordan")
    assert "PIN" in await sam.say(jordans_line)
    confirm = await sam.say("1357")
    assert "202-555-0103" in confirm
    assert sam.option("Yes") == "yes"

    done = await sam.say("yes", message_id="final-yes")
    replayed = await sam.say("yes", message_id="final-yes")

    reference = re.search(r"\bB-\d{6}\b", done)
    assert reference is not None, done
    assert replayed == done
    assert await line_status(services, JORDAN) == "barred"
    assert await line_status(services, SAM) == "active"
    notices = [e for e in await services.outbox.list() if e.kind == "bar_notice"]
    # Sam is told by email and on his own line; never on Jordan's lost phone.
    assert sorted((e.channel, e.recipient) for e in notices) == [
        ("email", "sam.lee@example.com"),
        ("sms", SAM),
    ]


async def test_sam_can_pick_the_line_by_typing_its_number(
    services: Services, client: httpx.AsyncClient
) -> None:
    sam = Chat(client, SAM)
    await sam.say("block my sim")
    values = [v for r in sam.last for v in r.get("option_values", [])]
    position = values.index(sam.option("Jordan")) + 1

    assert "PIN" in await sam.say(str(position))
    await sam.say("1357")
    done = await sam.say("yes")

    assert re.search(r"\bB-\d{6}\b", done)
    assert await line_status(services, JORDAN) == "barred"


async def test_a_wrong_pin_does_not_bar(services: Services, client: httpx.AsyncClient) -> None:
    sam = Chat(client, SAM)
    await sam.say("I lost my phone")
    await sam.say(sam.option("Jordan"))

    text = await sam.say("0000")

    assert "attempt" in text
    assert await line_status(services, JORDAN) == "active"


@pytest.mark.parametrize("text", ["saldo", "balance"])
async def test_maria_sees_her_prepaid_balance_in_spanish(
    client: httpx.AsyncClient, text: str
) -> None:
    reply = await Chat(client, MARIA).say(text)

    assert "12,50" in reply
    assert "$12.50" not in reply


async def test_alex_reports_a_problem_and_gets_a_ticket(client: httpx.AsyncClient) -> None:
    alex = Chat(client, ALEX)
    await alex.say("my internet keeps dropping")
    assert alex.option("Yes") == "yes"

    done = await alex.say("yes")

    assert re.search(r"\bT-\d{6}\b", done), done
