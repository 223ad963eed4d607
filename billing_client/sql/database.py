"""Turn ordinary database URLs into async engines (aiosqlite / asyncpg)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Connection, event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.ext.asyncio import AsyncSession as AsyncSession

_ASYNC_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg"}

# Execution options for a session that will write. On SQLite it starts the transaction with
# BEGIN IMMEDIATE, taking the write lock up front: a deferred transaction that read first and
# writes later fails with "database is locked" when another writer committed in between.
# Other backends ignore it. Use: `await session.connection(execution_options=WRITE_INTENT)`.
WRITE_INTENT = {"sqlite_begin": "IMMEDIATE"}
POSTGRES_POOL_SIZE = 40  # at least a worker's usual requests in flight


def async_url(url: str) -> str:
    """`sqlite:///x.db` → `sqlite+aiosqlite:///x.db`; `postgresql://…` → `postgresql+asyncpg://…`.

    URLs that already name an async driver pass through; anything else is a ValueError.
    """
    parsed = make_url(url)
    backend, _, driver = parsed.drivername.partition("+")
    if backend == "postgres":  # Heroku-style alias, which SQLAlchemy itself no longer loads
        backend = "postgresql"
    if backend not in _ASYNC_DRIVERS:
        raise ValueError(f"unsupported database URL scheme: {parsed.drivername!r}")
    if driver in ("aiosqlite", "asyncpg"):
        return parsed.set(drivername=f"{backend}+{driver}").render_as_string(hide_password=False)
    return parsed.set(drivername=_ASYNC_DRIVERS[backend]).render_as_string(hide_password=False)


def is_sqlite(url: str) -> bool:
    return make_url(url).drivername.partition("+")[0] == "sqlite"


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """An AsyncEngine for `url`; SQLite gets WAL, foreign keys, busy timeout, explicit BEGIN."""
    full = async_url(url)
    if is_sqlite(full):
        database = make_url(full).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        kwargs.setdefault("connect_args", {"timeout": 30})
    else:
        # Enough connections that a busy worker keeps reusing them: past the pool, overflow
        # connections are opened and closed per checkout (a TCP connect and login each).
        kwargs.setdefault("pool_size", POSTGRES_POOL_SIZE)
        kwargs.setdefault("max_overflow", POSTGRES_POOL_SIZE)
    engine = create_async_engine(full, **kwargs)
    if is_sqlite(full):
        event.listen(engine.sync_engine, "connect", sqlite_pragmas)
        event.listen(engine.sync_engine, "begin", sqlite_begin)
    return engine


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """Every SQLite connection's settings (a pool `connect` listener)."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # Deleted and overwritten content is zeroed, not left in free pages for a file grep.
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()
    # Let SQLAlchemy emit BEGIN itself (SQLAlchemy's documented pysqlite/aiosqlite recipe):
    # the driver's own implicit BEGIN cannot be made IMMEDIATE and skips plain SELECTs.
    dbapi_connection.isolation_level = None


def sqlite_begin(connection: Connection) -> None:
    """BEGIN, or BEGIN IMMEDIATE for WRITE_INTENT (an engine `begin` listener)."""
    options = connection.get_execution_options()
    if options.get("isolation_level") == "AUTOCOMMIT":
        return
    mode = options.get("sqlite_begin", "")
    if mode == "NONE":  # a read of one consistent statement at a time: SQLite's autocommit
        return
    connection.exec_driver_sql("BEGIN IMMEDIATE" if mode == "IMMEDIATE" else "BEGIN")
