"""The conversation engine on a real SQLite database with the demo data and the real NLU."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from bot.bootstrap import build_services
from bot.clock import FakeClock
from bot.nlu import NluModel
from bot.services import Services
from bot.settings import Settings
from bot.store.models import Conversation, InboundRecord
from bot.types import InboundMessage, Reply

ALEX, SAM, MARIA = "+12025550101", "+12025550102", "+12025550104"
_ids = itertools.count(1)


async def _build(url: str, nlu_model: NluModel, now: datetime) -> Services:
    settings = Settings(database_url=url, demo=True, secret_key="engine-test-secret-key-0123")
    return await build_services(settings, clock=FakeClock(now), nlu=nlu_model)


@pytest.fixture
async def services(
    demo_db_url: str, nlu_model: NluModel, now: datetime
) -> AsyncIterator[Services]:
    built = await _build(demo_db_url, nlu_model, now)
    yield built
    await built.close()


def message(
    text: str,
    phone: str | None = SAM,
    *,
    external_id: str | None = None,
    channel: str = "web",
    sender: str = "session-1",
) -> InboundMessage:
    return InboundMessage(
        channel=channel,
        sender=sender,
        text=text,
        external_id=external_id or f"m{next(_ids)}",
        received_at=datetime.now(UTC),
        as_phone=phone,
    )


async def say(services: Services, text: str, phone: str | None = SAM, **kw: str) -> str:
    replies = await services.conversations.handle(message(text, phone, **kw))
    return "\n".join(_render(reply) for reply in replies)


def _render(reply: Reply) -> str:
    options = [f"{n}. {o.label}" for n, o in enumerate(reply.options, 1)]
    return "\n".join([reply.text, *options])


async def _bar_jordan_until_confirm(services: Services) -> None:
    await say(services, "I lost my phone")
    await say(services, "2")
    await say(services, "1357")


async def test_replayed_confirmation_bars_the_line_once(services: Services) -> None:
    await _bar_jordan_until_confirm(services)
    first = await services.conversations.handle(message("yes", external_id="final"))
    replay = await services.conversations.handle(message("yes", external_id="final"))
    assert "B-" in first[0].text
    assert [r.text for r in replay] == [r.text for r in first]
    barrings = [e for e in await services.billing.list_audit(limit=200) if "bar" in e.action]
    assert len(barrings) == 1


async def test_two_workers_receiving_the_same_message_bar_once(
    services: Services, demo_db_url: str, nlu_model: NluModel, now: datetime
) -> None:
    await _bar_jordan_until_confirm(services)
    other_worker = await _build(demo_db_url, nlu_model, now)
    try:
        final = message("yes", external_id="final")
        results = await asyncio.gather(
            services.conversations.handle(final), other_worker.conversations.handle(final)
        )
    finally:
        await other_worker.close()
    # The copy that lost the race waits for the first copy and answers with the same replies.
    first, second = ([r.text for r in replies] for replies in results)
    assert first == second
    assert any("B-" in text for text in first)
    barrings = [e for e in await services.billing.list_audit(limit=200) if "bar" in e.action]
    assert len(barrings) == 1
    lines = await services.billing.list_lines(await _sam_id(services))
    assert [ln.status for ln in lines].count("barred") == 1


async def test_a_second_yes_after_barring_does_not_bar_again(services: Services) -> None:
    await _bar_jordan_until_confirm(services)
    await say(services, "yes")
    again = await say(services, "yes")
    assert "B-" not in again
    lines = await services.billing.list_lines(await _sam_id(services))
    assert [ln.status for ln in lines].count("barred") == 1


async def test_numbered_options_can_be_answered_with_a_number(services: Services) -> None:
    menu = await say(services, "menu")
    assert "1. Balance and due date" in menu
    assert "$118.45" in await say(services, "1")


async def test_never_mind_leaves_the_flow_and_changes_nothing(services: Services) -> None:
    await say(services, "block my sim")
    assert "Nothing was changed" in await say(services, "never mind")
    assert "$118.45" in await say(services, "what do i owe")


async def test_back_returns_to_the_previous_question(services: Services) -> None:
    await say(services, "block my sim")
    assert "PIN" in await say(services, "2")
    assert "Which line" in await say(services, "back")
    assert "PIN" in await say(services, "1")


async def test_back_from_the_first_question_returns_to_the_menu(services: Services) -> None:
    assert "Which line" in await say(services, "block my sim")
    back = await say(services, "back")
    assert "Here's what I can do" in back
    assert "phone's number" not in back


async def test_state_expires_after_fifteen_idle_minutes(services: Services) -> None:
    await say(services, "block my sim")
    assert isinstance(services.clock, FakeClock)
    services.clock.advance(minutes=16)
    reply = await say(services, "2")
    assert "timed out" in reply
    assert "PIN" not in reply


async def test_pin_is_not_kept_in_the_inbound_log(services: Services) -> None:
    await _bar_jordan_until_confirm(services)
    async with services.sessions() as session:
        texts = (await session.scalars(select(InboundRecord.text))).all()
    assert "1357" not in texts
    assert "[secret removed]" in texts


async def test_card_numbers_are_removed_and_the_customer_warned(services: Services) -> None:
    reply = await say(services, "my card is 4111 1111 1111 1111 pay it")
    assert "Never send card details" in reply
    async with services.sessions() as session:
        texts = (await session.scalars(select(InboundRecord.text))).all()
    assert not any("4111" in text for text in texts)


async def test_unknown_number_is_told_politely_and_can_still_bar(services: Services) -> None:
    assert "don't recognise this number" in await say(services, "balance", "+12025550199")
    assert "phone's number" in await say(services, "lost my phone", "+12025550199")


async def test_messages_of_one_conversation_run_one_at_a_time(services: Services) -> None:
    texts = ["what do i owe", "how much data have i used", "menu", "balance"]
    replies = await asyncio.gather(*(say(services, text) for text in texts))
    assert all(replies)
    async with services.sessions() as session:
        count = await session.scalar(select(func.count()).select_from(Conversation))
    assert count == 1


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "x" * 10_000,
        "\x00\x01\x02\xff\ufffe",
        "😀😀😀",
        "'; DROP TABLE accounts; --",
        "SELECT * FROM invoices WHERE 1=1",
    ],
    ids=["empty", "blank", "huge", "binary", "emoji", "sql-drop", "sql-select"],
)
async def test_bad_input_gets_a_clear_reply_and_changes_nothing(
    services: Services, text: str
) -> None:
    before = await _snapshot(services)
    reply = await say(services, text)
    assert reply.strip()
    assert "went wrong" not in reply
    assert await _snapshot(services) == before


async def _sam_id(services: Services) -> int:
    account = await services.billing.find_account_by_msisdn(SAM)
    assert account is not None
    return account.id


async def _snapshot(services: Services) -> tuple[object, ...]:
    sam = await _sam_id(services)
    now = services.clock.now()
    return (
        await services.billing.get_balance(sam, now=now),
        await services.billing.list_lines(sam),
        await services.billing.list_tickets(sam),
        len(await services.outbox.list(limit=1000)),
    )
