"""Dialect-aware SQL helpers for the bot's tables."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol, TypeVar

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.sql import Executable

T = TypeVar("T")

# The execution option billing_client.sql.database's SQLite "begin" listener reads to start a
# transaction with BEGIN IMMEDIATE (other backends ignore it). Spelled here, not imported:
# nothing in bot/ but the composition root imports the concrete SQL adapter.
WRITE_INTENT = {"sqlite_begin": "IMMEDIATE"}


class Transactions(Protocol):
    """Runs one transaction as one plain function over a `Connection` (the turn's hot path).

    The composition root provides it (`billing_client.sql.transactions.Transactions`).
    """

    async def read(self, work: Callable[[Connection], T]) -> T: ...

    async def write(self, work: Callable[[Connection], T]) -> T: ...

    async def steps(self, work: Callable[[Connection], T]) -> T:
        """Like `write`, but each statement may commit by itself (fewer round trips)."""
        ...

    def pinned(self) -> AbstractAsyncContextManager[None]: ...

    def close(self) -> None: ...


# The execution option on which the composition root's runner hands a connection in autocommit
# mode a faster way to run statements (`billing_client.sql.direct`); spelled here, not imported.
DIRECT_OPTION = "billbot_direct_rows"


def rows(
    connection: Connection, statement: Executable, values: Mapping[str, Any]
) -> Sequence[Any]:
    """Every row of `statement`: straight through the driver where the runner offers that
    (PostgreSQL in autocommit mode), else through SQLAlchemy."""
    direct = connection.get_execution_options().get(DIRECT_OPTION)
    if direct is not None:
        return direct(connection, statement, values)  # type: ignore[no-any-return]
    return connection.execute(statement, dict(values)).all()


def dialect_inserts(table: Table) -> dict[str, Any]:
    """`table`'s INSERT for each dialect billbot runs on (they know ON CONFLICT, RETURNING)."""
    return {"sqlite": sqlite.insert(table), "postgresql": postgresql.insert(table)}


def dialect_insert(session: AsyncSession, model: type[DeclarativeBase]) -> Any:
    """The session's dialect's INSERT for `model` (it knows ON CONFLICT and RETURNING)."""
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    return (postgresql if dialect == "postgresql" else sqlite).insert(model)


async def insert_ignore(
    session: AsyncSession, model: type[DeclarativeBase], values: dict[str, Any]
) -> bool:
    """INSERT … ON CONFLICT DO NOTHING; True when a row was inserted."""
    statement = dialect_insert(session, model).values(**values).on_conflict_do_nothing()
    result = await session.execute(statement)
    return bool(getattr(result, "rowcount", 0))


async def claim_write_lock(session: AsyncSession) -> None:
    """Start the session's transaction as a writer (SQLite: BEGIN IMMEDIATE).

    A SQLite transaction that reads first and writes later cannot wait for another writer: it
    fails at once with "database is locked". Taking the write lock up front makes it wait.
    """
    await session.connection(execution_options=WRITE_INTENT)
