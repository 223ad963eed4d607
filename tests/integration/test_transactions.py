"""One transaction as one plain function, on SQLite (inline, or waiting in a thread) and
PostgreSQL."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Callable

import pytest
from sqlalchemy import Connection, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from billing_client.sql.transactions import Transactions
from bot.store.models import MetaValue

META = MetaValue.__table__


@pytest.fixture
async def transactions(
    sessions: async_sessionmaker[AsyncSession],
) -> AsyncIterator[Transactions]:
    runner = Transactions(sessions.kw["bind"])
    yield runner
    runner.close()


def put(key: str, value: str) -> Callable[[Connection], None]:
    def work(connection: Connection) -> None:
        connection.execute(META.insert().values(key=key, value=value))

    return work


def get(key: str) -> Callable[[Connection], str | None]:
    def work(connection: Connection) -> str | None:
        return connection.execute(select(META.c.value).where(META.c.key == key)).scalar()

    return work


async def test_a_write_is_read_back(transactions: Transactions) -> None:
    await transactions.write(put("k", "v"))
    assert await transactions.read(get("k")) == "v"


async def test_a_failing_function_changes_nothing(transactions: Transactions) -> None:
    def half_done(connection: Connection) -> None:
        connection.execute(META.insert().values(key="half", value="done"))
        raise RuntimeError("the second half failed")

    with pytest.raises(RuntimeError):
        await transactions.write(half_done)
    assert await transactions.read(get("half")) is None


async def test_steps_commit_each_statement(transactions: Transactions) -> None:
    await transactions.steps(put("step", "1"))
    assert await transactions.read(get("step")) == "1"


async def test_a_locked_sqlite_database_is_waited_for_off_the_event_loop(
    sqlite_url: str,
) -> None:
    from billing_client.sql.database import create_engine

    engine = create_engine(sqlite_url)
    runner = Transactions(engine)
    path = str(make_url(sqlite_url).database)
    locked, release = threading.Event(), threading.Event()

    def hold_the_write_lock() -> None:  # another process's writer, say
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        locked.set()
        release.wait(5)
        other.execute("ROLLBACK")
        other.close()

    holder = threading.Thread(target=hold_the_write_lock)
    holder.start()
    try:
        locked.wait(5)
        ticks = 0

        async def heartbeat() -> None:
            nonlocal ticks
            while not release.is_set():
                ticks += 1
                await asyncio.sleep(0.01)

        beating = asyncio.create_task(heartbeat())
        writing = asyncio.create_task(runner.write(put("late", "yes")))
        await asyncio.sleep(0.3)
        assert not writing.done()  # it waits for the lock …
        assert ticks >= 10  # … while the event loop keeps serving
        started = time.monotonic()
        release.set()
        await writing
        await beating
        assert time.monotonic() - started < 5
        assert await runner.read(get("late")) == "yes"
    finally:
        release.set()
        holder.join()
        runner.close()
        await engine.dispose()


@pytest.mark.postgres
async def test_postgres_reads_run_in_autocommit(postgres_url: str) -> None:
    from billing_client.sql.database import create_engine

    engine = create_engine(postgres_url)
    runner = Transactions(engine)
    try:

        def one_transaction(connection: Connection) -> bool:
            first = connection.execute(text("SELECT txid_current()")).scalar()
            return bool(first == connection.execute(text("SELECT txid_current()")).scalar())

        assert await runner.read(one_transaction) is False  # no BEGIN: each statement its own
        assert await runner.steps(one_transaction) is False
        assert await runner.write(one_transaction) is True
    finally:
        runner.close()
        await engine.dispose()
