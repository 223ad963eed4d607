"""Drive the load with Debian's `wrk` (a C client that does not cap the baseline)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.results import LoadResult

SCRIPT = Path(__file__).resolve().with_name("chat.lua")
MARKER = "BENCH_RESULT "
SOCKET_ERRORS = ("connect", "read", "write", "timeout")
TIMEOUT = "10s"  # wrk's default of 2 s would count today's slow tail as socket errors


class WrkError(RuntimeError):
    """wrk could not run, or printed no result line."""


def find_wrk(*, install: bool = True) -> str | None:
    """The `wrk` executable; installs Debian's package when missing and running as root."""
    found = shutil.which("wrk")
    if found or not install or not can_install():
        return found
    print("wrk is missing: installing Debian's package (apt-get install wrk)", file=sys.stderr)
    if not _apt("install", "-y", "-qq", "wrk"):  # the package lists may be missing or stale
        _apt("update", "-qq")
        _apt("install", "-y", "-qq", "wrk")
    return shutil.which("wrk")


def _apt(*args: str) -> bool:
    """Run apt-get quietly; its output goes to stderr only when it fails."""
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    done = subprocess.run(
        ["apt-get", *args],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        print(f"apt-get {args[0]} failed: {done.stderr.strip()[-300:]}", file=sys.stderr)
    return done.returncode == 0


def can_install() -> bool:
    """apt-get is there and we are root (the bench never asks for a password)."""
    return os.geteuid() == 0 and shutil.which("apt-get") is not None


@dataclass(frozen=True, slots=True)
class WrkClient:
    """`wrk -t THREADS -c CONNECTIONS -d SECONDS` with bench/chat.lua."""

    executable: str
    connections: int
    threads: int = 2
    phone: str = "+12025550101"

    @property
    def label(self) -> str:
        return f"wrk, {self.threads} threads"

    def run(self, name: str, base_url: str, sessions: Sequence[str], seconds: float) -> LoadResult:
        """One timed run over the session pool; raises WrkError when wrk fails."""
        with tempfile.NamedTemporaryFile("w", suffix=".sessions", encoding="utf-8") as pool:
            pool.write("\n".join(sessions) + "\n")
            pool.flush()
            command = self.command(base_url, Path(pool.name), seconds)
            done = subprocess.run(
                command, capture_output=True, text=True, errors="replace", check=False
            )
        if done.returncode != 0:
            raise WrkError(f"wrk exited with {done.returncode}: {done.stderr.strip()[-500:]}")
        return parse_output(name, done.stdout)

    def command(self, base_url: str, pool: Path, seconds: float) -> list[str]:
        """The wrk command line; arguments after `--` go to the script's init()."""
        return [
            self.executable,
            f"--threads={self.threads}",
            f"--connections={self.connections}",
            f"--duration={max(1, round(seconds))}s",
            f"--timeout={TIMEOUT}",
            f"--script={SCRIPT}",
            "--latency",
            base_url,
            "--",
            str(pool),
            str(self.threads),
            self.phone,
        ]


def parse_output(name: str, stdout: str) -> LoadResult:
    """The LoadResult from the `BENCH_RESULT {json}` line that chat.lua's done() prints."""
    lines = [line for line in stdout.splitlines() if line.startswith(MARKER)]
    if not lines:
        raise WrkError(f"wrk printed no {MARKER.strip()} line:\n{stdout.strip()[-500:]}")
    data = json.loads(lines[-1].removeprefix(MARKER))
    statuses = sorted((int(status), int(count)) for status, count in data["statuses"].items())
    kinds = [(f"HTTP {status}", count) for status, count in statuses]
    kinds += [(f"socket {kind}", int(data[kind])) for kind in SOCKET_ERRORS if data[kind]]
    return LoadResult(
        name=name,
        requests=int(data["requests"]) - int(data["non2xx"]),
        errors=sum(count for _, count in kinds),
        seconds=data["duration_us"] / 1e6,
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        error_kinds=tuple(kinds),
        first_failure=str(data.get("sample", "")),
    )
