"""The one migration history builds exactly the schema the models describe, both ways."""

from __future__ import annotations

import asyncio
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, inspect

from billing_client.sql.database import create_engine
from billing_client.sql.models import Base
from bot.migrate import downgrade, upgrade
from bot.store.models import StoreBase


async def _run_sync_on(url: str, work: Any) -> Any:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(work)
    finally:
        await engine.dispose()


def _table_names(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names()) - {"alembic_version"}


def _schema_diff(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    # Like env.py, pass both metadatas; alembic accepts a sequence though typed for one.
    metadata = [Base.metadata, StoreBase.metadata]
    return list(compare_metadata(context, metadata))  # type: ignore[arg-type]


async def test_migrations_downgrade_to_base_and_upgrade_again(db_url: str) -> None:
    # Alembic's env runs its own event loop, so migrations run in a worker thread here.
    await asyncio.to_thread(downgrade, db_url, "base")
    assert await _run_sync_on(db_url, _table_names) == set()

    await asyncio.to_thread(upgrade, db_url)
    await asyncio.to_thread(downgrade, db_url, "base")
    await asyncio.to_thread(upgrade, db_url)

    tables = await _run_sync_on(db_url, _table_names)
    assert tables == set(Base.metadata.tables) | set(StoreBase.metadata.tables)


async def test_migrated_schema_matches_the_models(db_url: str) -> None:
    assert await _run_sync_on(db_url, _schema_diff) == []
