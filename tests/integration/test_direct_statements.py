"""Statements run straight on asyncpg (`billing_client.sql.direct`) read and write exactly what
SQLAlchemy would, stay inside transactions, fail the way the engine maps, and a turn's reads
share one pinned connection."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Connection, bindparam, exc, insert, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from billing_client.sql.database import create_engine
from billing_client.sql.direct import DirectRow, rows
from billing_client.sql.transactions import Transactions
from bot.store.models import Conversation, MetaValue
from bot.store.sql import rows as store_rows

pytestmark = pytest.mark.postgres
META = MetaValue.__table__
CONVERSATIONS = Conversation.__table__
BY_KEY = select(META.c.key, META.c.value.label("shown")).where(META.c.key == bindparam("k"))
SAVE_CONVERSATION = (
    insert(CONVERSATIONS)
    .values(
        channel=bindparam("channel"),
        sender=bindparam("sender"),
        slots=bindparam("slots"),
        options=bindparam("options"),
        updated_at=bindparam("at"),
        flow="bar_sim",  # a literal: bound by the statement itself
    )
    .returning(CONVERSATIONS.c.slots, CONVERSATIONS.c.options, CONVERSATIONS.c.updated_at)
)


@pytest.fixture
async def engine(postgres_url: str) -> AsyncIterator[AsyncEngine]:
    built = create_engine(postgres_url)
    yield built
    await built.dispose()


@pytest.fixture
async def transactions(engine: AsyncEngine) -> AsyncIterator[Transactions]:
    runner = Transactions(engine)
    yield runner
    runner.close()


def put(key: str, value: str) -> Any:
    def work(connection: Connection) -> None:
        connection.execute(META.insert().values(key=key, value=value))

    return work


async def test_reads_return_rows_by_label_name_and_position(transactions: Transactions) -> None:
    await transactions.write(put("k", "v"))

    found = await transactions.read(lambda c: rows(c, BY_KEY, {"k": "k"}))

    assert [type(row) for row in found] == [DirectRow]
    (row,) = found
    assert (row.key, row.shown, row._mapping["shown"], row[1], list(row)) == (
        "k",
        "v",
        "v",
        "v",
        ["k", "v"],
    )


async def test_json_timestamps_and_literals_round_trip_as_through_sqlalchemy(
    transactions: Transactions,
) -> None:
    at = datetime(2026, 12, 6, 12, 30, tzinfo=UTC)
    values = {"channel": "web", "sender": "s", "slots": {"a": [1, "ü"]}, "options": ["1"]}

    (row,) = await transactions.steps(lambda c: rows(c, SAVE_CONVERSATION, {**values, "at": at}))

    assert (row.slots, row.options, row.updated_at) == ({"a": [1, "ü"]}, ["1"], at)
    stored = await transactions.read(
        lambda c: c.execute(select(CONVERSATIONS.c.flow, CONVERSATIONS.c.slots)).one()
    )
    assert tuple(stored) == ("bar_sim", {"a": [1, "ü"]})


async def test_inside_a_transaction_statements_go_through_sqlalchemy(
    transactions: Transactions,
) -> None:
    def write_then_fail(connection: Connection) -> None:
        rows(connection, SAVE_CONVERSATION, _conversation("tx"))
        raise RuntimeError("roll back")

    with pytest.raises(RuntimeError):
        await transactions.write(write_then_fail)

    count = await transactions.read(
        lambda c: c.execute(text("SELECT count(*) FROM bot_conversation")).scalar()
    )
    assert count == 0  # rolled back with the transaction, not committed on its own


async def test_the_bot_store_helper_takes_the_same_path(transactions: Transactions) -> None:
    await transactions.write(put("k", "v"))

    found = await transactions.read(lambda c: store_rows(c, BY_KEY, {"k": "k"}))

    assert [type(row) for row in found] == [DirectRow]


async def test_a_lost_connection_is_a_transient_operational_error(
    engine: AsyncEngine, transactions: Transactions
) -> None:
    def killed_midway(connection: Connection) -> Any:
        pid = rows(connection, select(text("pg_backend_pid()")), {})[0][0]
        rows(connection, select(text("pg_terminate_backend(:pid)")), {"pid": pid})
        return rows(connection, BY_KEY, {"k": "k"})

    async with engine.connect() as admin:
        await admin.execute(text("SELECT 1"))  # another connection stays usable
    with pytest.raises(exc.OperationalError):
        await transactions.read(killed_midway)
    assert await transactions.read(lambda c: rows(c, BY_KEY, {"k": "nothing"})) == []


async def test_a_bad_statement_is_a_database_error(transactions: Transactions) -> None:
    broken = select(text("no_such_column")).select_from(META)

    with pytest.raises(exc.DatabaseError) as raised:
        await transactions.read(lambda c: rows(c, broken, {}))

    assert not isinstance(raised.value, exc.OperationalError)


async def test_a_pinned_task_reuses_one_connection(
    engine: AsyncEngine, transactions: Transactions
) -> None:
    def backend(connection: Connection) -> int:
        return int(rows(connection, select(text("pg_backend_pid()")), {})[0][0])

    async with transactions.pinned():
        pids = {await transactions.read(backend) for _ in range(5)}
        # Another task never shares the pinned connection (asyncpg runs one query at a time).
        others = await asyncio.gather(*(transactions.read(backend) for _ in range(3)))
    assert len(pids) == 1
    assert pids.isdisjoint(others)


def _conversation(sender: str) -> dict[str, object]:
    at = datetime(2026, 12, 6, tzinfo=UTC)
    return {"channel": "web", "sender": sender, "slots": {}, "options": [], "at": at}
