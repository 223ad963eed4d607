"""`billbot usage import FILE.csv [--dry-run]` as a subprocess on a demo SQLite database."""

from __future__ import annotations

import fcntl
import os
import pty
import shutil
import sqlite3
import struct
import subprocess
import sys
import termios
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

BILLBOT = [sys.executable, "-m", "bot"]
HEADER = "msisdn,at,kind,quantity,unit,charge"
ALEX, SAM, MARIA, UNKNOWN = "+12025550101", "+12025550102", "+12025550104", "+12025550199"
# Every table an import writes to, for "nothing changed" checks.
WRITTEN = ("usage_counters", "usage_records", "charges", "prepaid_transactions", "audit_log")


def _env(database: Path, tmp_path: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("BILLBOT_") or key.startswith("BILLBOT_TEST_")
    }
    return {
        **env,
        "BILLBOT_DATABASE_URL": f"sqlite:///{database}",
        "BILLBOT_ENV_FILE": str(tmp_path / "no.env"),
    }


def _run(env: dict[str, str], *args: str, **options: Any) -> subprocess.CompletedProcess[str]:
    streams = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, **options}
    return subprocess.run(
        [*BILLBOT, *args], text=True, env=env, timeout=120, check=False, **streams
    )


@pytest.fixture(scope="module")
def _seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo database, seeded once (PIN hashing is slow) by the command itself."""
    folder = tmp_path_factory.mktemp("usage-cli")
    database = folder / "billbot.db"
    result = _run(_env(database, folder), "db", "seed-demo")
    assert result.returncode == 0, result.stderr
    return database


@pytest.fixture
def env(_seeded: Path, tmp_path: Path) -> dict[str, str]:
    """The environment of a command on a fresh copy of the demo database."""
    database = tmp_path / "billbot.db"
    shutil.copyfile(_seeded, database)
    return _env(database, tmp_path)


def _database(env: dict[str, str]) -> str:
    return env["BILLBOT_DATABASE_URL"].removeprefix("sqlite:///")


def _state(env: dict[str, str]) -> dict[str, list[tuple[Any, ...]]]:
    with sqlite3.connect(_database(env)) as connection:
        return {
            table: connection.execute(f"SELECT * FROM {table} ORDER BY id").fetchall()
            for table in WRITTEN
        }


def _write(tmp_path: Path, *rows: str, name: str = "usage.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def _at(hours_ago: int) -> str:
    """A time the command's own clock (the system's) sees as past."""
    return (datetime.now(UTC) - timedelta(hours=hours_ago)).isoformat(timespec="seconds")


def _good_file(tmp_path: Path) -> Path:
    return _write(
        tmp_path,
        f"{ALEX},{_at(3)},data,1.5,GB,",
        f"(202) 555-0101,{_at(2)},roaming_data,250,MB,4.50",
        f"{MARIA},{_at(1)},voice,12,min,1.20",
        f"{SAM},{_at(1)},sms,3,msg,",
    )


def test_a_good_file_is_imported_and_summed_up_in_one_line(
    env: dict[str, str], tmp_path: Path
) -> None:
    result = _run(env, "usage", "import", str(_good_file(tmp_path)))

    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        "Imported 4 rows for 3 lines: +1.7 GB data, 12 min, 3 msg; charges $5.70; "
        "0 already imported.\n"
    )
    assert result.stderr == ""  # no progress bar: stderr is not a terminal
    with sqlite3.connect(_database(env)) as connection:
        (records,) = connection.execute("SELECT count(*) FROM usage_records").fetchone()
        charges = connection.execute(
            "SELECT description, amount_minor FROM charges WHERE source_id IS NOT NULL"
        ).fetchall()
    assert records == 4
    assert charges == [("Roaming data 250 MB", 450)]


def test_importing_the_same_file_again_changes_nothing(
    env: dict[str, str], tmp_path: Path
) -> None:
    path = _good_file(tmp_path)
    assert _run(env, "usage", "import", str(path)).returncode == 0
    state = _state(env)

    again = _run(env, "usage", "import", str(path))

    assert again.returncode == 0, again.stderr
    assert again.stdout == "Nothing to import: 4 rows already imported.\n"
    assert _state(env) == state


def test_a_dry_run_says_what_it_would_do_and_writes_nothing(
    env: dict[str, str], tmp_path: Path
) -> None:
    state = _state(env)

    result = _run(env, "usage", "import", str(_good_file(tmp_path)), "--dry-run")

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(
        "Dry run, nothing written. Would import 4 rows for 3 lines: +1.7 GB data"
    )
    assert _state(env) == state


@pytest.mark.parametrize("dry_run", [[], ["--dry-run"]])
def test_a_bad_file_names_its_bad_lines_exits_2_and_changes_nothing(
    env: dict[str, str], tmp_path: Path, dry_run: list[str]
) -> None:
    state = _state(env)
    path = _write(
        tmp_path,
        f"{ALEX},{_at(3)},data,1,GB,",
        f"{UNKNOWN},{_at(3)},data,1,GB,",
        f"{ALEX},2025-03-01T10:00:00,data,1,GB,",
        f"{ALEX},{_at(3)},voice,1,GB,",
        f"{ALEX},{_at(3)},data,-1,MB,",
        f"{ALEX},{_at(3)},data,1,MB,0.001",
    )

    result = _run(env, "usage", "import", str(path), *dry_run)

    assert result.returncode == 2
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines() == [
        f"billbot usage import: {path}: 5 bad rows, nothing was imported:",
        f"  line 3: unknown number {UNKNOWN}",
        "  line 4: date '2025-03-01T10:00:00' has no time zone (add Z or +hh:mm)",
        "  line 5: unit GB does not fit kind voice (use min)",
        "  line 6: quantity -1 must be positive",
        "  line 7: charge 0.001 has more decimals than USD allows",
    ]
    assert _state(env) == state


def test_the_first_20_problems_are_shown_and_the_rest_counted(
    env: dict[str, str], tmp_path: Path
) -> None:
    path = _write(tmp_path, *(f"+1202555{n:04d},{_at(1)},data,1,MB," for n in range(1000, 1025)))

    result = _run(env, "usage", "import", str(path))

    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert lines[0].endswith("25 bad rows, nothing was imported:")
    assert lines[1] == "  line 2: unknown number +12025551000"
    assert len(lines) == 1 + 20 + 1
    assert lines[-1] == "  … and 5 more"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such file: {path}"),
        ("", "{path}: the file is empty"),
        ("msisdn,at,kind,quantity,unit\n", "{path}: missing column(s) charge"),
        (f"{HEADER},zone\n", "{path}: unknown column(s) 'zone'"),
        (f"{HEADER}\n", "{path}: the file has a header but no rows"),
        (b"\xff\xfe\x00binary", "{path} is not UTF-8 text"),
    ],
)
def test_a_file_that_cannot_be_imported_is_one_line_and_exit_2(
    env: dict[str, str], tmp_path: Path, content: str | bytes | None, message: str
) -> None:
    path = tmp_path / "usage.csv"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content, encoding="utf-8")

    result = _run(env, "usage", "import", str(path))

    assert result.returncode == 2
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("billbot usage import: " + message.format(path=path))


def test_a_database_that_cannot_be_used_is_one_line_and_exit_1(
    env: dict[str, str], tmp_path: Path
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("", encoding="utf-8")
    env = {**env, "BILLBOT_DATABASE_URL": f"sqlite:///{blocker / 'billbot.db'}"}

    result = _run(env, "usage", "import", str(_good_file(tmp_path)))

    assert result.returncode == 1
    assert result.stderr.count("\n") == 1, result.stderr
    assert "cannot use the database" in result.stderr


def test_a_terminal_gets_a_progress_bar_on_stderr(env: dict[str, str], tmp_path: Path) -> None:
    controller, terminal = pty.openpty()
    # A new pseudo-terminal is 0 columns wide, and tqdm fits its bar into that.
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    try:
        result = _run(env, "usage", "import", str(_good_file(tmp_path)), stderr=terminal)
    finally:
        os.close(terminal)
    shown = _read_all(controller)

    assert result.returncode == 0
    assert result.stdout.startswith("Imported 4 rows")
    assert "usage: 100%" in shown
    assert "4/4" in shown


def _read_all(fd: int) -> str:
    """What the child wrote to the terminal (read until it is closed)."""
    chunks = []
    try:
        while chunk := os.read(fd, 4096):
            chunks.append(chunk)
    except OSError:  # EIO: every writer is gone
        pass
    finally:
        os.close(fd)
    return b"".join(chunks).decode(errors="replace")
