"""Claim due rows with a lease, send them with no transaction open, record each result alone.

One short transaction claims a batch (and records the sandboxed rows of it at once); each send
runs outside any transaction under a timeout shorter than the lease; each result is written in
its own transaction, guarded by the lease token, so one row's failure never touches another's
and a row recorded sent is never sent again.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import partial
from typing import TypeVar

from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.otp import OneTimeCodes
from bot.outbox import store
from bot.outbox.pacing import Pacing
from bot.outbox.ports import DeliveryError, FailedMessage, Fallback, SendContext, Sender
from bot.outbox.retry import RetryPolicy
from bot.phones import mask
from bot.store import suppressions
from bot.store.sql import Transactions, claim_write_lock
from bot.types import Reply

log = logging.getLogger(__name__)
T = TypeVar("T")
PROVIDER_ID_LENGTH = 128


@dataclass(frozen=True, slots=True)
class DeliveryLimits:
    """How much one claim takes and for how long; a send must end well inside its lease."""

    batch_size: int = 20
    lease: timedelta = timedelta(minutes=2)
    send_timeout_seconds: float = 30.0


@dataclass(frozen=True, slots=True)
class Claim:
    """The rows one claim leased to this worker, under one token."""

    token: str
    rows: tuple[store.ClaimedRow, ...]
    settled: int  # rows recorded without a send: sandboxed or suppressed


class Delivery:
    """The send side of the outbox; `Outbox.deliver_due` is its entry point."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        *,
        senders: Mapping[str, Sender],
        live: bool,
        policy: RetryPolicy,
        limits: DeliveryLimits,
        codes: OneTimeCodes | None = None,
        pacing: Pacing | None = None,
        transactions: Transactions | None = None,
        fallback: Fallback | None = None,
    ) -> None:
        self._sessions = sessions
        self._fallback = fallback
        self._clock = clock
        self._senders = dict(senders) if live else {}
        self._live = live
        self._policy = policy
        self._limits = limits
        self._codes = codes
        self._pacing = pacing or Pacing()
        self._transactions = transactions

    @property
    def live_channels(self) -> frozenset[str]:
        """Channels whose rows are really sent (none in sandbox mode)."""
        return frozenset(self._senders)

    async def deliver_due(self, now: datetime | None = None) -> int:
        """Claim, send and record one batch of due rows; how many rows it settled or tried."""
        now = now or self._clock.now()
        if not await self._read(partial(store.has_due, now=now)):
            return 0
        claim = await self._claim(now)
        # One recipient's rows go in order (a reply before the next); recipients in parallel.
        results = await asyncio.gather(
            *(self._deliver_in_order(rows, claim.token) for rows in _by_recipient(claim.rows)),
            return_exceptions=True,
        )
        for result in results:
            if isinstance(result, BaseException):  # the result could not be recorded
                log.warning("outbox: recording a send failed (%s)", type(result).__name__)
        return claim.settled + len(claim.rows)

    async def _claim(self, now: datetime) -> Claim:
        return await self._write(partial(self._claim_on, now, secrets.token_hex(16)))

    def _claim_on(self, now: datetime, token: str, connection: Connection) -> Claim:
        """One transaction: take due rows, settle the suppressed and sandboxed, lease the rest."""
        claimed = store.due_rows(connection, now, limit=self._limits.batch_size)
        due = _without_suppressed(connection, claimed, now)
        live = _with_windows(connection, [row for row in due if row.channel in self._senders], now)
        sandboxed = _by_channel(row for row in due if row.channel not in self._senders)
        for channel, ids in sandboxed.items():
            store.mark_sandbox(connection, ids, now=now, reason=self._why_sandbox(channel))
        if live:
            until = now + self._limits.lease
            store.lease(connection, [row.id for row in live], token=token, until=until)
        return Claim(token, tuple(live), settled=len(claimed) - len(live))

    async def _read(self, work: Callable[[Connection], T]) -> T:
        if self._transactions is not None:
            return await self._transactions.read(work)
        async with self._sessions() as session:
            return await (await session.connection()).run_sync(work)

    async def _write(self, work: Callable[[Connection], T]) -> T:
        """`work` in one write transaction: the turn's fast runner when there is one."""
        if self._transactions is not None:
            return await self._transactions.write(work)
        async with self._sessions() as session, session.begin():
            await claim_write_lock(session)
            return await (await session.connection()).run_sync(work)

    def _why_sandbox(self, channel: str) -> str | None:
        # In sandbox mode that is the whole story; in live mode the channel has no sender.
        return f"live delivery has no sender for channel {channel!r}" if self._live else None

    async def _deliver_in_order(self, rows: list[store.ClaimedRow], token: str) -> None:
        for row in rows:
            await self._deliver(row, token)

    async def _deliver(self, row: store.ClaimedRow, token: str) -> None:
        sender = self._senders[row.channel]
        await self._pacing.wait(row.channel)
        try:
            async with asyncio.timeout(self._limits.send_timeout_seconds):
                context = SendContext(row.kind, row.dedupe_key, window_open=row.window_open)
                replies = self._filled(row.replies)
                provider_id = await sender.send(row.recipient, replies, context=context)
        except DeliveryError as error:
            if error.unreachable:
                await self._suppress(row, error.reason)
            await self._failed(
                row, token, error.reason, permanent=error.permanent, after=error.retry_after
            )
        except Exception as error:  # ConnectionError, TimeoutError, RuntimeError …: transient
            # Only the type: messages of transport errors can hold URLs with tokens in them.
            await self._failed(row, token, type(error).__name__, permanent=False)
        else:
            await self._sent(row, token, provider_id)

    def _filled(self, replies: tuple[Reply, ...]) -> tuple[Reply, ...]:
        """One-time codes written in at the last moment: never stored (`bot.otp`)."""
        if self._codes is None:
            return replies
        codes = self._codes
        return tuple(replace(reply, text=codes.fill(reply.text)) for reply in replies)

    async def _sent(self, row: store.ClaimedRow, token: str, provider_id: str) -> None:
        now = self._clock.now()
        values = {
            "status": store.SENT,
            "sent_at": now,
            "provider_id": str(provider_id)[:PROVIDER_ID_LENGTH],
            "last_error": None,
        }
        recorded = await self._record(row, token, values)
        log.info(
            "outbox: sent %s #%s on %s to %s%s",
            row.kind,
            row.id,
            row.channel,
            mask(row.recipient),
            "" if recorded else " (lease lost: another worker holds the row)",
        )

    async def _failed(
        self,
        row: store.ClaimedRow,
        token: str,
        reason: str,
        *,
        permanent: bool,
        after: float | None = None,
    ) -> None:
        now = self._clock.now()
        if permanent or self._policy.exhausted(row.attempts):
            note = reason if permanent else f"gave up after {row.attempts} attempts: {reason}"
            values: dict[str, object] = {"status": store.FAILED, "last_error": note}
        else:
            # The provider's own "retry after" (Telegram's 429) wins over the backoff.
            delay = self._policy.delay(row.attempts) if after is None else timedelta(seconds=after)
            retry_at = now + delay
            values = {"status": store.RETRY, "last_error": reason, "next_attempt_at": retry_at}
        if await self._record(row, token, values) and values["status"] == store.FAILED:
            await self._fall_back(row)
        log.warning(
            "outbox: %s #%s on %s to %s, attempt %d: %s → %s",
            row.kind,
            row.id,
            row.channel,
            mask(row.recipient),
            row.attempts,
            reason,
            values["status"],
        )

    async def _fall_back(self, row: store.ClaimedRow) -> None:
        failed = FailedMessage(
            row.channel, row.recipient, row.replies, row.kind, row.dedupe_key, row.account_id
        )
        await self.fall_back(failed)

    async def fall_back(self, failed: FailedMessage) -> None:
        """A message that failed for good goes where the fallback says (once, by its key)."""
        if self._fallback is None:
            return
        message = await self._fallback.instead(failed)
        if message is None:
            return
        rows = [store.row_values(message, now=self._clock.now())]
        await self._write(lambda connection: store.insert_ignore_on(connection, rows))
        log.info("outbox: a failed %s falls back to %s", failed.kind, message.channel)

    async def _suppress(self, row: store.ClaimedRow, reason: str) -> None:
        """The provider says the address cannot receive: stop sending to it (all kinds)."""
        async with self._sessions() as session, session.begin():
            await claim_write_lock(session)
            await suppressions.suppress(
                session, row.channel, row.recipient, reason="unreachable", now=self._clock.now()
            )
        log.warning(
            "outbox: %s on %s cannot receive (%s)", mask(row.recipient), row.channel, reason
        )

    async def _record(self, row: store.ClaimedRow, token: str, values: dict[str, object]) -> bool:
        return await self._write(partial(_record_on, row.id, token, values))


def _by_channel(rows: Iterable[store.ClaimedRow]) -> dict[str, list[int]]:
    grouped: dict[str, list[int]] = {}
    for row in rows:
        grouped.setdefault(row.channel, []).append(row.id)
    return grouped


# Kinds sent even to a suppressed address: the one confirmation of an opt-out (STOP).
SENT_WHEN_SUPPRESSED = frozenset({"opt_out_confirmation"})
SERVICE_WINDOW = timedelta(hours=24)  # WhatsApp's customer-service window


def _without_suppressed(
    connection: Connection, due: list[store.ClaimedRow], now: datetime
) -> list[store.ClaimedRow]:
    """`due` less the rows to addresses that opted out or cannot receive (marked so)."""
    reasons = store.suppressed(connection, (row.id for row in due))
    held = [row for row in due if row.id in reasons and row.kind not in SENT_WHEN_SUPPRESSED]
    for row in held:
        note = f"not sent: the address is {reasons[row.id].replace('_', ' ')}"
        store.mark_suppressed(connection, [row.id], now=now, reason=note)
    return [row for row in due if row not in held]


def _with_windows(
    connection: Connection, rows: list[store.ClaimedRow], now: datetime
) -> list[store.ClaimedRow]:
    """`rows`, each knowing whether its address wrote within the service window."""
    last = store.last_inbound(connection, (row.id for row in rows))
    return [
        replace(row, window_open=row.id in last and now - last[row.id] < SERVICE_WINDOW)
        for row in rows
    ]


def _by_recipient(rows: Iterable[store.ClaimedRow]) -> list[list[store.ClaimedRow]]:
    """The rows per (channel, recipient), oldest first within each."""
    grouped: dict[tuple[str, str], list[store.ClaimedRow]] = {}
    for row in sorted(rows, key=lambda row: row.id):
        grouped.setdefault((row.channel, row.recipient), []).append(row)
    return list(grouped.values())


def _record_on(row_id: int, token: str, values: dict[str, object], connection: Connection) -> bool:
    return store.record_on(connection, row_id, token, values)
