"""Named leases in the database (`bot_leases`): one holder at a time, passed on when it dies.

The scheduler runs its jobs only while it holds the `scheduler` lease, so any number of
`billbot serve` and `billbot scheduler` processes may run and each job still runs in one of
them. A holder renews well before the lease runs out; a holder that dies (kill -9, a lost host)
stops renewing, and the next process to ask after the lease ran out takes it over. Works the
same on SQLite and PostgreSQL: one conditional UPDATE (and an INSERT the first time).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Connection, Table, bindparam, or_, update

from bot.store.models import Lease
from bot.store.sql import dialect_inserts

_TABLE: Table = Lease.__table__  # type: ignore[assignment]
_C = _TABLE.c
_TAKE = (
    update(_TABLE)
    .where(
        _C.name == bindparam("l_name"),
        or_(_C.holder == bindparam("l_holder"), _C.expires_at <= bindparam("l_now")),
    )
    .values(holder=bindparam("l_holder"), expires_at=bindparam("l_until"))
)
_FIRST = {
    dialect: insert.on_conflict_do_nothing() for dialect, insert in dialect_inserts(_TABLE).items()
}
_RELEASE = (
    update(_TABLE)
    .where(_C.name == bindparam("l_name"), _C.holder == bindparam("l_holder"))
    .values(expires_at=bindparam("l_now"))
)


def take(
    connection: Connection, name: str, holder: str, *, now: datetime, duration: timedelta
) -> bool:
    """Take or renew the lease for `holder`; False while someone else holds it."""
    values = {"l_name": name, "l_holder": holder, "l_now": now, "l_until": now + duration}
    if connection.execute(_TAKE, values).rowcount:
        return True
    row = {"name": name, "holder": holder, "expires_at": now + duration}
    return bool(connection.execute(_FIRST[connection.dialect.name], row).rowcount)


def release(connection: Connection, name: str, holder: str, *, now: datetime) -> None:
    """Give the lease up at once (a clean shutdown), if `holder` has it."""
    connection.execute(_RELEASE, {"l_name": name, "l_holder": holder, "l_now": now})
