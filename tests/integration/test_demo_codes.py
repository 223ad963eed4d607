"""Demo mode shows the one-time code the sandbox recorded (`bot.demo_codes`), so a demo
customer can finish a strong check in the web chat or `billbot chat`; outside demo mode the
code never appears in a reply, a log line, the stored conversation or an outbox row."""

from __future__ import annotations

import itertools
import json
import logging
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from bot.bootstrap import build_services
from bot.clock import FakeClock
from bot.engine import ConversationEngine
from bot.nlu import NluModel
from bot.otp import OneTimeCodes
from bot.services import Services
from bot.settings import Settings
from bot.store.models import Conversation, OutboxMessage
from bot.types import InboundMessage
from channels import console
from tests.helpers import TEST_SECRET

ALEX, SAM = "+12025550101", "+12025550102"
NEW_PIN = "73195284"
REVEALED = re.compile(r'"[^"]*?\b(\d{6}) is your code')
_ids = itertools.count(1)


class WebChat:
    """One browser tab of the demo web chat, acting as a demo customer."""

    def __init__(self, client: httpx.AsyncClient, phone: str) -> None:
        self.client, self.phone, self.session = client, phone, None

    async def say(self, text: str) -> str:
        body: dict[str, Any] = {"text": text, "as": self.phone, "session": self.session}
        response = await self.client.post("/api/chat", json=body)
        assert response.status_code == 200, response.text
        self.session = response.json()["session"]
        return "\n".join(reply["text"] for reply in response.json()["replies"])


def revealed(text: str) -> str:
    """The code the demo note shows."""
    found = REVEALED.search(text)
    assert found is not None, text
    return found.group(1)


def database_bytes(database_url: str) -> bytes:
    """The SQLite database file and its journals, as stored on disk."""
    database = Path(database_url.removeprefix("sqlite:///"))
    return b"".join(p.read_bytes() for p in sorted(database.parent.glob(database.name + "*")))


async def stored_code(services: Services, channel: str, sender: str) -> str:
    """The code the conversation's check sent, recomputed from the reference it keeps."""
    async with services.sessions() as session:
        slots = await session.scalar(
            select(Conversation.slots).where(
                Conversation.channel == channel, Conversation.sender == sender
            )
        )
    assert slots is not None
    return OneTimeCodes(TEST_SECRET).code(str(slots["stepup"]["reference"]))


async def test_alex_resets_his_pin_in_the_demo_web_chat_with_the_shown_code(
    client: httpx.AsyncClient, services: Services, demo_sqlite_url: str
) -> None:
    alex = WebChat(client, ALEX)
    assert "PIN" in await alex.say("i want to change my pin")
    assert "Where should it go?" in await alex.say("2468")

    sent = await alex.say("1")

    assert "I've sent a 6-digit code by SMS to +1202•••0101" in sent
    assert "Demo mode: messages are recorded here, not sent" in sent
    code = revealed(sent)
    confirm = await alex.say(code)
    assert "Thanks, that's you." in confirm and "Change your account PIN?" in confirm
    await alex.say("yes")
    await alex.say(NEW_PIN)
    assert "PIN is changed" in await alex.say(NEW_PIN)
    # Shown, yet still never stored: the stored answer keeps the placeholder.
    assert code.encode() not in database_bytes(demo_sqlite_url)


async def test_sam_unblocks_jordans_line_with_the_code_shown_for_his_email(
    client: httpx.AsyncClient, services: Services
) -> None:
    account = await services.billing.find_account_by_msisdn(SAM)
    assert account is not None
    lines = await services.billing.list_lines(account.id)
    jordan = next(line for line in lines if line.msisdn != SAM)
    await services.billing.bar_line(
        jordan.id,
        reason="customer request",
        idempotency_key="bar-j",
        actor="t",
        now=services.clock.now(),
    )
    sam = WebChat(client, SAM)
    await sam.say("please unblock my sim")
    await sam.say("1357")

    sent = await sam.say("2")  # email

    assert "this is what I sent by email to s•••@example.com" in sent
    confirm = await sam.say(revealed(sent))
    assert "Unblock the SIM for +1 202-555-0103" in confirm
    assert "works again" in await sam.say("yes")


async def test_billbot_chat_as_a_demo_customer_shows_the_code_too(services: Services) -> None:
    async def say(text: str) -> str:
        message = console.to_inbound(text, phone=ALEX, now=services.clock.now())
        return "\n".join(reply.text for reply in await services.conversations.handle(message))

    await say("change my pin")
    await say("2468")
    sent = await say("2")  # email

    assert revealed(sent) == await stored_code(services, "console", ALEX)


# --- outside demo mode --------------------------------------------------------------------------
@pytest.fixture
async def production(
    demo_sqlite_url: str, clock: FakeClock, nlu_model: NluModel
) -> AsyncIterator[Services]:
    """The demo data served as a real deployment: demo mode off, the sandbox delivering."""
    settings = Settings(database_url=demo_sqlite_url, demo=False, secret_key=TEST_SECRET)
    built = await build_services(settings, clock=clock, nlu=nlu_model)
    yield built
    await built.close()


async def test_outside_demo_mode_the_code_is_never_shown_stored_or_logged(
    production: Services, demo_sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    before = database_bytes(demo_sqlite_url)
    replies: list[str] = []

    async def text(words: str) -> str:  # as the SMS webhook does: the answer pushed
        now, external_id = production.clock.now(), f"sms-{next(_ids)}"
        message = InboundMessage("sms", ALEX, words, external_id, now, as_phone=ALEX)
        answer = await production.conversations.answer(message, push=True)
        replies.extend(reply.text for reply in answer.replies)
        return "\n".join(reply.text for reply in answer.replies)

    await text("i want to change my pin")
    assert "by email to a•••@example.com" in await text("2468")  # never to the phone asking
    code = await stored_code(production, "sms", ALEX)
    assert "Thanks, that's you." in await text(code)  # the holder, who got it, gets through
    await text("yes")
    await text(NEW_PIN)
    assert "PIN is changed" in await text(NEW_PIN)
    await production.outbox.flush(seconds=2)

    assert type(production.conversations) is ConversationEngine
    assert not any(code in reply or "Demo mode" in reply for reply in replies)
    async with production.sessions() as session:
        rows = (await session.execute(select(OutboxMessage.replies))).scalars().all()
    assert "[[one-time-code:" in json.dumps(rows) and code not in json.dumps(rows)
    assert all(code not in entry.text for entry in await production.outbox.list(limit=200))
    # Six digits may occur by chance in a database file; never more often because of the code.
    after = database_bytes(demo_sqlite_url)
    assert after.count(code.encode()) == before.count(code.encode())
    assert code not in caplog.text
