"""The outbox: every message sent outside an immediate reply is stored first, then delivered.

One path delivers: `deliver_pending()`, run right after enqueueing and by the scheduler for
retries. In sandbox mode (the default, and for channels without credentials) messages are
recorded as "sandbox" and not sent, so `billbot messages` shows what would have gone out.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.phones import mask
from bot.store.models import OutboxMessage
from bot.store.sql import claim_write_lock, insert_ignore
from bot.types import OutboundMessage

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 5


class DeliveryError(Exception):
    """A provider refused or failed a send; `permanent` ones are not retried."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class Sender(Protocol):
    async def send(self, recipient: str, body: str, payload: Mapping[str, Any]) -> str:
        """Send one message; returns the provider's message id."""
        ...


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    id: int
    channel: str
    recipient: str
    kind: str
    body: str
    status: str
    attempts: int
    created_at: datetime
    sent_at: datetime | None
    last_error: str | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "channel": self.channel,
            "recipient": self.recipient,
            "kind": self.kind,
            "body": self.body,
            "status": self.status,
            "attempts": self.attempts,
            "created_at": self.created_at.isoformat(),
            "sent_at": self.sent_at.isoformat() if self.sent_at else None,
            "last_error": self.last_error,
        }


class Outbox:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        *,
        senders: Mapping[str, Sender] | None = None,
        live: bool = False,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._senders = dict(senders or {})
        self._live = live

    async def enqueue(
        self,
        *,
        channel: str,
        recipient: str,
        body: str,
        kind: str,
        dedupe_key: str,
        payload: Mapping[str, Any] | None = None,
    ) -> bool:
        """Store a message for delivery; False when `dedupe_key` was already queued."""
        values = {
            "channel": channel,
            "recipient": recipient,
            "body": body,
            "payload": dict(payload or {}),
            "kind": kind,
            "dedupe_key": dedupe_key,
            "status": "queued",
            "attempts": 0,
            "created_at": self._clock.now(),
        }
        async with self._sessions() as session, session.begin():
            created = await insert_ignore(session, OutboxMessage, values)
        if created:
            await self.deliver_pending()
        return created

    async def enqueue_message(self, message: OutboundMessage) -> bool:
        """Store a neutral outbound message (its replies' texts, for now)."""
        return await self.enqueue(
            channel=message.channel,
            recipient=message.address,
            body="\n".join(reply.text for reply in message.replies),
            kind=message.kind,
            dedupe_key=message.dedupe_key,
        )

    async def deliver_pending(self, *, limit: int = 100) -> int:
        """Deliver queued messages; returns how many were handled."""
        async with self._sessions() as session, session.begin():
            await claim_write_lock(session)
            query = (
                select(OutboxMessage)
                .where(OutboxMessage.status == "queued")
                .order_by(OutboxMessage.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
            rows = list((await session.scalars(query)).all())
            for row in rows:
                await self._deliver(row)
        return len(rows)

    async def list(self, *, limit: int = 50) -> list[OutboxEntry]:
        """Newest first."""
        async with self._sessions() as session:
            query = select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)
            rows = (await session.scalars(query)).all()
        return [_entry(row) for row in rows]

    async def _deliver(self, row: OutboxMessage) -> None:
        sender = self._senders.get(row.channel)
        if not self._live or sender is None:
            row.status = "sandbox"
            row.sent_at = self._clock.now()
            return
        row.attempts += 1
        try:
            row.provider_id = await sender.send(row.recipient, row.body, row.payload)
        except DeliveryError as error:
            row.last_error = str(error)
            if error.permanent or row.attempts >= MAX_ATTEMPTS:
                row.status = "failed"
            log.warning("send to %s failed: %s", mask(row.recipient), error)
            return
        row.status, row.sent_at = "sent", self._clock.now()


def _entry(row: OutboxMessage) -> OutboxEntry:
    return OutboxEntry(
        id=row.id,
        channel=row.channel,
        recipient=row.recipient,
        kind=row.kind,
        body=row.body,
        status=row.status,
        attempts=row.attempts,
        created_at=row.created_at,
        sent_at=row.sent_at,
        last_error=row.last_error,
    )
