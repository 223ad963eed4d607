"""`postgres://` URLs work for the engine and the migrations, not only in the settings."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from billing_client.sql.database import create_engine
from bot import migrate


def _postgres_alias(url: str) -> str:
    return make_url(url).set(drivername="postgres").render_as_string(hide_password=False)


@pytest.mark.postgres
async def test_the_engine_connects_with_a_postgres_scheme_url(postgres_url: str) -> None:
    engine = create_engine(_postgres_alias(postgres_url))
    try:
        async with engine.connect() as connection:
            assert (await connection.execute(text("select 1"))).scalar() == 1
    finally:
        await engine.dispose()


@pytest.mark.postgres
async def test_migrations_run_with_a_postgres_scheme_url(postgres_url: str) -> None:
    alias = _postgres_alias(postgres_url)
    await asyncio.to_thread(migrate.downgrade, alias, "0003")
    await asyncio.to_thread(migrate.upgrade, alias)
    engine = create_engine(postgres_url)
    try:
        async with engine.connect() as connection:
            version = await connection.execute(text("select version_num from alembic_version"))
            assert version.scalar() not in (None, "0003_turn_lifecycle")
    finally:
        await engine.dispose()
