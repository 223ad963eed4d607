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
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.outbox import store
from bot.outbox.ports import DeliveryError, SendContext, Sender
from bot.outbox.retry import RetryPolicy
from bot.phones import mask
from bot.store.sql import claim_write_lock

log = logging.getLogger(__name__)
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
    sandboxed: int


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
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._senders = dict(senders) if live else {}
        self._live = live
        self._policy = policy
        self._limits = limits

    @property
    def live_channels(self) -> frozenset[str]:
        """Channels whose rows are really sent (none in sandbox mode)."""
        return frozenset(self._senders)

    async def deliver_due(self, now: datetime | None = None) -> int:
        """Claim, send and record one batch of due rows; how many rows it settled or tried."""
        now = now or self._clock.now()
        async with self._sessions() as session:
            if not await store.has_due(session, now):
                return 0
        claim = await self._claim(now)
        results = await asyncio.gather(
            *(self._deliver(row, claim.token) for row in claim.rows), return_exceptions=True
        )
        for result in results:
            if isinstance(result, BaseException):  # the result could not be recorded
                log.warning("outbox: recording a send failed (%s)", type(result).__name__)
        return claim.sandboxed + len(claim.rows)

    async def _claim(self, now: datetime) -> Claim:
        token = secrets.token_hex(16)
        async with self._sessions() as session, session.begin():
            await claim_write_lock(session)
            due = await store.due_rows(session, now, limit=self._limits.batch_size)
            live = [row for row in due if row.channel in self._senders]
            sandboxed = _by_channel(row for row in due if row.channel not in self._senders)
            for channel, ids in sandboxed.items():
                reason = self._why_sandbox(channel)
                await store.mark_sandbox(session, ids, now=now, reason=reason)
            if live:
                until = now + self._limits.lease
                await store.lease(session, [row.id for row in live], token=token, until=until)
        return Claim(token, tuple(live), sum(len(ids) for ids in sandboxed.values()))

    def _why_sandbox(self, channel: str) -> str | None:
        # In sandbox mode that is the whole story; in live mode the channel has no sender.
        return f"live delivery has no sender for channel {channel!r}" if self._live else None

    async def _deliver(self, row: store.ClaimedRow, token: str) -> None:
        sender = self._senders[row.channel]
        try:
            async with asyncio.timeout(self._limits.send_timeout_seconds):
                context = SendContext(kind=row.kind, idempotency_key=row.dedupe_key)
                provider_id = await sender.send(row.recipient, row.replies, context=context)
        except DeliveryError as error:
            await self._failed(row, token, error.reason, permanent=error.permanent)
        except Exception as error:  # ConnectionError, TimeoutError, RuntimeError …: transient
            # Only the type: messages of transport errors can hold URLs with tokens in them.
            await self._failed(row, token, type(error).__name__, permanent=False)
        else:
            await self._sent(row, token, provider_id)

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
        self, row: store.ClaimedRow, token: str, reason: str, *, permanent: bool
    ) -> None:
        now = self._clock.now()
        if permanent or self._policy.exhausted(row.attempts):
            note = reason if permanent else f"gave up after {row.attempts} attempts: {reason}"
            values: dict[str, object] = {"status": store.FAILED, "last_error": note}
        else:
            retry_at = now + self._policy.delay(row.attempts)
            values = {"status": store.RETRY, "last_error": reason, "next_attempt_at": retry_at}
        await self._record(row, token, values)
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

    async def _record(self, row: store.ClaimedRow, token: str, values: dict[str, object]) -> bool:
        async with self._sessions() as session, session.begin():
            await claim_write_lock(session)
            return await store.record(session, row.id, token, **values)


def _by_channel(rows: Iterable[store.ClaimedRow]) -> dict[str, list[int]]:
    grouped: dict[str, list[int]] = {}
    for row in rows:
        grouped.setdefault(row.channel, []).append(row.id)
    return grouped
