"""One transaction as one plain function: how the hot paths (a customer's turn) reach the database.

`await transactions.write(fn)` runs `fn(connection)` — synchronous SQLAlchemy Core over a
`Connection`, statements built once at import — as one transaction, and returns its result:

- SQLite runs it on the calling thread, at once. SQLite is a library: a short transaction is
  tens of microseconds of work, and aiosqlite's thread hop for every cursor call cost ten times
  that (docs/benchmarks.md). The connection never waits for a lock (busy timeout 0): when
  another connection holds the write lock, the same function is run again in a worker thread
  that may wait, so the event loop never blocks on a lock. The function must therefore only
  touch the database (it may run twice, and the first run is rolled back).
- PostgreSQL runs it through the async engine's `AsyncConnection.run_sync`: one greenlet for
  the whole transaction, one asyncpg round trip per statement. A read runs in autocommit
  mode: under PostgreSQL's READ COMMITTED every statement takes its own snapshot anyway, so
  BEGIN and COMMIT would only add two round trips.

The rest of billbot keeps the ORM over `AsyncSession`; both see the same database.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, event, pool
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from billing_client.sql import direct
from billing_client.sql.database import WRITE_INTENT, sqlite_begin, sqlite_pragmas
from billing_client.sql.direct import DirectStatements

log = logging.getLogger(__name__)
T = TypeVar("T")
Work = Callable[[Connection], T]
WAITING_TIMEOUT_SECONDS = 30  # the worker-thread connection waits this long for the lock


class Transactions:
    """Runs transaction functions on the database behind `engine` (see the module docstring)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._pin: contextvars.ContextVar[tuple[Any, AsyncConnection] | None] = (
            contextvars.ContextVar(f"pinned-{id(self)}", default=None)
        )
        self.dialect = engine.dialect.name
        self.direct = DirectStatements(engine.dialect)
        # Outside a transaction, PostgreSQL's statements go straight to asyncpg (`direct`).
        self._autocommit: dict[str, Any] = {"isolation_level": "AUTOCOMMIT"}
        if self.dialect == "postgresql":
            self._autocommit[direct.OPTION] = self.direct.rows
        url = engine.url
        self._inline = self.dialect == "sqlite" and url.database not in (None, "", ":memory:")
        if self._inline:
            sync_url = make_url(url.render_as_string(hide_password=False)).set(
                drivername="sqlite+pysqlite"
            )
            self._now = _sqlite_engine(sync_url, timeout=0, poolclass=pool.StaticPool)
            self._waiting = _sqlite_engine(sync_url, timeout=WAITING_TIMEOUT_SECONDS)
            # Reads send no BEGIN/COMMIT: each statement is its own consistent snapshot, as
            # with PostgreSQL's autocommit reads; what a read must see together is one SQL.
            # And their SELECTs go straight to sqlite3 (`direct`), statements compiled once.
            reads = {"sqlite_begin": "NONE", direct.OPTION: self.direct.rows}
            self._now_reads = self._now.execution_options(**reads)
            self._waiting_reads = self._waiting.execution_options(**reads)

    @property
    def engines(self) -> tuple[Engine, ...]:
        """The plain engines it runs on besides the async one (SQLite), e.g. to count SQL."""
        return (self._now, self._waiting) if self._inline else ()

    async def read(self, work: Work[T]) -> T:
        """Run `work` in a read transaction."""
        return await self._run(work, write=False)

    async def write(self, work: Work[T]) -> T:
        """Run `work` in a transaction that holds the write lock from its start on SQLite."""
        return await self._run(work, write=True)

    async def steps(self, work: Work[T]) -> T:
        """Run `work`, whose statements are each safe on their own, with no BEGIN and COMMIT
        round trips where that saves any (PostgreSQL autocommit); a write transaction on
        SQLite, where they cost nothing. For work whose every statement leaves the database
        consistent whatever happens after it (taking a lease that expires by itself)."""
        if self._inline:
            return await self._run(work, write=True)
        return await self._run_async(work, write=False)

    @asynccontextmanager
    async def pinned(self) -> AsyncIterator[None]:
        """Run this task's reads and steps on one autocommit connection until the block ends
        (PostgreSQL: one pool checkout per turn instead of one per transaction)."""
        if self._inline or self._pin.get() is not None:
            yield
            return
        async with self._engine.connect() as connection:
            autocommit = await connection.execution_options(**self._autocommit)
            token = self._pin.set((asyncio.current_task(), autocommit))
            try:
                yield
            finally:
                self._pin.reset(token)

    def close(self) -> None:
        if self._inline:
            self._now.dispose()
            self._waiting.dispose()

    async def _run(self, work: Work[T], *, write: bool) -> T:
        if not self._inline:
            return await self._run_async(work, write=write)
        now, waiting = (
            (self._now, self._waiting) if write else (self._now_reads, self._waiting_reads)
        )
        try:
            return _transaction(now, work, write=write)
        except sa_exc.OperationalError as error:
            if not _is_locked(error):
                raise
        log.debug("SQLite is locked by another connection; waiting in a worker thread")
        return await asyncio.to_thread(_transaction, waiting, work, write=write)

    async def _run_async(self, work: Work[T], *, write: bool) -> T:
        if write:
            async with self._engine.begin() as connection:
                return await connection.run_sync(work)
        pin = self._pin.get()
        if pin is not None and pin[0] is asyncio.current_task():
            return await pin[1].run_sync(work)
        async with self._engine.connect() as connection:
            autocommit = await connection.execution_options(**self._autocommit)
            return await autocommit.run_sync(work)


def _transaction(engine: Engine, work: Work[T], *, write: bool) -> T:
    with engine.connect() as connection:
        if write:
            connection = connection.execution_options(**WRITE_INTENT)
        with connection.begin():
            return work(connection)


def _sqlite_engine(url: Any, *, timeout: float, **kwargs: Any) -> Engine:
    connect_args = {"timeout": timeout, "check_same_thread": False}
    engine = create_sync_engine(url, connect_args=connect_args, **kwargs)
    event.listen(engine, "connect", sqlite_pragmas)
    event.listen(engine, "begin", sqlite_begin)
    return engine


def _is_locked(error: sa_exc.OperationalError) -> bool:
    message = str(error.orig).lower()
    return "database is locked" in message or "database is busy" in message
