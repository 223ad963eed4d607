"""The Outbox: the one outbound path. Store first (insert-ignore on the dedupe key), deliver later.

Writers never send: `enqueue` commits in its own short transaction and `store` writes inside
the caller's transaction (a turn's notices commit with its state); both are followed by
`wake()`, which nudges the background `OutboxWorker`. The worker calls `deliver_due`.
Sandbox mode, and in live mode any channel without a sender, records rows as `sandbox`.
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import logging
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.otp import OneTimeCodes
from bot.outbox.delivery import Delivery, DeliveryLimits
from bot.outbox.ports import DeliveryStatus, FailedMessage, Fallback, Sender, moves_forward
from bot.outbox.retry import RetryPolicy
from bot.outbox.store import (
    FAILED,
    RETRY,
    SENT,
    OutboxEntry,
    by_provider_id,
    insert_ignore,
    insert_ignore_on,
    insert_new,
    newest,
    replies_of,
    row_values,
    waiting_rows,
    withdraw_keys_on,
    withdraw_rows,
)
from bot.store import suppressions
from bot.store.models import OutboxMessage
from bot.store.sql import Transactions, claim_write_lock
from bot.types import OutboundMessage

log = logging.getLogger(__name__)
# A message a provider failed after accepting it (a rate limit) waits at least this long.
RETRY_AFTER_FAILURE = timedelta(seconds=6)


class Outbox:
    """Stores outbound messages and delivers them through the channels' senders."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        *,
        senders: Mapping[str, Sender] | None = None,
        live: bool = False,
        policy: RetryPolicy | None = None,
        limits: DeliveryLimits | None = None,
        codes: OneTimeCodes | None = None,
        transactions: Transactions | None = None,
        fallback: Fallback | None = None,
    ) -> None:
        """`fallback` decides where a message that failed for good goes next (alerts)."""
        self._sessions = sessions
        self._clock = clock
        self._limits = limits or DeliveryLimits()
        self._policy = policy or RetryPolicy()
        self._delivery = Delivery(
            sessions,
            clock,
            senders=senders or {},
            live=live,
            policy=self._policy,
            limits=self._limits,
            codes=codes,
            transactions=transactions,
            fallback=fallback,
        )
        self._work = asyncio.Event()

    @property
    def live_channels(self) -> frozenset[str]:
        """Channels whose messages are really sent; every other one stays in the sandbox log."""
        return self._delivery.live_channels

    @property
    def batch_size(self) -> int:
        return self._limits.batch_size

    @property
    def parallel_writers(self) -> int:
        """How many transactions may store messages at once to good effect: SQLite takes one
        writer at a time; PostgreSQL inserts two chunks on two cores."""
        bind = self._sessions.kw.get("bind")
        dialect = getattr(getattr(bind, "dialect", None), "name", "")
        return 2 if dialect == "postgresql" else 1

    async def enqueue(self, message: OutboundMessage) -> bool:
        """Store `message` in its own transaction; False when its dedupe key was queued before.

        Never sends: the worker is woken after the commit. A message that cannot be stored
        (no replies, an over-long address …) is a ValueError and nothing is written.
        """
        values = row_values(message, now=self._clock.now())
        async with self._sessions() as session, session.begin():
            await claim_write_lock(session)
            created = await insert_ignore(session, [values]) > 0
        if created:
            self.wake()
        return created

    async def enqueue_many(self, messages: Sequence[OutboundMessage]) -> set[str]:
        """Store every message not queued before (by dedupe key), in one transaction; the
        dedupe keys that were new. Wakes the worker when any was."""
        if not messages:
            return set()
        now = self._clock.now()
        rows = [row_values(message, now=now) for message in messages]
        async with self._sessions() as session, session.begin():
            await claim_write_lock(session)
            new = await insert_new(session, rows)
        if new:
            self.wake()
        return new

    async def waiting(self, kinds: Sequence[str]) -> builtins.list[tuple[int, str]]:
        """(id, dedupe key) of the rows of these kinds not sent yet."""
        async with self._sessions() as session:
            return await waiting_rows(session, kinds)

    async def withdraw(self, ids: Sequence[int], *, reason: str) -> None:
        """Never send these rows (they are stale): recorded as suppressed with `reason`."""
        async with self._sessions() as session, session.begin():
            await claim_write_lock(session)
            await withdraw_rows(session, ids, reason=reason, now=self._clock.now())

    async def enqueue_message(self, message: OutboundMessage) -> bool:
        """The older name of `enqueue`, kept while callers move over."""
        return await self.enqueue(message)

    def store(
        self, connection: Connection, messages: Sequence[OutboundMessage], *, now: datetime
    ) -> None:
        """Insert-ignore `messages` in the caller's transaction; call `wake()` after commit.

        Validates every message before writing any, so a bad one changes nothing.
        """
        rows = [row_values(message, now=now) for message in messages]
        insert_ignore_on(connection, rows)

    def withdraw_on(
        self, connection: Connection, keys: Sequence[str], *, reason: str, now: datetime
    ) -> None:
        """Never send the waiting rows with these dedupe keys (a reminder of a visit the
        customer moved or cancelled), in the caller's transaction; sent ones stay as they are."""
        withdraw_keys_on(connection, keys, reason=reason, now=now)

    def row_values(self, message: OutboundMessage, *, now: datetime) -> dict[str, Any]:
        """The row `store` writes for `message` (a turn's one-statement answer queues it)."""
        return row_values(message, now=now)

    def wake(self) -> None:
        """Tell this process's worker there is work; returns at once."""
        self._work.set()

    async def wait_for_work(self, seconds: float) -> None:
        """Until `wake()` is called or `seconds` pass (the worker's poll)."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._work.wait()
        self._work.clear()

    async def deliver_due(self, now: datetime | None = None) -> int:
        """Deliver one batch of due rows (the worker's step); how many rows it handled."""
        return await self._delivery.deliver_due(now)

    async def flush(self, *, seconds: float = 10.0) -> int:
        """Deliver what is due now, batch after batch, for at most `seconds`.

        For short-lived processes (`billbot chat`) at exit; failures are logged, not raised.
        Rows waiting for a later retry stay for the next worker.
        """
        handled = 0
        try:
            async with asyncio.timeout(seconds):
                while (batch := await self.deliver_due()) > 0:
                    handled += batch
        except Exception as error:  # a database gone at exit must not hide the real outcome
            log.warning("outbox: flush stopped (%s)", type(error).__name__)
        return handled

    async def record_status(self, status: DeliveryStatus) -> bool:
        """A provider's status callback: move the row's provider state forward (never back);
        a permanent failure also stops sending to the address. False when nothing changed."""
        now = self._clock.now()
        failed: FailedMessage | None = None
        async with self._sessions() as session, session.begin():
            await claim_write_lock(session)
            row = await by_provider_id(session, status.provider_id)
            if row is None:
                return False
            if status.retryable and row.status == SENT:
                self._send_again(row, status, now)
                return True
            if not moves_forward(row.provider_status, status.state):
                return False
            row.provider_status = status.state
            row.provider_error = (status.error_code or None) and status.error_code[:20]
            row.provider_status_at = status.at or now
            if status.permanent_failure:
                await suppressions.suppress(
                    session, row.channel, row.recipient, reason="unreachable", now=now
                )
                failed = _failed(row)
        if failed is not None:
            await self._delivery.fall_back(failed)
        return True

    def _send_again(self, row: OutboxMessage, status: DeliveryStatus, now: datetime) -> None:
        """The provider failed a sent message for a while (WhatsApp's pair rate): back to the
        queue after a pause, unless it has had its attempts."""
        row.provider_error = (status.error_code or "")[:20] or None
        if self._policy.exhausted(row.attempts):
            row.status, row.provider_status = FAILED, status.state
            row.last_error = f"gave up after {row.attempts} attempts: {status.error_code}"
            return
        row.status, row.provider_status = RETRY, None
        row.next_attempt_at = now + max(self._policy.delay(row.attempts), RETRY_AFTER_FAILURE)
        row.last_error = f"the provider failed it later ({status.error_code})"

    async def list(self, *, limit: int = 50) -> builtins.list[OutboxEntry]:
        """The outbound message log, newest first."""
        async with self._sessions() as session:
            return await newest(session, limit=limit)


def _failed(row: OutboxMessage) -> FailedMessage:
    replies = replies_of(row.replies)
    return FailedMessage(
        row.channel, row.recipient, replies, row.kind, row.dedupe_key, row.account_id
    )
