"""`bot_events`: billing events stored by their id before they are applied (docs/events.md).

A delivery first `receive`s its event: the row is inserted once (insert-ignore on the event
id) and read back, so every delivery of an id sees the same row, whoever inserted it. After
applying it, `finish` records the outcome unless a concurrent delivery recorded one first, and
answers with the outcome that stands. An event the billing core refused is `forget`-ten, so a
later delivery of it starts afresh.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.store.models import BillingEvent
from bot.store.sql import claim_write_lock, insert_ignore


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """An event's row: its body's digest and, once processed, its outcome."""

    event_id: str
    type: str
    body_sha256: str
    outcome: dict[str, Any] | None  # None until processed

    @property
    def processed(self) -> bool:
        return self.outcome is not None


@dataclass(frozen=True, slots=True)
class Finished:
    """The outcome that stands, and whether this delivery's was the one recorded."""

    outcome: dict[str, Any]
    recorded: bool


class EventStore:
    """The `bot_events` rows."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def get(self, event_id: str) -> StoredEvent | None:
        async with self._sessions() as session:
            return _stored(await session.scalar(_by_id(event_id)))

    async def receive(
        self, event_id: str, type_: str, body_sha256: str, *, now: datetime
    ) -> StoredEvent:
        """The event's row, inserted now unless a delivery of the id inserted it before."""
        earlier = await self.get(event_id)
        if earlier is not None:
            return earlier
        values = _row(event_id, type_, body_sha256, now)
        async with self._sessions() as session, session.begin():
            await claim_write_lock(session)
            await insert_ignore(session, BillingEvent, values)
            stored = _stored(await session.scalar(_by_id(event_id)))
        if stored is None:  # pragma: no cover - inserted, or kept by the delivery that won
            raise RuntimeError(f"bot_events lost the row of event {event_id!r}")
        return stored

    async def finish(
        self, event: StoredEvent, outcome: dict[str, Any], *, now: datetime
    ) -> Finished:
        """Record `outcome` unless one was recorded first; the outcome that stands."""
        async with self._sessions() as session, session.begin():
            await claim_write_lock(session)
            if await _record(session, event.event_id, outcome, now):
                return Finished(outcome, recorded=True)
            row = await session.scalar(_by_id(event.event_id))
            if row is not None and row.outcome is not None:
                return Finished(row.outcome, recorded=False)
            # Forgotten meanwhile (a concurrent delivery was refused): store it processed.
            values = _row(event.event_id, event.type, event.body_sha256, now)
            await insert_ignore(session, BillingEvent, values)
            await _record(session, event.event_id, outcome, now)
        return Finished(outcome, recorded=True)

    async def forget(self, event_id: str) -> None:
        """Drop the event's row unless it was processed: a later delivery starts afresh."""
        async with self._sessions() as session, session.begin():
            await claim_write_lock(session)
            await session.execute(
                delete(BillingEvent).where(
                    BillingEvent.event_id == event_id, BillingEvent.processed_at.is_(None)
                )
            )


def _by_id(event_id: str) -> Any:
    return select(BillingEvent).where(BillingEvent.event_id == event_id)


def _row(event_id: str, type_: str, body_sha256: str, now: datetime) -> dict[str, Any]:
    return {"event_id": event_id, "type": type_, "body_sha256": body_sha256, "received_at": now}


async def _record(
    session: AsyncSession, event_id: str, outcome: dict[str, Any], now: datetime
) -> bool:
    """Set the outcome of the still unprocessed row; False when there is none."""
    result = await session.execute(
        update(BillingEvent)
        .where(BillingEvent.event_id == event_id, BillingEvent.processed_at.is_(None))
        .values(processed_at=now, outcome=outcome)
    )
    return bool(getattr(result, "rowcount", 0))


def _stored(row: BillingEvent | None) -> StoredEvent | None:
    if row is None:
        return None
    return StoredEvent(row.event_id, row.type, row.body_sha256, row.outcome)
