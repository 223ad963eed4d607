"""`billbot outages add|clear|list` as a subprocess on a demo SQLite database: what it prints,
its exit codes (0, 2 for bad input with one line on stderr, 1 when the database fails), and that
an outage added here is what `diagnostics` tells the customer in `billbot chat`."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

BILLBOT = [sys.executable, "-m", "bot"]
ALEX = "+12025550101"
SECRET = "e2e-outages-cli-secret-0123456789"


def _env(database: Path, tmp_path: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("BILLBOT_") or key.startswith("BILLBOT_TEST_")
    }
    return {
        **env,
        "BILLBOT_DATABASE_URL": f"sqlite:///{database}",
        "BILLBOT_SECRET_KEY": SECRET,
        "BILLBOT_SCHEDULER": "false",
        "BILLBOT_ENV_FILE": str(tmp_path / "no.env"),
    }


def _run(env: dict[str, str], *args: str, **options: Any) -> subprocess.CompletedProcess[str]:
    streams = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, **options}
    return subprocess.run(
        [*BILLBOT, *args], text=True, env=env, timeout=120, check=False, **streams
    )


@pytest.fixture(scope="module")
def _seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo database, seeded once by the command itself."""
    folder = tmp_path_factory.mktemp("outages-cli")
    database = folder / "billbot.db"
    result = _run(_env(database, folder), "db", "seed-demo")
    assert result.returncode == 0, result.stderr
    return database


@pytest.fixture
def env(_seeded: Path, tmp_path: Path) -> dict[str, str]:
    database = tmp_path / "billbot.db"
    shutil.copyfile(_seeded, database)
    return _env(database, tmp_path)


def _outages(env: dict[str, str]) -> list[tuple[Any, ...]]:
    path = env["BILLBOT_DATABASE_URL"].removeprefix("sqlite:///")
    with sqlite3.connect(path) as connection:
        return connection.execute("SELECT id, area, kind, cleared_at FROM outages").fetchall()


def _one_line_error(result: subprocess.CompletedProcess[str], code: int) -> str:
    assert result.returncode == code, (result.stdout, result.stderr)
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    return lines[0]


def test_an_outage_added_is_listed_and_told_to_the_customer_until_cleared(
    env: dict[str, str],
) -> None:
    added = _run(
        env,
        "outages",
        "add",
        "--area",
        "10118",
        "--kind",
        "broadband",
        "--message",
        "Fibre cut on Fifth Avenue.",
        "--until",
        "2099-01-01T18:00:00Z",
    )
    assert added.returncode == 0, added.stderr
    assert added.stdout.startswith("Outage 2 added: broadband in 10118 since ")
    assert "until 2099-01-01 18:00 UTC: Fibre cut on Fifth Avenue." in added.stdout

    listed = _run(env, "outages", "list")
    assert listed.returncode == 0
    assert [line.split()[0] for line in listed.stdout.splitlines()] == ["#2", "#1"]

    chat = _run(env, "chat", "--as", ALEX, input="is my internet down\n")
    assert chat.returncode == 0, chat.stderr
    assert "Known broadband outage at your address" in chat.stdout
    assert "Fibre cut on Fifth Avenue." in chat.stdout

    cleared = _run(env, "outages", "clear", "2")
    assert cleared.returncode == 0 and cleared.stdout.startswith("Outage 2 cleared: broadband")
    again = _run(env, "outages", "clear", "2")
    assert again.returncode == 0 and "(it was already)" in again.stdout
    assert "#2" not in _run(env, "outages", "list").stdout
    assert "#2" in _run(env, "outages", "list", "--all").stdout


def test_list_as_json(env: dict[str, str]) -> None:
    listed = _run(env, "outages", "list", "--json")

    assert listed.returncode == 0
    (demo,) = json.loads(listed.stdout)
    assert demo["area"] == "60614" and demo["kind"] == "mobile" and demo["cleared_at"] is None
    assert demo["expected_end"] is not None


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--area", "10118", "--kind", "satellite", "--message", "x"], "invalid choice"),
        (["--area", "10118", "--kind", "mobile"], "--message"),
        (["--area", "10118", "--kind", "mobile", "--message", "x", "--until", "soon"], "ISO"),
        (["--area", "10118", "--kind", "mobile", "--message", "   "], "needs a message"),
        (["--area", "!!", "--kind", "mobile", "--message", "x"], "needs an area"),
        (
            ["--area", "1", "--kind", "mobile", "--message", "x", "--until", "2000-01-01"],
            "after the outage started",
        ),
    ],
)
def test_bad_input_is_one_line_exit_2_and_writes_nothing(
    env: dict[str, str], args: list[str], says: str
) -> None:
    before = _outages(env)

    line = _one_line_error(_run(env, "outages", "add", *args), 2)

    assert says in line
    assert _outages(env) == before


@pytest.mark.parametrize(("raw", "says"), [("999", "no outage 999"), ("abc", "not an outage")])
def test_clearing_what_does_not_exist_is_exit_2(env: dict[str, str], raw: str, says: str) -> None:
    assert says in _one_line_error(_run(env, "outages", "clear", raw), 2)


def test_an_unreachable_database_is_one_line_exit_1(tmp_path: Path) -> None:
    env = {**_env(tmp_path / "x.db", tmp_path)}
    env["BILLBOT_DATABASE_URL"] = "postgresql://nobody@127.0.0.1:1/x"

    line = _one_line_error(_run(env, "outages", "list"), 1)

    assert "cannot use the database" in line
