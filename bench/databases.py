"""Throw-away databases for one bench run: a SQLite file, and a PostgreSQL database.

Both are prepared exactly like `billbot demo` does (`bot.bootstrap.prepare_database`:
migrate to head, seed the demo customers) before a server is started on them.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

DEFAULT_POSTGRES_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
SECRET_KEY = "bench-secret-key-not-for-production"


class DatabaseUnavailableError(RuntimeError):
    """No usable database server; the message says which and why."""


def postgres_server_url(environ: Mapping[str, str] | None = None) -> str:
    """BILLBOT_BENCH_POSTGRES_URL (the server to create the database on) as postgresql://."""
    env = os.environ if environ is None else environ
    raw = env.get("BILLBOT_BENCH_POSTGRES_URL") or DEFAULT_POSTGRES_SERVER
    return make_url(raw).set(drivername="postgresql").render_as_string(hide_password=False)


def sqlite_url(workdir: Path) -> str:
    return f"sqlite:///{workdir / 'bench.db'}"


@contextmanager
def throwaway_postgres(server_url: str) -> Iterator[str]:
    """A new, empty database on the server, dropped (even while in use) on exit."""
    name = f"billbot_bench_{uuid.uuid4().hex[:12]}"
    try:
        asyncio.run(_admin(server_url, f'CREATE DATABASE "{name}"'))
    except (OSError, asyncpg.PostgresError) as exc:
        url = make_url(server_url)
        where = f"{url.host}:{url.port or 5432}"
        raise DatabaseUnavailableError(f"no PostgreSQL server usable at {where}: {exc}") from exc
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(_admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _admin(server_url: str, statement: str) -> None:
    connection = await asyncpg.connect(server_url, timeout=5)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def billbot_env(database_url: str, workdir: Path) -> dict[str, str]:
    """Demo-mode settings for a billbot server: no .env file, no scheduler, a fixed secret."""
    return {
        "BILLBOT_DATABASE_URL": database_url,
        "BILLBOT_DEMO": "true",
        "BILLBOT_SECRET_KEY": SECRET_KEY,
        "BILLBOT_SCHEDULER": "false",
        "BILLBOT_ENV_FILE": str(workdir / "no.env"),
    }


async def prepare(env: Mapping[str, str]) -> None:
    """Migrate and seed the demo data, as `billbot demo` does."""
    from bot.bootstrap import prepare_database  # billbot's imports only where they are used
    from bot.settings import Settings

    await prepare_database(Settings.from_env(env))
