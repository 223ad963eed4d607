"""A database that cannot be reached or a busy port: one line on stderr, exit 1, no traceback.

And `postgres://` URLs work wherever a database URL is read (here: the `db` commands).
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from tests.conftest import postgres_required, postgres_server_url

BILLBOT = [sys.executable, "-m", "bot"]
SECRET = "e2e-cli-failures-secret-0123456789"
UNREACHABLE_POSTGRES = "postgresql://nobody@127.0.0.1:1/x"
# Every command that opens the database; chat gets one line of input.
COMMANDS = {
    "demo": ["demo", "--port", "{port}"],
    "serve": ["serve", "--port", "{port}"],
    "chat": ["chat", "--as", "+12025550101"],
    "messages": ["messages"],
    "db upgrade": ["db", "upgrade"],
    "db seed-demo": ["db", "seed-demo"],
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _env(tmp_path: Path, database_url: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("BILLBOT_") or key.startswith("BILLBOT_TEST_")
    }
    return {
        **env,
        "BILLBOT_DATABASE_URL": database_url,
        "BILLBOT_SECRET_KEY": SECRET,
        "BILLBOT_SCHEDULER": "false",
        "BILLBOT_ENV_FILE": str(tmp_path / "no.env"),
    }


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*BILLBOT, *args],
        input="what do i owe\n",
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def _unwritable_sqlite(tmp_path: Path) -> str:
    """A path whose folder is a regular file: no one (root included) can create it."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("", encoding="utf-8")
    return f"sqlite:///{blocker / 'billbot.db'}"


def _assert_one_line_failure(result: subprocess.CompletedProcess[str], *words: str) -> None:
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    for word in words:
        assert word in result.stderr, result.stderr


@pytest.mark.parametrize("command", sorted(COMMANDS))
@pytest.mark.parametrize("database", ["unreachable postgres", "unwritable sqlite"])
def test_a_database_that_cannot_be_used_is_one_line_and_exit_1(
    tmp_path: Path, command: str, database: str
) -> None:
    url = (
        UNREACHABLE_POSTGRES
        if database == "unreachable postgres"
        else _unwritable_sqlite(tmp_path)
    )
    args = [arg.format(port=_free_port()) for arg in COMMANDS[command]]
    result = _run(args, _env(tmp_path, url))
    _assert_one_line_failure(result, "cannot use the database")


def test_the_error_never_shows_the_database_password(tmp_path: Path) -> None:
    url = "postgresql://nobody:hunter2-secret@127.0.0.1:1/x"
    result = _run(["db", "upgrade"], _env(tmp_path, url))
    _assert_one_line_failure(result, "nobody:***@127.0.0.1:1/x")
    assert "hunter2" not in result.stderr


@pytest.mark.parametrize("command", ["serve", "demo"])
def test_a_busy_port_is_one_line_and_exit_1(tmp_path: Path, command: str) -> None:
    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = busy.getsockname()[1]
        url = f"sqlite:///{tmp_path / 'billbot.db'}"
        result = _run([command, "--port", str(port)], _env(tmp_path, url))
    _assert_one_line_failure(result, f"cannot listen on 127.0.0.1:{port}", "already in use")


# --- postgres:// ------------------------------------------------------------------------------
async def _admin(statement: str) -> None:
    connection = await asyncpg.connect(postgres_server_url(), timeout=5)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@pytest.fixture
def empty_postgres_url() -> Iterator[str]:
    """A new, empty PostgreSQL database, spelled with the `postgres://` alias."""
    name = f"billbot_cli_{uuid.uuid4().hex[:12]}"
    try:
        asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    except (OSError, asyncpg.PostgresError) as exc:
        if postgres_required():
            pytest.fail(f"PostgreSQL is not usable: {exc}")
        pytest.skip(f"PostgreSQL is not usable: {exc}")
    url = make_url(postgres_server_url()).set(drivername="postgres", database=name)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.mark.postgres
def test_db_commands_accept_a_postgres_scheme_url(tmp_path: Path, empty_postgres_url: str) -> None:
    assert empty_postgres_url.startswith("postgres://")
    env = _env(tmp_path, empty_postgres_url)
    upgraded = _run(["db", "upgrade"], env)
    assert upgraded.returncode == 0, upgraded.stderr
    seeded = _run(["db", "seed-demo"], env)
    assert seeded.returncode == 0, seeded.stderr
    assert "Demo customers created" in seeded.stdout
