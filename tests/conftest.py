"""Shared database fixtures: real SQLite and PostgreSQL databases, migrated to head.

Migrating is the slow part, so each backend is migrated once per run into a template (a file
for SQLite, a template database for PostgreSQL) and every test gets a fresh copy of it.
PostgreSQL tests skip when no server answers, unless CI or BILLBOT_REQUIRE_POSTGRES=1 says
they must run, in which case they fail.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx
import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from billing_client.sql.client import SqlBillingClient
from billing_client.sql.database import create_engine, session_factory
from billing_client.sql.seed import seed_demo
from bot.bootstrap import build_nlu, build_services
from bot.clock import FakeClock
from bot.migrate import upgrade
from bot.nlu import NluModel
from bot.services import Services
from bot.settings import Settings
from tests.helpers import TEST_SECRET, client_for
from tests.twilio_fake import FakeTwilio

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
FIXED_NOW = datetime(2025, 3, 14, 15, 30, tzinfo=UTC)


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() not in ("", "0", "false", "no", "off")


def postgres_required() -> bool:
    """Whether a missing PostgreSQL server fails the run instead of skipping its tests."""
    return _truthy(os.environ.get("CI")) or os.environ.get("BILLBOT_REQUIRE_POSTGRES") == "1"


def postgres_server_url() -> str:
    """The server the PostgreSQL tests create their databases on (plain postgresql:// URL)."""
    raw = os.environ.get("BILLBOT_TEST_POSTGRES_URL") or DEFAULT_POSTGRES_URL
    return make_url(raw).set(drivername="postgresql").render_as_string(hide_password=False)


def _with_database(server_url: str, name: str) -> str:
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


async def _admin(server_url: str, *statements: str) -> None:
    connection = await asyncpg.connect(server_url, timeout=5)
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


def _run_admin(server_url: str, *statements: str) -> None:
    asyncio.run(_admin(server_url, *statements))


@pytest.fixture
def now() -> datetime:
    """A fixed, aware UTC "now" (a Friday afternoon, mid-month)."""
    return FIXED_NOW


# --- SQLite -----------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "billbot.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture
def sqlite_url(_sqlite_template: Path, tmp_path: Path) -> str:
    """A fresh SQLite file database migrated to head (plain `sqlite:///…` URL)."""
    path = tmp_path / "billbot.db"
    shutil.copyfile(_sqlite_template, path)
    return f"sqlite:///{path}"


# --- PostgreSQL -------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def _postgres_template() -> Iterator[str]:
    server = postgres_server_url()
    name = f"billbot_template_{uuid.uuid4().hex[:12]}"
    try:
        _run_admin(server, f'CREATE DATABASE "{name}"')
    except (OSError, asyncpg.PostgresError) as exc:
        message = f"PostgreSQL at {make_url(server).host} is not usable: {exc}"
        if postgres_required():
            pytest.fail(message)
        pytest.skip(message)
    try:
        upgrade(_with_database(server, name))
        yield name
    finally:
        _run_admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def postgres_url(_postgres_template: str) -> Iterator[str]:
    """A uniquely named PostgreSQL database migrated to head, dropped afterwards."""
    server = postgres_server_url()
    name = f"billbot_test_{uuid.uuid4().hex[:12]}"
    _run_admin(server, f'CREATE DATABASE "{name}" TEMPLATE "{_postgres_template}"')
    try:
        yield _with_database(server, name)
    finally:
        _run_admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --- either backend ---------------------------------------------------------------------------
@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> str:
    """A fresh migrated database on each backend in turn."""
    return str(request.getfixturevalue(f"{request.param}_url"))


@pytest.fixture
async def sessions(db_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(db_url)
    try:
        yield session_factory(engine)
    finally:
        await engine.dispose()


@pytest.fixture
def billing(sessions: async_sessionmaker[AsyncSession]) -> SqlBillingClient:
    return SqlBillingClient(sessions)


async def _seed_demo(url: str, now: datetime) -> str:
    engine = create_engine(url)
    try:
        await seed_demo(session_factory(engine), now=now)
    finally:
        await engine.dispose()
    return url


@pytest.fixture
async def demo_sqlite_url(sqlite_url: str, now: datetime) -> str:
    """`sqlite_url` with the DESIGN.md §6 demo customers seeded relative to `now`."""
    return await _seed_demo(sqlite_url, now)


@pytest.fixture
async def demo_db_url(db_url: str, now: datetime) -> str:
    """`db_url` (SQLite, then PostgreSQL) with the demo customers seeded relative to `now`."""
    return await _seed_demo(db_url, now)


@pytest.fixture
async def demo_billing(
    sessions: async_sessionmaker[AsyncSession], now: datetime
) -> SqlBillingClient:
    """`billing` over a database holding the DESIGN.md §6 demo customers."""
    await seed_demo(sessions, now=now)
    return SqlBillingClient(sessions)


# --- the whole app over the demo data ---------------------------------------------------------


@pytest.fixture(scope="session")
def nlu_model() -> NluModel:
    """The real classifier as the composition root builds it, trained once per test run."""
    return build_nlu(Settings())


@pytest.fixture
def clock(now: datetime) -> FakeClock:
    return FakeClock(now)


@pytest.fixture
async def services(
    demo_sqlite_url: str, clock: FakeClock, nlu_model: NluModel
) -> AsyncIterator[Services]:
    """Real Services (demo mode) on a seeded SQLite database, with a clock tests can move."""
    settings = Settings(database_url=demo_sqlite_url, demo=True, secret_key=TEST_SECRET)
    built = await build_services(settings, clock=clock, nlu=nlu_model)
    yield built
    await built.close()


@pytest.fixture
async def demo_services(
    demo_db_url: str, clock: FakeClock, nlu_model: NluModel
) -> AsyncIterator[Services]:
    """Real Services (demo mode) on a seeded database of each backend in turn."""
    settings = Settings(database_url=demo_db_url, demo=True, secret_key=TEST_SECRET)
    built = await build_services(settings, clock=clock, nlu=nlu_model)
    yield built
    await built.close()


@pytest.fixture
async def client(services: Services) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(services) as http:
        yield http


# --- fake providers ----------------------------------------------------------------------------
@pytest.fixture
async def twilio() -> AsyncIterator[FakeTwilio]:
    """The fake Twilio REST API on 127.0.0.1 (tests/twilio_fake.py)."""
    async with FakeTwilio() as fake:
        yield fake
