"""Two `billbot scheduler` processes on one PostgreSQL database: one runs the jobs, each alert
is queued once, and killing the holder (no clean exit) hands the jobs to the other."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

BILLBOT = [sys.executable, "-m", "bot"]
RUNNING, IDLE = "scheduler: running the jobs", "scheduler: not running the jobs"

pytestmark = pytest.mark.postgres


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*BILLBOT, *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def wait_for(condition: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.3)
    return condition()


def test_two_schedulers_queue_each_alert_once_and_a_killed_holder_hands_over(
    postgres_url: str, tmp_path: Path
) -> None:
    base = {k: v for k, v in os.environ.items() if not k.startswith("BILLBOT_")}
    env = {
        **base,
        "BILLBOT_DATABASE_URL": postgres_url,
        "BILLBOT_DEMO": "true",
        "BILLBOT_ENV_FILE": str(tmp_path / "no.env"),
        "BILLBOT_ALERTS_EVERY_SECONDS": "1",
        "BILLBOT_SCHEDULER_LEASE_SECONDS": "6",
        "BILLBOT_LOG_LEVEL": "INFO",
    }
    assert run(["db", "seed-demo"], env).returncode == 0
    logs = [tmp_path / "a.log", tmp_path / "b.log"]
    with logs[0].open("w") as first, logs[1].open("w") as second:
        children = [
            subprocess.Popen(
                [*BILLBOT, "scheduler"], env=env, stdout=out, stderr=subprocess.STDOUT
            )
            for out in (first, second)
        ]
        follower = _hand_over(children, logs, env)
    assert "Traceback" not in logs[follower].read_text()


def _hand_over(
    children: list[subprocess.Popen[bytes]], logs: list[Path], env: dict[str, str]
) -> int:
    """Each alert once under two schedulers; kill the holder; the other takes over."""
    try:

        def listed() -> list[dict[str, str]]:
            result = run(["alerts", "list", "--json"], env)
            return json.loads(result.stdout) if result.returncode == 0 else []

        def leaders() -> list[int]:
            return [i for i, log in enumerate(logs) if _leads(log)]

        assert wait_for(lambda: bool(listed()) and len(leaders()) == 1, 60)
        time.sleep(3)  # several more scans by the holder
        alerts = listed()
        copies = Counter((e["kind"], e["recipient"], e["body"]) for e in alerts)
        assert copies and max(copies.values()) == 1
        assert wait_for(lambda: len(leaders()) == 1, 30)  # a slow renewal may swap them
        [leader] = leaders()
        follower = 1 - leader

        children[leader].send_signal(signal.SIGKILL)
        children[leader].wait(timeout=30)

        assert wait_for(lambda: _leads(logs[follower]), 30)
        children[follower].send_signal(signal.SIGTERM)
        assert children[follower].wait(timeout=30) == 0
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
                child.wait(timeout=30)
    return follower


def _leads(log: Path) -> bool:
    """Whether the process's last word on the lease was that it runs the jobs."""
    states = [line for line in log.read_text().splitlines() if RUNNING in line or IDLE in line]
    return bool(states) and RUNNING in states[-1]
