"""Inbound rows: every accepted message, stored before it is acted on, with its answer.

A row is `received` while a worker holds its lease (or after that worker died), then
`handled`, `failed` (answered with an apology, final) or `retry` (a transient failure was
answered; the same message sent again is handled again). Only `bot.store.turns` and the
recovery sweep call these.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.conversations import aware
from bot.store.models import InboundRecord
from bot.store.sql import dialect_insert
from bot.types import InboundMessage, Reply

RECEIVED, HANDLED, FAILED, RETRY = "received", "handled", "failed", "retry"
FINAL = frozenset({HANDLED, FAILED})


@dataclass(frozen=True, slots=True)
class StoredInbound:
    """What a worker needs to know about a message someone stored before."""

    id: int
    status: str
    lease_token: str | None
    leased_until: datetime | None
    replies: tuple[Reply, ...]
    text: str

    def answered(self) -> bool:
        return self.status in FINAL

    def held(self, lease_now: datetime) -> bool:
        """Another live worker is answering it right now."""
        until = self.leased_until
        return self.status == RECEIVED and until is not None and aware(until) > lease_now


async def insert(
    session: AsyncSession,
    message: InboundMessage,
    *,
    text: str,
    token: str,
    lease_until: datetime,
) -> int | None:
    """Store the message leased to us; its id, or None when it was stored before."""
    values: dict[str, Any] = {
        "channel": message.channel,
        "external_id": message.external_id,
        "sender": message.sender,
        "as_phone": message.as_phone,
        "text": text,
        "received_at": message.received_at,
        "status": RECEIVED,
        "replies": [],
        "lease_token": token,
        "leased_until": lease_until,
        "attempts": 1,
    }
    statement = dialect_insert(session, InboundRecord).values(**values).on_conflict_do_nothing()
    inserted = await session.execute(statement.returning(InboundRecord.id))
    return inserted.scalar()


async def find(session: AsyncSession, message: InboundMessage) -> StoredInbound | None:
    row = (
        await session.execute(
            select(
                InboundRecord.id,
                InboundRecord.status,
                InboundRecord.lease_token,
                InboundRecord.leased_until,
                InboundRecord.replies,
                InboundRecord.text,
            ).where(
                InboundRecord.channel == message.channel,
                InboundRecord.external_id == message.external_id,
            )
        )
    ).first()
    if row is None:
        return None
    replies = tuple(Reply.from_dict(item) for item in row.replies or [])
    return StoredInbound(row.id, row.status, row.lease_token, row.leased_until, replies, row.text)


async def take_over(
    session: AsyncSession,
    row_id: int,
    *,
    token: str,
    lease_until: datetime,
    lease_now: datetime,
) -> bool:
    """Lease a row nobody is answering (its worker died, or it is to be retried)."""
    orphaned = and_(
        InboundRecord.status == RECEIVED,
        or_(InboundRecord.leased_until.is_(None), InboundRecord.leased_until < lease_now),
    )
    result = await session.execute(
        update(InboundRecord)
        .where(InboundRecord.id == row_id, or_(orphaned, InboundRecord.status == RETRY))
        .values(
            status=RECEIVED,
            lease_token=token,
            leased_until=lease_until,
            attempts=InboundRecord.attempts + 1,
        )
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def renew(session: AsyncSession, row_id: int, *, token: str, lease_until: datetime) -> bool:
    """Extend our own lease (after waiting for a busy conversation)."""
    result = await session.execute(
        update(InboundRecord)
        .where(InboundRecord.id == row_id, InboundRecord.lease_token == token)
        .values(leased_until=lease_until)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def finish(
    session: AsyncSession,
    row_id: int,
    *,
    token: str,
    status: str,
    replies: list[Reply],
    intent: str | None,
    account_id: int | None,
    now: datetime,
) -> bool:
    """Record the answer and return the lease; False when the lease was lost."""
    result = await session.execute(
        update(InboundRecord)
        .where(InboundRecord.id == row_id, InboundRecord.lease_token == token)
        .values(
            status=status,
            replies=[reply.as_dict() for reply in replies],
            intent=intent,
            account_id=account_id,
            handled_at=now,
            lease_token=None,
            leased_until=None,
        )
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def orphans(
    session: AsyncSession, *, lease_now: datetime, limit: int
) -> list[InboundMessage]:
    """Messages accepted but never answered: `received`, and nobody holds their lease."""
    rows = await session.execute(
        select(
            InboundRecord.channel,
            InboundRecord.sender,
            InboundRecord.text,
            InboundRecord.external_id,
            InboundRecord.received_at,
            InboundRecord.as_phone,
        )
        .where(
            InboundRecord.status == RECEIVED,
            or_(InboundRecord.leased_until.is_(None), InboundRecord.leased_until < lease_now),
        )
        .order_by(InboundRecord.id)
        .limit(limit)
    )
    return [
        InboundMessage(
            channel=row.channel,
            sender=row.sender,
            text=row.text,
            external_id=row.external_id,
            received_at=aware(row.received_at),
            as_phone=row.as_phone,
        )
        for row in rows
    ]
