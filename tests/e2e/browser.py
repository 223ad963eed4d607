"""What the browser tests share: Debian's Chromium and a `billbot demo` child on a free port.

The tests need Chromium: they skip on a laptop without it and fail in CI, which installs it.
Never `playwright install`: the tests drive the system's /usr/bin/chromium.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from bench.servers import stop, wait_ready

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Playwright

CHROMIUM = Path("/usr/bin/chromium")
# Flags for a sandboxed machine without a network (see the machine notes in the README).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def require_chromium() -> None:
    """Skip without Chromium; in CI (which installs it) fail instead."""
    if CHROMIUM.exists():
        return
    if os.environ.get("CI"):
        pytest.fail("Chromium is missing: .ci/run installs Debian's chromium")
    pytest.skip("Debian's chromium is not installed")


def launch_chromium(playwright: Playwright) -> Browser:
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def billbot_demo(database: Path, env: Mapping[str, str]) -> Iterator[str]:
    """`billbot demo` on its own SQLite database and a free port; its base URL until exit."""
    port = free_port()
    full_env = {
        **os.environ,
        "BILLBOT_DATABASE_URL": f"sqlite:///{database}",
        "BILLBOT_SCHEDULER": "0",
        **env,
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "bot", "demo", "--port", str(port)],
        env=full_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, server)
        yield url
    finally:
        stop(server)
