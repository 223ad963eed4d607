"""Whole bar_sim conversations through the engine on SQLite and PostgreSQL: a stranger's wrong
PINs, the owner still barring, one notice per lock, the daily cap, and known vs unknown numbers
answered alike."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from bot.bootstrap import build_services
from bot.clock import FakeClock
from bot.nlu import NluModel
from bot.services import Services
from bot.settings import Settings
from bot.types import InboundMessage

SAM, JORDAN, UNKNOWN = "+12025550102", "+12025550103", "+12025550199"
SAM_EMAIL = "sam.lee@example.com"
_ids = itertools.count(1)


@pytest.fixture
async def services(
    demo_db_url: str, nlu_model: NluModel, now: datetime
) -> AsyncIterator[Services]:
    settings = Settings(database_url=demo_db_url, demo=True, secret_key="pin-flow-secret-0123")
    built = await build_services(settings, clock=FakeClock(now), nlu=nlu_model)
    yield built
    await built.close()


async def say(services: Services, text: str, *, sender: str, phone: str | None = None) -> str:
    """One message on the web chat; `phone` makes the sender that customer (demo mode)."""
    message = InboundMessage(
        channel="web",
        sender=sender,
        text=text,
        external_id=f"pin-flow-{next(_ids)}",
        received_at=datetime.now(UTC),
        as_phone=phone,
    )
    replies = await services.conversations.handle(message)
    return "\n".join(reply.text for reply in replies)


async def stranger_tries(services: Services, sender: str, number: str, *pins: str) -> list[str]:
    """A stranger names `number` in their first message and sends each PIN."""
    replies = [await say(services, f"I lost my phone, it was {number}", sender=sender)]
    for pin in pins:
        replies.append(await say(services, pin, sender=sender))
    return replies


async def notices(services: Services, kind: str) -> list[tuple[str, str]]:
    entries = await services.outbox.list(limit=500)
    return [(entry.recipient, entry.text) for entry in entries if entry.kind == kind]


async def test_a_strangers_five_wrong_pins_do_not_stop_the_owner_barring(
    services: Services,
) -> None:
    replies = await stranger_tries(services, "stranger", "202-555-0103", *["0000"] * 5)
    assert "PIN for +1 202-555-0103" in replies[0]
    assert "You have 4 attempts left." in replies[1]
    assert "Too many wrong PINs" in replies[-1]

    assert "Which line" in await say(services, "block my sim", sender="sam", phone=SAM)
    assert "PIN" in await say(services, "2", sender="sam", phone=SAM)
    assert "Block the SIM for +1 202-555-0103" in await say(
        services, "1357", sender="sam", phone=SAM
    )
    assert "B-" in await say(services, "yes", sender="sam", phone=SAM)


async def test_the_holder_is_emailed_once_per_lock(services: Services) -> None:
    await stranger_tries(services, "stranger", JORDAN, *["0000"] * 5)
    await stranger_tries(services, "stranger", JORDAN, "1357")  # refused under the same lock

    (notice,) = await notices(services, "pin_locked")
    recipient, text = notice
    assert recipient == SAM_EMAIL
    assert "the web chat" in text
    assert "0000" not in text and "1357" not in text
    # FIXED_NOW is 15:30 UTC: 10:30 in Chicago (CDT), so the lock ends at 11:00 there.
    assert "until 11:00 AM (America/Chicago)" in text


async def test_a_customers_own_lock_ends_in_their_time_zone(services: Services) -> None:
    await say(services, "block my sim", sender="sam", phone=SAM)
    await say(services, "1", sender="sam", phone=SAM)
    replies = [await say(services, "0000", sender="sam", phone=SAM) for _ in range(5)]
    assert "You have 1 attempt left." in replies[3]
    assert "from here until 11:00 AM (America/Chicago)" in replies[4]


async def test_known_and_unknown_numbers_get_replies_that_differ_only_in_the_number(
    services: Services,
) -> None:
    async def conversation(sender: str, number: str) -> list[str]:
        typed = f"{number[2:5]}-{number[5:8]}-{number[8:]}"
        replies = await stranger_tries(services, sender, typed, "12ab", *["0000"] * 5)
        replies += await stranger_tries(services, sender, typed, "1357")
        return [reply.replace(typed, "<number>") for reply in replies]

    known = await conversation("stranger-a", JORDAN)
    unknown = await conversation("stranger-b", UNKNOWN)

    assert known == unknown
    assert "<number>" in known[0]


async def test_the_daily_cap_pauses_checks_opens_one_ticket_and_notifies(
    services: Services,
) -> None:
    sam = await services.billing.find_account_by_msisdn(SAM)
    assert sam is not None
    tickets_before = len(await services.billing.list_tickets(sam.id))
    replies: list[str] = []
    for n in range(3):
        replies += await stranger_tries(services, f"stranger-{n}", JORDAN, *["0000"] * 5)
    assert "a person from our support team will follow up" in replies[-1]

    await say(services, "block my sim", sender="sam", phone=SAM)
    await say(services, "1", sender="sam", phone=SAM)
    assert "are paused" in await say(services, "1357", sender="sam", phone=SAM)  # even right

    tickets = await services.billing.list_tickets(sam.id)
    assert len(tickets) == tickets_before + 1
    (notice,) = await notices(services, "pin_paused")
    assert notice[0] == SAM_EMAIL
    assert tickets[0].reference in notice[1]
