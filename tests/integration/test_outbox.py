"""The outbox: stored first, delivered by one path, deduplicated, retried, sandboxed."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import FakeClock
from bot.outbox import MAX_ATTEMPTS, DeliveryError, Outbox


class FakeSmsSender:
    """A provider that fails the first `failures` sends, permanently if told so."""

    def __init__(self, failures: int = 0, *, permanent: bool = False) -> None:
        self.failures = failures
        self.permanent = permanent
        self.sent: list[tuple[str, str]] = []

    async def send(self, recipient: str, body: str, payload: Mapping[str, Any]) -> str:
        if self.failures:
            self.failures -= 1
            raise DeliveryError("provider said no", permanent=self.permanent)
        self.sent.append((recipient, body))
        return f"SM{len(self.sent)}"


@pytest.fixture
async def clock(now: datetime) -> AsyncIterator[FakeClock]:
    yield FakeClock(now)


async def _enqueue(outbox: Outbox, key: str = "k1") -> bool:
    return await outbox.enqueue(
        channel="sms", recipient="+12025550101", body="Payment received", kind="t", dedupe_key=key
    )


async def test_sandbox_records_without_sending(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    sender = FakeSmsSender()
    outbox = Outbox(sessions, clock, senders={"sms": sender}, live=False)
    assert await _enqueue(outbox)
    [entry] = await outbox.list()
    assert entry.status == "sandbox"
    assert sender.sent == []


async def test_same_dedupe_key_is_stored_and_sent_once(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    sender = FakeSmsSender()
    outbox = Outbox(sessions, clock, senders={"sms": sender}, live=True)
    assert await _enqueue(outbox)
    assert not await _enqueue(outbox)
    assert len(await outbox.list()) == 1
    assert len(sender.sent) == 1


async def test_transient_failure_stays_queued_and_is_retried(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    sender = FakeSmsSender(failures=1)
    outbox = Outbox(sessions, clock, senders={"sms": sender}, live=True)
    await _enqueue(outbox)
    [entry] = await outbox.list()
    assert (entry.status, entry.attempts, entry.last_error) == ("queued", 1, "provider said no")
    assert await outbox.deliver_pending() == 1
    [entry] = await outbox.list()
    assert (entry.status, entry.attempts) == ("sent", 2)


async def test_permanent_failure_is_not_retried(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    sender = FakeSmsSender(failures=1, permanent=True)
    outbox = Outbox(sessions, clock, senders={"sms": sender}, live=True)
    await _enqueue(outbox)
    assert await outbox.deliver_pending() == 0
    [entry] = await outbox.list()
    assert entry.status == "failed"


async def test_gives_up_after_max_attempts(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    sender = FakeSmsSender(failures=MAX_ATTEMPTS + 1)
    outbox = Outbox(sessions, clock, senders={"sms": sender}, live=True)
    await _enqueue(outbox)
    for _ in range(MAX_ATTEMPTS):
        await outbox.deliver_pending()
    [entry] = await outbox.list()
    assert (entry.status, entry.attempts) == ("failed", MAX_ATTEMPTS)


async def test_list_is_newest_first_and_limited(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    outbox = Outbox(sessions, clock)
    for key in ("a", "b", "c"):
        await _enqueue(outbox, key)
    entries = await outbox.list(limit=2)
    assert [e.id for e in entries] == sorted((e.id for e in entries), reverse=True)
    assert len(entries) == 2
