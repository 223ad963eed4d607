"""`bot_provider_events`: payment-provider webhook events by id, so a replay does nothing."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.store.models import ProviderEvent
from bot.store.sql import claim_write_lock, insert_ignore


class ProviderEvents:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def receive(self, provider: str, event_id: str, type_: str, *, now: datetime) -> bool:
        """Store the event first: True when it is new (then apply it), False for a replay."""
        values = {
            "provider": provider,
            "event_id": event_id[:200],
            "type": type_[:80],
            "received_at": now,
        }
        async with self._sessions() as session, session.begin():
            await claim_write_lock(session)
            return await insert_ignore(session, ProviderEvent, values)

    async def processed(self, provider: str, event_id: str, *, now: datetime) -> None:
        async with self._sessions() as session, session.begin():
            await session.execute(
                update(ProviderEvent)
                .where(
                    ProviderEvent.provider == provider, ProviderEvent.event_id == event_id[:200]
                )
                .values(processed_at=now)
            )

    async def forget(self, provider: str, event_id: str) -> None:
        """Applying it failed: drop the row so the provider's retry applies it again."""
        async with self._sessions() as session, session.begin():
            await session.execute(
                delete(ProviderEvent).where(
                    ProviderEvent.provider == provider, ProviderEvent.event_id == event_id[:200]
                )
            )
