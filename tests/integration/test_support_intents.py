"""`ticket_status`, `payment_history`, `bill_explain`, `help` and the paged menu through the
real engine, NLU and billing core, for the demo customers, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import itertools
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from billing_client import BillingUnavailableError, Ticket, TicketUpdate
from billing_client.sql.client import SqlBillingClient
from billing_client.sql.database import create_engine, session_factory
from billing_client.sql.models import TicketMessage
from bot.bootstrap import build_services
from bot.clock import FakeClock
from bot.links import OneUseClaim
from bot.nlu import NluModel
from bot.services import Services
from bot.settings import Settings
from bot.types import InboundMessage, Reply
from tests.helpers import client_for

ALEX, SAM, MARIA = "+12025550101", "+12025550102", "+12025550104"
_ids = itertools.count(1)


def message(text: str, phone: str, *, external_id: str | None = None) -> InboundMessage:
    return InboundMessage(
        channel="web",
        sender=f"session-{phone}",
        text=text,
        external_id=external_id or f"sup{next(_ids)}",
        received_at=datetime.now(UTC),
        as_phone=phone,
    )


async def say(services: Services, text: str, phone: str = SAM, **kw: str) -> Reply:
    replies = await services.conversations.handle(message(text, phone, **kw))
    return Reply(
        text="\n".join(reply.text for reply in replies),
        options=replies[-1].options,
        link=replies[-1].link,
        link_label=replies[-1].link_label,
    )


async def account_id(services: Services, phone: str) -> int:
    account = await services.billing.find_account_by_msisdn(phone)
    assert account is not None
    return account.id


async def open_ticket(services: Services, phone: str = SAM) -> str:
    """A ticket opened the way a customer does it in chat (from the menu); its reference."""
    menu = await say(services, "menu", phone)
    await say(
        services, str([o.value for o in menu.options].index("intent:open_ticket") + 1), phone
    )
    await say(services, "My internet keeps dropping at home since Monday", phone)
    done = await say(services, "yes", phone)
    found = re.search(r"T-\d{6}", done.text)
    assert found is not None, done.text
    return found.group()


async def agent_asks(services: Services, reference: str) -> None:
    update = TicketUpdate(reference, "pending_customer", "Could you restart your router?")
    await services.billing.update_ticket(update, idempotency_key="agent-1", now=_now(services))


def _now(services: Services) -> datetime:
    return services.clock.now()


async def messages_of(services: Services) -> list[str]:
    async with services.sessions() as session:
        return list(await session.scalars(select(TicketMessage.body).order_by(TicketMessage.id)))


def claim(services: Services, url: str) -> OneUseClaim:
    path = url.split("/signin/link/", 1)[1]
    return services.links.login_claim(path)


# --- ticket_status ----------------------------------------------------------------------------
async def test_alex_has_no_open_tickets_and_is_offered_a_new_one(demo_services: Services) -> None:
    reply = await say(demo_services, "any update on my ticket?", ALEX)

    assert "You don't have any open tickets" in reply.text
    assert [o.value for o in reply.options] == ["intent:open_ticket"]


async def test_sam_reads_the_agents_question_and_answers_it_once(
    demo_services: Services,
) -> None:
    reference = await open_ticket(demo_services)
    await agent_asks(demo_services, reference)

    shown = await say(demo_services, "whats the status of my ticket")
    await say(demo_services, "1")  # Add a message
    confirm = await say(demo_services, "Restarted it twice, still drops at night")
    done = await say(demo_services, "yes")

    assert "Status: waiting for your reply" in shown.text
    assert "• Our team, " in shown.text and "Could you restart your router?" in shown.text
    assert "Add this message to" in confirm.text and reference in done.text
    bodies = await messages_of(demo_services)
    assert bodies.count("Restarted it twice, still drops at night") == 1
    [ticket] = await demo_services.billing.list_tickets(await account_id(demo_services, SAM))
    assert ticket.status == "open"  # back with the team


async def test_the_same_confirmation_from_two_workers_adds_the_message_once(
    demo_services: Services, demo_db_url: str, nlu_model: NluModel, now: datetime
) -> None:
    await open_ticket(demo_services)
    await say(demo_services, "my ticket")
    await say(demo_services, "add")
    await say(demo_services, "Still broken this morning")
    settings = Settings(database_url=demo_db_url, demo=True, secret_key="support-secret-0123")
    other = await build_services(settings, clock=FakeClock(now), nlu=nlu_model)
    try:
        final = message("yes", SAM, external_id="final-yes")
        workers = [demo_services, other] * 5
        answers = await asyncio.gather(*(w.conversations.handle(final) for w in workers))
    finally:
        await other.close()

    assert len({tuple(r.text for r in replies) for replies in answers}) == 1
    assert (await messages_of(demo_services)).count("Still broken this morning") == 1


async def test_two_concurrent_updates_with_one_key_add_one_message(
    demo_services: Services,
) -> None:
    reference = await open_ticket(demo_services)
    update = TicketUpdate(reference, None, "Same words", author="customer")
    now = _now(demo_services)

    await asyncio.gather(
        *(
            demo_services.billing.update_ticket(update, idempotency_key="one-key", now=now)
            for _ in range(4)
        )
    )

    assert (await messages_of(demo_services)).count("Same words") == 1


async def test_someone_elses_reference_is_answered_like_one_that_does_not_exist(
    demo_services: Services,
) -> None:
    alexs = await open_ticket(demo_services, ALEX)
    await open_ticket(demo_services)  # Sam has one of his own

    theirs = await say(demo_services, f"status of {alexs}")
    await say(demo_services, "never mind")
    nobodys = await say(demo_services, "status of T-999999")

    assert theirs.text.startswith(f"I couldn't find a ticket {alexs} on your account.")
    assert theirs.text.replace(alexs, "REF") == nobodys.text.replace("T-999999", "REF")
    assert "internet keeps dropping" not in theirs.text.split("\n")[0]


async def test_declining_to_close_changes_nothing_and_yes_closes(demo_services: Services) -> None:
    reference = await open_ticket(demo_services)
    sam = await account_id(demo_services, SAM)
    await say(demo_services, "my ticket")
    await say(demo_services, "close")
    await say(demo_services, "no")
    [kept] = await demo_services.billing.list_tickets(sam)

    await say(demo_services, f"close {reference} it works now")
    await say(demo_services, "close")
    closed = await say(demo_services, "yes")

    assert kept.status == "open"
    assert closed.text == f"{reference} is closed. Thanks for letting us know!"
    [ticket] = await demo_services.billing.list_tickets(sam)
    assert ticket.status == "closed"


class FlakyTickets(SqlBillingClient):
    """The real billing core whose ticket updates fail while `down` (a billing outage)."""

    down = False

    async def update_ticket(
        self, update: TicketUpdate, *, idempotency_key: str, now: datetime
    ) -> Ticket:
        if self.down:
            raise BillingUnavailableError("helpdesk is down")
        return await super().update_ticket(update, idempotency_key=idempotency_key, now=now)


@pytest.fixture
async def flaky(
    demo_db_url: str, nlu_model: NluModel, now: datetime
) -> AsyncIterator[tuple[Services, FlakyTickets]]:
    engine = create_engine(demo_db_url)
    billing = FlakyTickets(session_factory(engine))
    settings = Settings(database_url=demo_db_url, demo=True, secret_key="support-secret-0123")
    built = await build_services(settings, clock=FakeClock(now), nlu=nlu_model, billing=billing)
    try:
        yield built, billing
    finally:
        await built.close()
        await engine.dispose()


async def test_a_billing_error_mid_flow_is_answered_politely_and_the_retry_adds_once(
    flaky: tuple[Services, FlakyTickets],
) -> None:
    services, billing = flaky
    await open_ticket(services)
    await say(services, "my ticket")
    await say(services, "add")
    await say(services, "Any news?")

    billing.down = True
    failed = await say(services, "yes", external_id="add-yes")
    billing.down = False
    retried = await say(services, "yes", external_id="add-yes")

    assert "isn't answering" in failed.text
    assert "Done: your message is on" in retried.text
    assert (await messages_of(services)).count("Any news?") == 1


# --- payment_history --------------------------------------------------------------------------
async def test_alex_sees_his_payments_with_links_to_his_own_receipts(
    demo_services: Services,
) -> None:
    reply = await say(demo_services, "show me my payment history", ALEX)

    rows = reply.text.splitlines()[1:3]
    assert rows[0].startswith("• February 21, 2025: $60.99 by demo payment — invoice INV-202502-")
    assert rows[1].startswith("• January 21, 2025: $58.85 by demo payment — invoice INV-202501-")
    alex = await account_id(demo_services, ALEX)
    [latest] = await demo_services.billing.list_payments(alex, limit=1)
    assert reply.link is not None
    assert claim(demo_services, reply.link) == OneUseClaim(
        alex, claim(demo_services, reply.link).nonce, f"/account/payments/{latest.id}"
    )
    every = re.findall(r"http\S+/signin/link/\S+", reply.text)[-1]
    assert claim(demo_services, every).value == "/account/payments"


async def test_maria_has_no_payments_and_hears_it_in_spanish(demo_services: Services) -> None:
    reply = await say(demo_services, "historial de pagos", MARIA)

    assert reply.text == "Todavía no veo ningún pago en tu cuenta."


async def test_the_receipt_link_opens_the_receipt_page(demo_services: Services) -> None:
    reply = await say(demo_services, "my payments", ALEX)
    assert reply.link is not None
    path = "/signin/link/" + reply.link.split("/signin/link/", 1)[1]

    async with client_for(demo_services) as client:
        landed = await client.get(path, follow_redirects=True)
        if landed.request.url.path.startswith("/signin"):  # a page that asks to continue
            token = re.search(r'name="csrf" value="([^"]+)"', landed.text)
            data = {"csrf": token.group(1)} if token else {}
            landed = await client.post(path, data=data, follow_redirects=True)

    assert landed.status_code == 200
    assert landed.request.url.path.startswith("/account/payments/")
    assert "$60.99" in landed.text


# --- bill_explain -----------------------------------------------------------------------------
async def test_alex_learns_why_his_bill_is_higher(demo_services: Services) -> None:
    reply = await say(demo_services, "why is my bill higher this month?", ALEX)

    lines = reply.text.splitlines()
    assert re.fullmatch(
        r"Your latest bill, INV-202503-\d+ \(February 2025\), is \$64\.20: \$3\.21 more than "
        r"the one before \(\$60\.99\)\.",
        lines[0],
    )
    assert lines[1:] == [
        "What changed:",
        "• International calls: $5.00 (none last time).",
        "• Directory assistance ($2.00 last time) is not on this bill.",
        "• Tax: $0.21 more, as it follows the charges ($4.20 in all).",
    ]


async def test_sam_sees_the_roaming_on_jordans_line(demo_services: Services) -> None:
    reply = await say(demo_services, "why did my bill go up", SAM)

    assert "$22.15 more than the one before ($96.30)" in reply.text
    assert "• Roaming data, Canada (GB) on +1 202-555-0103: $15.00 (none last time)." in reply.text


async def test_maria_is_prepaid_and_hears_it_in_spanish(demo_services: Services) -> None:
    reply = await say(demo_services, "por qué ha subido mi factura", MARIA)

    assert reply.text.startswith("Tienes prepago")


# --- help and the menu in the web chat ----------------------------------------------------------
async def test_help_in_the_web_chat_names_the_contacts_and_offers_a_person(
    services: Services,
) -> None:
    async with client_for(services) as client:
        answer = await client.post("/api/chat", json={"text": "help", "as": ALEX})

    [reply] = answer.json()["replies"]
    assert "I can help with: balance and due date, pay my bill" in reply["text"]
    assert "call +1 202 555 0199 (Mon–Fri 8:00–20:00)" in reply["text"]
    assert reply["options"] == ["Talk to a person", "Show the menu"]
    assert reply["option_values"] == ["intent:open_ticket", "menu:1"]


async def test_the_web_chat_menu_pages_with_a_more_chip(services: Services) -> None:
    async with client_for(services) as client:
        first = await client.post("/api/chat", json={"text": "menu", "as": ALEX})
        session = first.json()["session"]
        more = await client.post("/api/chat", json={"text": "9", "as": ALEX, "session": session})
        tapped = await client.post(
            "/api/chat", json={"text": "menu:2", "as": ALEX, "session": session}
        )

    page_one = first.json()["replies"][-1]
    page_two = more.json()["replies"][-1]
    assert len(page_one["options"]) == 9 and page_one["options"][-1] == "More…"
    assert page_one["option_values"][-1] == "menu:2"
    assert page_two["text"].startswith("More things I can do (page 2 of")
    assert tapped.json()["replies"][-1]["options"] == page_two["options"]
    assert not set(page_one["option_values"][:8]) & set(page_two["option_values"])


async def test_a_second_page_item_starts_by_number(services: Services) -> None:
    await say(services, "menu", ALEX)
    page = await say(services, "9", ALEX)
    wanted = [o.value for o in page.options].index("intent:payment_history") + 1

    reply = await say(services, str(wanted), ALEX)

    assert reply.text.startswith("Your latest payments:")
