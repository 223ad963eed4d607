"""Workers claim rows with leases: two of them never send one row twice, a dead one's rows are
sent once after its lease runs out, and the background worker is woken after a commit."""

from __future__ import annotations

import asyncio
import sys
from asyncio.subprocess import PIPE
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from billing_client.sql.database import create_engine, session_factory
from bot.clock import FakeClock
from bot.outbox import DeliveryLimits, Outbox, OutboxWorker
from tests.integration.outbox_fakes import BlockingSender, FakeSender, notice

ROWS = 40
LEASE = DeliveryLimits().lease


@pytest.fixture
async def other_sessions(db_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """A second connection pool on the same database: another worker's own connections."""
    engine = create_engine(db_url)
    try:
        yield session_factory(engine)
    finally:
        await engine.dispose()


async def _drain(outbox: Outbox) -> None:
    idle = 0
    while idle < 3:
        idle = 0 if await outbox.deliver_due() else idle + 1


async def _until(condition_met: Callable[[], Awaitable[bool]], *, seconds: float = 5.0) -> None:
    """Poll the database (which has no event to wait on) until the condition holds."""
    for _ in range(int(seconds / 0.01)):
        if await condition_met():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"not within {seconds} s")


async def test_two_workers_on_one_database_send_every_row_exactly_once(
    sessions: async_sessionmaker[AsyncSession],
    other_sessions: async_sessionmaker[AsyncSession],
    clock: FakeClock,
) -> None:
    provider = FakeSender()
    limits = DeliveryLimits(batch_size=5)
    first = Outbox(sessions, clock, senders={"sms": provider}, live=True, limits=limits)
    second = Outbox(other_sessions, clock, senders={"sms": provider}, live=True, limits=limits)
    for number in range(ROWS):
        await first.enqueue(notice(f"n{number}"))

    await asyncio.gather(_drain(first), _drain(second))

    assert Counter(provider.calls) == {f"n{number}": 1 for number in range(ROWS)}
    assert {entry.status for entry in await first.list(limit=ROWS)} == {"sent"}


async def test_two_worker_processes_send_every_row_exactly_once(
    db_url: str, sessions: async_sessionmaker[AsyncSession], clock: FakeClock, tmp_path: Path
) -> None:
    outbox = Outbox(sessions, clock)
    for number in range(ROWS):
        await outbox.enqueue(notice(f"p{number}"))
    log, go = tmp_path / "sends.log", tmp_path / "go"
    module = "tests.integration.outbox_worker_process"
    workers = [
        await asyncio.create_subprocess_exec(
            sys.executable, "-m", module, db_url, str(log), str(go), stdout=PIPE
        )
        for _ in range(2)
    ]
    try:
        for worker in workers:
            assert worker.stdout is not None
            assert await asyncio.wait_for(worker.stdout.readline(), 60) == b"ready\n"
        go.touch()
        codes = [await asyncio.wait_for(worker.wait(), 60) for worker in workers]
    finally:
        for worker in workers:
            if worker.returncode is None:
                worker.kill()
                await worker.wait()
    assert codes == [0, 0]

    sends = [line.split() for line in log.read_text().splitlines()]
    assert Counter(key for _, key in sends) == {f"p{number}": 1 for number in range(ROWS)}
    assert {entry.status for entry in await outbox.list(limit=ROWS)} == {"sent"}
    assert len({pid for pid, _ in sends}) == 2, "both processes should have sent some rows"


async def test_a_row_whose_worker_died_is_sent_once_when_its_lease_expires(
    sessions: async_sessionmaker[AsyncSession],
    other_sessions: async_sessionmaker[AsyncSession],
    clock: FakeClock,
) -> None:
    hanging = BlockingSender()
    doomed = Outbox(sessions, clock, senders={"sms": hanging}, live=True)
    provider = FakeSender()
    survivor = Outbox(other_sessions, clock, senders={"sms": provider}, live=True)
    await doomed.enqueue(notice("bar_notice:B-000001"))
    dying = asyncio.create_task(doomed.deliver_due())
    await asyncio.wait_for(hanging.started.wait(), 5)
    dying.cancel()  # the worker process died in the middle of the provider call
    with pytest.raises(asyncio.CancelledError):
        await dying

    [entry] = await survivor.list()
    assert entry.status == "leased"
    assert await survivor.deliver_due() == 0  # its lease still holds
    clock.advance(seconds=LEASE.total_seconds())
    assert await survivor.deliver_due() == 1
    clock.advance(hours=1)
    assert await survivor.deliver_due() == 0

    [entry] = await survivor.list()
    assert (entry.status, entry.attempts) == ("sent", 2)
    assert provider.calls == ["bar_notice:B-000001"]


async def test_a_worker_that_lost_its_lease_does_not_overwrite_the_result(
    sessions: async_sessionmaker[AsyncSession],
    other_sessions: async_sessionmaker[AsyncSession],
    clock: FakeClock,
) -> None:
    slow = BlockingSender()
    stalled = Outbox(sessions, clock, senders={"sms": slow}, live=True)
    fast = Outbox(other_sessions, clock, senders={"sms": FakeSender()}, live=True)
    await stalled.enqueue(notice("k"))
    late = asyncio.create_task(stalled.deliver_due())
    await asyncio.wait_for(slow.started.wait(), 5)
    clock.advance(seconds=LEASE.total_seconds() + 1)
    assert await fast.deliver_due() == 1

    slow.release()
    await late

    [entry] = await fast.list()
    assert (entry.status, entry.provider_id) == ("sent", "FAKE1")


async def test_enqueue_does_not_wait_for_a_send_in_flight(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    blocked = BlockingSender()
    outbox = Outbox(sessions, clock, senders={"sms": blocked}, live=True)
    worker = OutboxWorker(outbox, poll_seconds=60)
    worker.start()
    try:
        assert await outbox.enqueue(notice("first"))
        await asyncio.wait_for(blocked.started.wait(), 5)  # the worker is stuck in the provider
        async with asyncio.timeout(2):
            assert await outbox.enqueue(notice("second"))
        assert blocked.calls == ["first"]

        blocked.release()

        async def both_sent() -> bool:
            return {e.status for e in await outbox.list()} == {"sent"}

        await _until(both_sent)
    finally:
        await worker.stop()
    assert sorted(blocked.calls) == ["first", "second"]


async def test_the_worker_is_woken_by_a_commit_not_by_its_poll(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    outbox = Outbox(sessions, clock)
    worker = OutboxWorker(outbox, poll_seconds=600)
    worker.start()
    try:
        await asyncio.sleep(0.05)  # the worker found nothing and waits
        async with sessions.kw["bind"].begin() as connection:  # a turn's own transaction
            messages = [notice("turn-notice")]
            await connection.run_sync(outbox.store, messages, now=clock.now())
        outbox.wake()

        async def recorded() -> bool:
            return [e.status for e in await outbox.list()] == ["sandbox"]

        await _until(recorded, seconds=2)
    finally:
        await worker.stop()
    assert not worker.running


async def test_the_worker_polls_for_retries_that_came_due(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    provider = FakeSender(ConnectionError())
    outbox = Outbox(sessions, clock, senders={"sms": provider}, live=True)
    await outbox.enqueue(notice("k"))
    assert await outbox.deliver_due() == 1  # failed once; due again within the backoff
    worker = OutboxWorker(outbox, poll_seconds=0.02)
    worker.start()
    try:
        clock.advance(hours=1)  # past the backoff; nobody calls wake()

        async def sent() -> bool:
            return [e.status for e in await outbox.list()] == ["sent"]

        await _until(sent)
    finally:
        await worker.stop()
    assert provider.calls == ["k", "k"]
