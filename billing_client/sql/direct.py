"""A turn's hot statements run straight on the driver, compiled once.

Running a statement SQLAlchemy has compiled and cached before still costs about as much CPU
as the network round trip (an execution context, parameter processing, a cursor emulated over
the driver, result metadata): ≈ 75 µs a statement on the development VM, a third of a
"balance" message's CPU on PostgreSQL (docs/benchmarks.md). `DirectStatements` compiles each
Core statement once, for the engine's dialect, into its SQL text, the order of its parameters,
their defaults and bind processors (and, for SQLite, the result columns' processors); a call
turns the values into arguments and runs them on the driver connection SQLAlchemy checked out,
so nothing else changes: the same pool, the same connection, the same prepared statements.

- **PostgreSQL**: `asyncpg.Connection.fetch` from inside the same greenlet (`run_sync`), only
  in autocommit mode: SQLAlchemy's asyncpg adapter begins a transaction lazily, on its own first
  statement, so a statement sent around it there would run outside the transaction. Inside a
  transaction the statement goes through SQLAlchemy as usual.
- **SQLite**: SELECTs of the turn's reads (the runner offers this only on its read
  connections, which send no BEGIN) run on the sqlite3 connection; values come back through
  the column types' own result processors (dates, JSON), as SQLAlchemy would return them.

Errors are raised as the SQLAlchemy exceptions the rest of billbot maps (`OperationalError`
for a lost connection, a cancelled query or a locked SQLite database, which the engine treats
as transient; `DatabaseError` otherwise), and a connection that failed is invalidated, as
SQLAlchemy would.

Rows read like SQLAlchemy's: attributes by column name or label, `row._mapping[name]`,
`row[index]`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from sqlalchemy import Connection, exc
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import Executable, Select
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
    names: tuple[str, ...]  # parameter names in positional order ($1, $2, … or ?, ?, …)
    defaults: Mapping[str, Any]  # literal values and defaults bound in the statement
    processors: Mapping[str, Callable[[Any], Any]]  # bind processors by parameter name
    # SQLite only (asyncpg decodes by itself): the result columns and their processors.
    columns: Mapping[str, int] = field(default_factory=dict)
    results: tuple[Callable[[Any], Any] | None, ...] = ()

    def row(self, values: Sequence[Any]) -> DirectRow:
        processed = [
            value if process is None or value is None else process(value)
            for value, process in zip(values, self.results, strict=True)
        ]
        return DirectRow(_Record(self.columns, processed))

    def arguments(self, values: Mapping[str, Any]) -> list[Any]:
        args = []
        for name in self.names:
            value = values[name] if name in values else self.defaults[name]
            process = self.processors.get(name)
            args.append(process(value) if process is not None else value)
        return args


class _Record(Mapping[str, Any]):
    """A SQLite row as asyncpg's Record reads: by column name or by position."""

    __slots__ = ("_index", "_values")

    def __init__(self, index: Mapping[str, int], values: list[Any]) -> None:
        self._index, self._values = index, values

    def __getitem__(self, key: str | int) -> Any:
        return self._values[key] if isinstance(key, int) else self._values[self._index[key]]

    def __iter__(self) -> Iterator[str]:
        return iter(self._index)

    def __len__(self) -> int:
        return len(self._values)


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
        if self._dialect.name == "sqlite":
            return self._sqlite_rows(connection, statement, values)
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

    def _sqlite_rows(
        self, connection: Connection, statement: Executable, values: Mapping[str, Any]
    ) -> Sequence[Any]:
        """A SELECT straight on the sqlite3 connection (the runner offers this on reads)."""
        if not isinstance(statement, Select):
            return connection.execute(statement, dict(values)).all()
        compiled = self._compile(statement)
        args = compiled.arguments(values)
        for observe in self.observers:
            observe(compiled.sql)
        try:
            driver: Any = connection.connection.driver_connection
            raw = driver.execute(compiled.sql, args).fetchall()
        except sqlite3.Error as error:  # "database is locked" is what the runner waits out
            raise exc.OperationalError(compiled.sql, args, error) from error
        return [compiled.row(row) for row in raw]

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
    columns, results = _result_columns(statement, dialect)
    return _Compiled(
        compiled.string, tuple(compiled.positiontup), defaults, processors, columns, results
    )


def _result_columns(
    statement: Executable, dialect: Dialect
) -> tuple[dict[str, int], tuple[Callable[[Any], Any] | None, ...]]:
    """A SELECT's column names (labels) and result processors, for SQLite's plain rows."""
    if dialect.name != "sqlite" or not isinstance(statement, Select):
        return {}, ()
    selected = list(statement.selected_columns)
    names = {str(column.key): index for index, column in enumerate(selected)}
    results: tuple[Callable[[Any], Any] | None, ...] = tuple(
        column.type.dialect_impl(dialect).result_processor(dialect, None) for column in selected
    )
    return names, results


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
