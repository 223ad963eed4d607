"""The outbox stores channel-neutral replies first, once per dedupe key, and never sends inline."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import FakeClock
from bot.outbox import DeliveryError, Outbox
from bot.store.models import OutboxMessage
from bot.types import OutboundMessage
from tests.integration.outbox_fakes import ALEX, SAM, FakeSender, notice, rich_notice


@pytest.fixture
def sender() -> FakeSender:
    return FakeSender()


@pytest.fixture
def outbox(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock, sender: FakeSender
) -> Outbox:
    """Live delivery with a fake SMS provider."""
    return Outbox(sessions, clock, senders={"sms": sender}, live=True)


async def _count(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(OutboxMessage)) or 0)


async def test_enqueue_keeps_the_replies_channel_neutral(outbox: Outbox, now: datetime) -> None:
    message = rich_notice("bill_ready:1")

    assert await outbox.enqueue(message)

    [entry] = await outbox.list()
    assert entry.replies == message.replies
    assert (entry.channel, entry.recipient, entry.kind) == ("sms", ALEX, "bill_ready")
    assert (entry.status, entry.attempts, entry.account_id) == ("queued", 0, 7)
    assert entry.created_at == now
    assert entry.as_dict()["replies"][1]["document_name"] == "INV-1.pdf"


async def test_enqueue_never_sends(outbox: Outbox, sender: FakeSender) -> None:
    assert await outbox.enqueue(notice("k1"))

    assert sender.calls == []
    [entry] = await outbox.list()
    assert entry.status == "queued"


async def test_the_same_dedupe_key_is_queued_once(
    outbox: Outbox, sessions: async_sessionmaker[AsyncSession]
) -> None:
    assert await outbox.enqueue(notice("bar_notice:B-000001"))
    assert not await outbox.enqueue(notice("bar_notice:B-000001", text="again"))
    assert not await outbox.enqueue_message(notice("bar_notice:B-000001"))

    assert await _count(sessions) == 1


async def test_store_writes_in_the_callers_transaction(
    outbox: Outbox, sessions: async_sessionmaker[AsyncSession], now: datetime
) -> None:
    engine = sessions.kw["bind"]
    async with engine.begin() as connection:
        await connection.run_sync(outbox.store, [notice("a"), notice("b")], now=now)
        await connection.rollback()  # the turn failed: its notices go with it
    assert await _count(sessions) == 0

    async with engine.begin() as connection:
        messages = [notice("a"), notice("b"), notice("a")]
        await connection.run_sync(outbox.store, messages, now=now)
    outbox.wake()

    assert await _count(sessions) == 2


async def test_a_message_that_cannot_be_stored_changes_nothing(
    outbox: Outbox, sessions: async_sessionmaker[AsyncSession], now: datetime
) -> None:
    empty = OutboundMessage("sms", ALEX, (), "test_notice", "empty")
    with pytest.raises(ValueError, match="no replies"):
        async with sessions.kw["bind"].begin() as connection:
            await connection.run_sync(outbox.store, [notice("fine"), empty], now=now)
    with pytest.raises(ValueError, match="address must be 1–254 characters"):
        await outbox.enqueue(notice("long", address="x" * 300))
    with pytest.raises(ValueError, match="dedupe_key"):
        await outbox.enqueue(notice(""))

    assert await _count(sessions) == 0


async def test_sandbox_records_what_would_go_out_without_sending(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock, sender: FakeSender
) -> None:
    outbox = Outbox(sessions, clock, senders={"sms": sender}, live=False)
    await outbox.enqueue(notice("k1"))

    assert await outbox.deliver_due() == 1

    [entry] = await outbox.list()
    assert (entry.status, entry.last_error, entry.sent_at) == ("sandbox", None, clock.now())
    assert sender.calls == []
    assert outbox.live_channels == frozenset()


async def test_live_channel_without_a_sender_stays_in_the_sandbox_with_the_reason(
    outbox: Outbox, sender: FakeSender
) -> None:
    await outbox.enqueue(notice("sms", channel="sms"))
    await outbox.enqueue(notice("mail", channel="email", address="sam.lee@example.com"))

    assert await outbox.deliver_due() == 2

    by_channel = {entry.channel: entry for entry in await outbox.list()}
    assert by_channel["sms"].status == "sent"
    assert by_channel["email"].status == "sandbox"
    assert by_channel["email"].last_error == "live delivery has no sender for channel 'email'"
    assert sender.calls == ["sms"]


async def test_sent_rows_carry_the_provider_id_and_are_never_sent_again(
    outbox: Outbox, sender: FakeSender, clock: FakeClock
) -> None:
    await outbox.enqueue(notice("k1"))
    assert await outbox.deliver_due() == 1
    sent_at = clock.now()

    clock.advance(days=3)
    assert await outbox.deliver_due() == 0

    [entry] = await outbox.list()
    assert (entry.status, entry.provider_id, entry.attempts) == ("sent", "FAKE1", 1)
    assert entry.sent_at == sent_at
    assert sender.calls == ["k1"]


async def test_the_dedupe_key_is_the_senders_idempotency_key(
    outbox: Outbox, sender: FakeSender
) -> None:
    await outbox.enqueue(notice("payment_received:42", text="Thank you!"))
    await outbox.deliver_due()

    [sent] = sender.sent
    assert (sent.address, sent.texts, sent.idempotency_key) == (
        ALEX,
        ("Thank you!",),
        "payment_received:42",
    )


async def test_permanent_failure_fails_that_row_with_the_reason_and_no_other(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    refused = DeliveryError("number cannot receive SMS", permanent=True)
    sender = FakeSender(refuse={SAM: refused})
    outbox = Outbox(sessions, clock, senders={"sms": sender}, live=True)
    for key, address in (("a", ALEX), ("b", SAM), ("c", ALEX)):
        await outbox.enqueue(notice(key, address=address))

    assert await outbox.deliver_due() == 3
    clock.advance(hours=1)
    assert await outbox.deliver_due() == 0

    failed = [e for e in await outbox.list() if e.status == "failed"]
    assert [(e.recipient, e.last_error, e.attempts) for e in failed] == [
        (SAM, "number cannot receive SMS", 1)
    ]
    assert sorted(s.idempotency_key for s in sender.sent) == ["a", "c"]
    assert sorted(sender.calls) == ["a", "b", "c"]


async def test_list_is_newest_first_and_limited(outbox: Outbox) -> None:
    for key in ("a", "b", "c"):
        await outbox.enqueue(notice(key))

    entries = await outbox.list(limit=2)

    assert len(entries) == 2
    assert [e.id for e in entries] == sorted((e.id for e in entries), reverse=True)
