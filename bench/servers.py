"""Start a server child on a free loopback port and wait until it answers."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

import httpx

STARTUP_TIMEOUT_SECONDS = 180.0  # billbot trains its NLU model at start-up


@dataclass(frozen=True, slots=True)
class Server:
    """A running server child: where it answers and its process id (for py-spy)."""

    url: str
    pid: int


@contextmanager
def serving(app: str, env: Mapping[str, str]) -> Iterator[Server]:
    """Run `python -m bench.serve app` on 127.0.0.1:<free port> in one uvicorn worker."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)  # TCP_NODELAY
    sock.bind(("127.0.0.1", 0))
    sock.listen(1024)
    base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    command = [sys.executable, "-m", "bench.serve", app, "--fd", str(sock.fileno())]
    child = subprocess.Popen(command, env={**os.environ, **env}, pass_fds=[sock.fileno()])
    sock.close()  # the child holds its own copy
    try:
        wait_ready(base_url, child)
        yield Server(base_url, child.pid)
    finally:
        stop(child)


def wait_ready(base_url: str, child: subprocess.Popen[bytes]) -> None:
    """Poll /healthz until it answers 200; fail fast if the child died."""
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if child.poll() is not None:
            raise RuntimeError(f"the server exited with code {child.returncode}")
        try:
            if httpx.get(f"{base_url}/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the server did not start within {STARTUP_TIMEOUT_SECONDS:.0f} s")


def stop(child: subprocess.Popen[bytes]) -> None:
    """SIGTERM (uvicorn shuts down gracefully), then SIGKILL if it hangs."""
    child.terminate()
    try:
        child.wait(timeout=15)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()
