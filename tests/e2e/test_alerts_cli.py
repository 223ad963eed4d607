"""`billbot alerts run-once|list` and `billbot scheduler` as a customer's operator runs them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

BILLBOT = [sys.executable, "-m", "bot"]
# The demo data is seeded relative to today, so the scans run as of now (the default); at
# night in New York the alerts are deferred to the morning instead of queued: either is due.
DUE = {"queued", "deferred"}


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("BILLBOT_")}
    environment = {
        **base,
        "BILLBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'alerts.db'}",
        "BILLBOT_DEMO": "true",
        "BILLBOT_ENV_FILE": str(tmp_path / "no.env"),
    }
    run(["db", "seed-demo"], environment)
    return environment


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*BILLBOT, *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_run_once_queues_the_due_alerts_once_and_says_what_it_did(env: dict[str, str]) -> None:
    first = run(["alerts", "run-once", "--json"], env)
    again = run(["alerts", "run-once"], env)

    assert first.returncode == 0, first.stderr
    decisions = json.loads(first.stdout)
    usage = [d for d in decisions if d["kind"] == "usage_threshold"]
    assert len(usage) == 2 and {d["outcome"] for d in usage} <= DUE
    assert all(d["channel"] == "sms" and "% of its data" in d["text"] for d in usage)
    assert again.returncode == 0 and "already queued" in again.stdout


def test_a_dry_run_queues_nothing(env: dict[str, str]) -> None:
    dry = run(["alerts", "run-once", "--dry-run"], env)
    listed = run(["alerts", "list"], env)

    assert dry.returncode == 0 and dry.stdout.strip().endswith(".")
    assert "Dry run" in dry.stdout
    assert listed.stdout.strip() == "No alerts yet."


def test_alerts_list_shows_one_customers_alerts(env: dict[str, str]) -> None:
    run(["alerts", "run-once"], env)

    alex = run(["alerts", "list", "--account", "+12025550101", "--json"], env)

    [entry] = json.loads(alex.stdout)
    assert entry["kind"] == "usage_threshold" and entry["recipient"] == "+12025550101"


def test_a_moment_that_is_not_iso_8601_is_one_line_and_exit_2(env: dict[str, str]) -> None:
    result = run(["alerts", "run-once", "--at", "next tuesday"], env)

    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "ISO 8601" in result.stderr


def test_the_scheduler_runs_the_scan_and_stops_cleanly_on_sigterm(env: dict[str, str]) -> None:
    child = subprocess.Popen(
        [*BILLBOT, "scheduler"],
        env={**env, "BILLBOT_ALERTS_EVERY_SECONDS": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            listed = run(["alerts", "list", "--json"], env)
            if listed.returncode == 0 and json.loads(listed.stdout):
                break
            time.sleep(0.5)
        child.send_signal(signal.SIGTERM)
        out, err = child.communicate(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == 0, err
    assert "scheduler running" in out and "Traceback" not in err
    assert {e["kind"] for e in json.loads(listed.stdout)} >= {"usage_threshold"}
