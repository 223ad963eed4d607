"""The bench counts a message's statements and transactions alike on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, text

from bench.sqlcount import SqlCounter, one_line
from billing_client.sql.database import WRITE_INTENT, create_engine


async def test_statements_and_transactions_are_counted_apart(db_url: str) -> None:
    engine = create_engine(db_url)
    try:
        with SqlCounter(engine) as counter:
            async with engine.begin() as connection:
                await connection.execute(text("SELECT 1"))
                await connection.execute(text("SELECT 2"))
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 3"))
                await connection.rollback()
        counts = counter.counts
    finally:
        await engine.dispose()
    assert (counts.statements, counts.transactions) == (3, 2)
    assert (counts.commits, counts.rollbacks) == (1, 1)
    assert counts.round_trips == 7
    assert counts.trace == [
        "BEGIN",
        "SELECT 1",
        "SELECT 2",
        "COMMIT",
        "BEGIN",
        "SELECT 3",
        "ROLLBACK",
    ]


async def test_sqlites_begin_immediate_is_a_transaction_not_a_statement(sqlite_url: str) -> None:
    engine = create_engine(sqlite_url)
    sent: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        sent.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        with SqlCounter(engine) as counter:
            async with engine.connect() as connection:
                await connection.execution_options(**WRITE_INTENT)
                await connection.execute(text("SELECT 1"))
                await connection.commit()
    finally:
        await engine.dispose()
    assert sent == ["BEGIN IMMEDIATE", "SELECT 1"]
    assert counter.counts.trace == ["BEGIN", "SELECT 1", "COMMIT"]


async def test_counting_stops_when_the_counter_is_closed(sqlite_url: str) -> None:
    engine = create_engine(sqlite_url)
    try:
        with SqlCounter(engine) as counter:
            pass
        async with engine.begin() as connection:
            await connection.execute(text("SELECT 1"))
    finally:
        await engine.dispose()
    assert counter.counts.statements == 0


def test_a_long_statement_is_shown_on_one_cut_line() -> None:
    line = one_line("SELECT a,\n       b\nFROM " + "x" * 200)
    assert line.startswith("SELECT a, b FROM xxx")
    assert len(line) == 96 and line.endswith("…")
