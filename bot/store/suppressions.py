"""Addresses nothing is sent to (`bot_suppressions`): opted out, blocked the bot, unreachable.

Written by compliance keywords (STOP → `opted_out`), by the outbox when a provider says the
address cannot receive (`blocked`, `unreachable`), and by status callbacks. Read by the outbox
before every send. `opted_out` is lifted only by an opt-in keyword; the others are lifted as
soon as the customer writes from the address again. Plain functions over a `Connection`
(`Transactions`), and `suppress` for callers holding an ORM session.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Connection, Table, bindparam, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.models import Suppression
from bot.store.sql import dialect_insert, dialect_inserts, rows

Reason = Literal["opted_out", "blocked", "unreachable"]
OPTED_OUT: Reason = "opted_out"
LIFTED_BY_WRITING: tuple[Reason, ...] = ("blocked", "unreachable")

_TABLE: Table = Suppression.__table__  # type: ignore[assignment]
_REASON = select(_TABLE.c.reason).where(
    _TABLE.c.channel == bindparam("s_channel"), _TABLE.c.address == bindparam("s_address")
)
# The same for the sender of the message a turn claims (the claim's own parameters).
REASON_OF_SENDER = (
    select(_TABLE.c.reason)
    .where(_TABLE.c.channel == bindparam("c_channel"), _TABLE.c.address == bindparam("c_sender"))
    .scalar_subquery()
)


async def suppress(
    session: AsyncSession, channel: str, address: str, *, reason: Reason, now: datetime
) -> None:
    """Stop sending to the address. An opt-out overrides a softer reason already recorded."""
    values = {"channel": channel, "address": address, "reason": reason, "created_at": now}
    await session.execute(_upsert(dialect_insert(session, Suppression).values(**values), reason))


def suppress_on(
    connection: Connection, channel: str, address: str, *, reason: Reason, now: datetime
) -> None:
    """`suppress` inside a plain transaction."""
    insert = dialect_inserts(_TABLE)[connection.dialect.name]
    values = {"channel": channel, "address": address, "reason": reason, "created_at": now}
    connection.execute(_upsert(insert.values(**values), reason))


def lift_on(
    connection: Connection, channel: str, address: str, *, reasons: Iterable[Reason]
) -> bool:
    """Send to the address again if it was suppressed for one of `reasons`; True if it was."""
    result = connection.execute(
        delete(_TABLE).where(
            _TABLE.c.channel == channel,
            _TABLE.c.address == address,
            _TABLE.c.reason.in_(list(reasons)),
        )
    )
    return bool(result.rowcount)


def reason_on(connection: Connection, channel: str, address: str) -> Reason | None:
    """Why the address is suppressed, or None."""
    found = rows(connection, _REASON, {"s_channel": channel, "s_address": address})
    return found[0].reason if found else None


def _upsert(insert: Any, reason: Reason) -> Any:
    if reason == OPTED_OUT:
        return insert.on_conflict_do_update(
            index_elements=["channel", "address"], set_={"reason": reason}
        )
    return insert.on_conflict_do_nothing()
