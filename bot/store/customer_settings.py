"""`bot_customer_settings`: paperless billing (on unless the customer turned it off)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.store.models import CustomerSettings
from bot.store.sql import claim_write_lock, dialect_insert


class CustomerSettingsStore:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def paperless(self, account_id: int) -> bool:
        async with self._sessions() as session:
            row = await session.get(CustomerSettings, account_id)
            return True if row is None else row.paperless

    async def set_paperless(self, account_id: int, paperless: bool, *, now: datetime) -> None:
        values = {"account_id": account_id, "paperless": paperless, "updated_at": now}
        async with self._sessions() as session, session.begin():
            await claim_write_lock(session)
            statement = dialect_insert(session, CustomerSettings).values(**values)
            await session.execute(
                statement.on_conflict_do_update(
                    index_elements=["account_id"], set_={"paperless": paperless, "updated_at": now}
                )
            )
