"""`bot_links`: the SQL address book (see `bot.addresses`)."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import partial

from sqlalchemy import Connection, Table, bindparam, delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.store import suppressions
from bot.store.models import AddressLink
from bot.store.sql import Transactions, claim_write_lock, dialect_insert
from bot.store.sql import rows as rows_of

_TABLE: Table = AddressLink.__table__  # type: ignore[assignment]
_PHONE_OF = select(_TABLE.c.msisdn).where(
    _TABLE.c.channel == bindparam("l_channel"), _TABLE.c.address == bindparam("l_address")
)
# The same for the sender of the message a turn claims (the claim's own parameters).
PHONE_OF_SENDER = (
    select(_TABLE.c.msisdn)
    .where(_TABLE.c.channel == bindparam("c_channel"), _TABLE.c.address == bindparam("c_sender"))
    .scalar_subquery()
)


class SqlAddressBook:
    """`phone_of` (every message of an unlinked-by-number channel asks it) runs on the turn's
    fast runner; the rest on ORM sessions."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], transactions: Transactions
    ) -> None:
        self._sessions = sessions
        self._transactions = transactions

    async def phone_of(self, channel: str, address: str) -> str | None:
        return await self._transactions.read(partial(_phone_of, channel, address))

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

    async def reachable(self, channel: str, address: str) -> bool:
        reason = await self._transactions.read(partial(_suppressed, channel, address))
        return reason is None

    async def addresses_of(self, msisdn: str) -> list[tuple[str, str]]:
        async with self._sessions() as session:
            rows = await session.execute(
                select(AddressLink.channel, AddressLink.address)
                .where(AddressLink.msisdn == msisdn)
                .order_by(AddressLink.id)
            )
            return [(row.channel, row.address) for row in rows]

    async def linked_at(self, channel: str, address: str) -> datetime | None:
        async with self._sessions() as session:
            at = await session.scalar(
                select(AddressLink.linked_at).where(
                    AddressLink.channel == channel, AddressLink.address == address
                )
            )
        # SQLite hands timestamps back without their zone; they were written in UTC.
        return at.replace(tzinfo=UTC) if at is not None and at.tzinfo is None else at


def phone_of_on(connection: Connection, channel: str, address: str) -> str | None:
    """The number the address is linked to, inside a transaction the caller runs."""
    return _phone_of(channel, address, connection)


def _phone_of(channel: str, address: str, connection: Connection) -> str | None:
    rows = rows_of(connection, _PHONE_OF, {"l_channel": channel, "l_address": address})
    return str(rows[0].msisdn) if rows else None


def _suppressed(channel: str, address: str, connection: Connection) -> str | None:
    return suppressions.reason_on(connection, channel, address)
