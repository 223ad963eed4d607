"""SQLite reads straight on sqlite3 (`billing_client.sql.direct`) return what SQLAlchemy would."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import bindparam, select

from billing_client.sql.database import create_engine
from billing_client.sql.direct import DirectRow, rows
from billing_client.sql.transactions import Transactions
from tests.integration.test_direct_statements import CONVERSATIONS, SAVE_CONVERSATION


async def test_sqlite_reads_come_back_typed_as_through_sqlalchemy(sqlite_url: str) -> None:
    """Dates, JSON and labels from sqlite3 rows pass the columns' own result processors."""
    engine = create_engine(sqlite_url)
    runner = Transactions(engine)
    try:
        at = datetime(2026, 12, 6, 12, 30, tzinfo=UTC)
        values = {"channel": "web", "sender": "s", "slots": {"a": [1]}, "options": ["1"]}
        await runner.write(lambda c: c.execute(SAVE_CONVERSATION, {**values, "at": at}).all())
        read = select(CONVERSATIONS.c.slots, CONVERSATIONS.c.updated_at.label("when")).where(
            CONVERSATIONS.c.sender == bindparam("who")
        )

        direct = await runner.read(lambda c: rows(c, read, {"who": "s"}))
        through = await runner.write(lambda c: c.execute(read, {"who": "s"}).all())
    finally:
        runner.close()
        await engine.dispose()

    assert [type(row) for row in direct] == [DirectRow]
    (row,) = direct
    assert (row.slots, row.when.replace(tzinfo=UTC)) == ({"a": [1]}, at)
    assert (row.slots, row.when) == tuple(through[0])
