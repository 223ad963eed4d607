"""Transient send failures are retried with growing, capped delays; nothing is sent twice."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import FakeClock
from bot.outbox import DeliveryError, DeliveryLimits, Outbox, OutboxEntry, RetryPolicy, Sender
from bot.outbox.ports import SendContext
from bot.types import Reply
from tests.integration.outbox_fakes import NO_JITTER, FakeSender, notice


def live(
    sessions: async_sessionmaker[AsyncSession],
    clock: FakeClock,
    sender: Sender,
    policy: RetryPolicy = NO_JITTER,
    limits: DeliveryLimits | None = None,
) -> Outbox:
    senders = {"sms": sender}
    return Outbox(sessions, clock, senders=senders, live=True, policy=policy, limits=limits)


async def only(outbox: Outbox) -> OutboxEntry:
    [entry] = await outbox.list()
    return entry


async def test_connection_timeout_and_runtime_errors_are_retried_with_growing_delays(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    sender = FakeSender(ConnectionError("refused"), TimeoutError(), RuntimeError("boom"))
    outbox = live(sessions, clock, sender)
    await outbox.enqueue(notice("bar_notice:B-000001"))

    delays = []
    for attempt, error in enumerate(("ConnectionError", "TimeoutError", "RuntimeError"), 1):
        assert await outbox.deliver_due() == 1
        entry = await only(outbox)
        assert (entry.status, entry.attempts, entry.last_error) == ("retry", attempt, error)
        delays.append(entry.next_attempt_at - clock.now())
        clock.advance(seconds=delays[-1].total_seconds() - 1)
        assert await outbox.deliver_due() == 0  # not due yet: the provider is left alone
        clock.advance(seconds=1)
    assert await outbox.deliver_due() == 1

    entry = await only(outbox)
    assert (entry.status, entry.attempts, entry.last_error) == ("sent", 4, None)
    assert delays == [timedelta(seconds=5), timedelta(seconds=10), timedelta(seconds=20)]
    assert [s.idempotency_key for s in sender.sent] == ["bar_notice:B-000001"]
    assert sender.calls == ["bar_notice:B-000001"] * 4


async def test_a_transient_delivery_error_is_retried(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    outbox = live(sessions, clock, FakeSender(DeliveryError("rate limited (429)")))
    await outbox.enqueue(notice("k"))

    await outbox.deliver_due()
    entry = await only(outbox)
    assert (entry.status, entry.last_error) == ("retry", "rate limited (429)")
    clock.advance(minutes=1)
    await outbox.deliver_due()

    assert (await only(outbox)).status == "sent"


async def test_it_gives_up_after_the_last_attempt_and_says_why(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    policy = RetryPolicy(max_attempts=3, jitter=lambda: 1.0)
    sender = FakeSender(*(ConnectionError() for _ in range(10)))
    outbox = live(sessions, clock, sender, policy)
    await outbox.enqueue(notice("k"))

    for _ in range(5):
        await outbox.deliver_due()
        clock.advance(hours=1)

    entry = await only(outbox)
    assert (entry.status, entry.attempts) == ("failed", 3)
    assert entry.last_error == "gave up after 3 attempts: ConnectionError"
    assert len(sender.calls) == 3


async def test_delays_are_capped(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    policy = RetryPolicy(base_seconds=60, cap_seconds=120, max_attempts=10, jitter=lambda: 1.0)
    outbox = live(sessions, clock, FakeSender(*(OSError() for _ in range(4))), policy)
    await outbox.enqueue(notice("k"))

    waits = []
    for _ in range(4):
        await outbox.deliver_due()
        waits.append((await only(outbox)).next_attempt_at - clock.now())
        clock.advance(hours=1)

    assert waits == [timedelta(seconds=s) for s in (60, 120, 120, 120)]


class SlowSender:
    """A provider that answers after the send timeout."""

    async def send(self, address: str, replies: Sequence[Reply], *, context: SendContext) -> str:
        await asyncio.sleep(5)
        return "never"


async def test_a_send_slower_than_the_timeout_is_retried(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    limits = DeliveryLimits(send_timeout_seconds=0.05)
    outbox = live(sessions, clock, SlowSender(), limits=limits)
    await outbox.enqueue(notice("k"))

    await outbox.deliver_due()

    entry = await only(outbox)
    assert (entry.status, entry.last_error) == ("retry", "TimeoutError")


async def test_transport_error_messages_are_neither_stored_nor_logged(
    sessions: async_sessionmaker[AsyncSession],
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    leaky = ConnectionError("POST https://api.telegram.org/bot123456:SECRET-TOKEN/sendMessage")
    outbox = live(sessions, clock, FakeSender(leaky))
    await outbox.enqueue(notice("k", address="+12025550101"))

    with caplog.at_level(logging.DEBUG):
        await outbox.deliver_due()

    assert (await only(outbox)).last_error == "ConnectionError"
    assert "SECRET-TOKEN" not in caplog.text
    assert "+12025550101" not in caplog.text
    assert "0101" in caplog.text  # the masked number says who it was for


async def test_one_rows_transient_failure_leaves_the_others_alone(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    sender = FakeSender(refuse={"+12025550102": RuntimeError("provider bug")})
    outbox = live(sessions, clock, sender)
    await outbox.enqueue(notice("alex", address="+12025550101"))
    await outbox.enqueue(notice("sam", address="+12025550102"))

    await outbox.deliver_due()

    by_address = {e.recipient: (e.status, e.attempts) for e in await outbox.list()}
    assert by_address == {"+12025550101": ("sent", 1), "+12025550102": ("retry", 1)}
