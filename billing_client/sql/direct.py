"""A turn's hot statements run straight on asyncpg, compiled once (PostgreSQL only).

Running a statement SQLAlchemy has compiled and cached before still costs about as much CPU
as the network round trip (an execution context, parameter processing, a cursor emulated over
asyncpg, result metadata): ≈ 75 µs a statement on the development VM, a third of a "balance"
message's CPU on PostgreSQL (docs/benchmarks.md). `DirectStatements` compiles each Core
statement once, for the engine's dialect, into its SQL text, the order of its parameters,
their defaults and bind processors; a call turns the values into arguments and runs them with
`asyncpg.Connection.fetch` on the connection SQLAlchemy checked out, from inside the same
greenlet (`run_sync`), so nothing else changes: the same pool, the same connection, the same
prepared-statement cache on the server.

Only in autocommit mode: SQLAlchemy's asyncpg adapter begins a transaction lazily, on its own
first statement, so a statement sent around it there would run outside the transaction. Inside
a transaction the statement goes through SQLAlchemy as usual. Errors are raised as the
SQLAlchemy exceptions the rest of billbot maps (`OperationalError` for a lost connection or a
cancelled query, which the engine treats as transient; `DatabaseError` otherwise), and a
connection that failed is invalidated, as SQLAlchemy would.

Rows read like SQLAlchemy's: attributes by column name or label, `row._mapping[name]`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
from sqlalchemy import Connection, exc
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import Executable
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.util import concurrency

await_ = getattr(concurrency, "await_", None) or concurrency.await_only
Observer = Callable[[str], None]  # told each SQL text run directly (the bench counts them)
# The execution option that carries `DirectStatements.rows` on a connection in autocommit mode;
# `bot.store.sql.rows` reads the same name.
OPTION = "billbot_direct_rows"
_LOST = (OSError, TimeoutError, asyncpg.InterfaceError, asyncpg.InternalClientError)
# The server ended the session: admin shutdown, crash shutdown, cannot connect now.
_SERVER_GONE = ("57P01", "57P02", "57P03")
# SQLSTATE classes that say "not now": connection exceptions, insufficient resources,
# operator intervention (admin shutdown, cancelled query), and a transaction to roll back.
_TRANSIENT_CLASSES = ("08", "40", "53", "57")


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    names: tuple[str, ...]  # parameter names in positional order ($1, $2, …)
    defaults: Mapping[str, Any]  # literal values and defaults bound in the statement
    processors: Mapping[str, Callable[[Any], Any]]  # bind processors by parameter name

    def arguments(self, values: Mapping[str, Any]) -> list[Any]:
        args = []
        for name in self.names:
            value = values[name] if name in values else self.defaults[name]
            process = self.processors.get(name)
            args.append(process(value) if process is not None else value)
        return args


class DirectRow:
    """One row, read like a SQLAlchemy `Row`: `row.name`, `row._mapping["name"]`, `row[0]`."""

    __slots__ = ("_record",)

    def __init__(self, record: Any) -> None:
        self._record = record

    def __getattr__(self, name: str) -> Any:
        try:
            return self._record[name]
        except KeyError:
            raise AttributeError(name) from None

    def __getitem__(self, index: int) -> Any:
        return self._record[index]

    def __iter__(self) -> Iterator[Any]:
        return iter(self._record.values())

    @property
    def _mapping(self) -> Mapping[str, Any]:
        return self._record  # type: ignore[no-any-return]


class DirectStatements:
    """Runs statements on the asyncpg connection under a SQLAlchemy `Connection` (see above)."""

    def __init__(self, dialect: Dialect) -> None:
        self._dialect = dialect
        self._compiled: dict[int, tuple[Executable, _Compiled]] = {}
        self.observers: list[Observer] = []

    def rows(
        self, connection: Connection, statement: Executable, values: Mapping[str, Any]
    ) -> Sequence[Any]:
        """Every row `statement` returns; through SQLAlchemy when a transaction is open."""
        driver = _autocommit_driver(connection)
        if driver is None:
            return connection.execute(statement, dict(values)).all()
        compiled = self._compile(statement)
        args = compiled.arguments(values)
        for observe in self.observers:
            observe(compiled.sql)
        try:
            records = await_(driver.fetch(compiled.sql, *args))
        except Exception as error:
            raise _translated(error, connection, compiled.sql, args) from error
        return [DirectRow(record) for record in records]

    def _compile(self, statement: Executable) -> _Compiled:
        # Keyed by identity: statements are module constants built once, kept alive here.
        found = self._compiled.get(id(statement))
        if found is not None and found[0] is statement:
            return found[1]
        compiled = _compile(statement, self._dialect)
        self._compiled[id(statement)] = (statement, compiled)
        return compiled


def rows(
    connection: Connection, statement: Executable, values: Mapping[str, Any]
) -> Sequence[Any]:
    """Every row of `statement`: directly where the connection carries `OPTION`, else through
    SQLAlchemy (SQLite, and any transaction)."""
    direct = connection.get_execution_options().get(OPTION)
    if direct is not None:
        return direct(connection, statement, values)  # type: ignore[no-any-return]
    return connection.execute(statement, dict(values)).all()


def _compile(statement: Executable, dialect: Dialect) -> _Compiled:
    compiled = statement.compile(dialect=dialect)  # type: ignore[attr-defined]
    if not isinstance(compiled, SQLCompiler) or compiled.positiontup is None:
        raise TypeError(f"not a positional SQL statement: {statement!r}")
    binds = compiled.binds
    processors = {}
    for name, bind in binds.items():
        process = bind.type.dialect_impl(dialect).bind_processor(dialect)
        if process is not None:
            processors[name] = process
    defaults = {name: bind.effective_value for name, bind in binds.items()}
    return _Compiled(compiled.string, tuple(compiled.positiontup), defaults, processors)


def _autocommit_driver(connection: Connection) -> Any | None:
    """The asyncpg connection under `connection` when it runs in autocommit mode, else None."""
    adapted = connection.connection.dbapi_connection
    if adapted is None or not getattr(adapted, "autocommit", False):
        return None
    return connection.connection.driver_connection


def _translated(
    error: Exception, connection: Connection, sql: str, args: list[Any]
) -> exc.DBAPIError:
    """The SQLAlchemy exception for an asyncpg failure; a broken connection is invalidated."""
    sqlstate = str(getattr(error, "sqlstate", "") or "")
    lost = isinstance(error, _LOST) or sqlstate[:2] == "08" or sqlstate in _SERVER_GONE
    if lost:
        connection.invalidate(error)
    if lost or sqlstate[:2] in _TRANSIENT_CLASSES:
        return exc.OperationalError(sql, args, error, connection_invalidated=lost)
    return exc.DatabaseError(sql, args, error)
