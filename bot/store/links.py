"""`bot_links`: the SQL address book (see `bot.addresses`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.store.models import AddressLink
from bot.store.sql import claim_write_lock, dialect_insert


class SqlAddressBook:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def phone_of(self, channel: str, address: str) -> str | None:
        async with self._sessions() as session:
            return await session.scalar(
                select(AddressLink.msisdn).where(
                    AddressLink.channel == channel, AddressLink.address == address
                )
            )

    async def link(self, channel: str, address: str, msisdn: str, *, now: datetime) -> None:
        values = {"channel": channel, "address": address, "msisdn": msisdn, "linked_at": now}
        async with self._sessions() as session, session.begin():
            await claim_write_lock(session)
            statement = dialect_insert(session, AddressLink).values(**values)
            await session.execute(
                statement.on_conflict_do_update(
                    index_elements=["channel", "address"],
                    set_={"msisdn": msisdn, "linked_at": now},
                )
            )

    async def unlink(self, channel: str, address: str) -> bool:
        async with self._sessions() as session, session.begin():
            await claim_write_lock(session)
            result = await session.execute(
                delete(AddressLink).where(
                    AddressLink.channel == channel, AddressLink.address == address
                )
            )
        return bool(getattr(result, "rowcount", 0))

    async def addresses_of(self, msisdn: str) -> list[tuple[str, str]]:
        async with self._sessions() as session:
            rows = await session.execute(
                select(AddressLink.channel, AddressLink.address)
                .where(AddressLink.msisdn == msisdn)
                .order_by(AddressLink.id)
            )
            return [(row.channel, row.address) for row in rows]
