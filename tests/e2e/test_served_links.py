"""Real `billbot chat` and `billbot serve` processes in demo mode without BILLBOT_SECRET_KEY.

Links one process prints are accepted by another on the same database, also after a restart
(the demo secret is kept per database), and the server's output never shows a link token:
uvicorn's access log is off, billbot's own logs `/pay/…`. That two databases refuse each
other's links is tested in-process (tests/integration/test_demo_secret.py).
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from bench.servers import stop, wait_ready

BILLBOT = [sys.executable, "-m", "bot"]
ALEX, SAM = "+12025550101", "+12025550102"
LINK = re.compile(r"http://127\.0\.0\.1:\d+/pay/\S+")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def port() -> int:
    return _free_port()


@pytest.fixture
def env(tmp_path: Path, port: int) -> dict[str, str]:
    """Demo mode, no secret: links are signed with the database's own demo secret."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("BILLBOT_")}
    return {
        **inherited,
        "BILLBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'demo.db'}",
        "BILLBOT_DEMO": "1",
        "BILLBOT_SCHEDULER": "false",
        "BILLBOT_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "BILLBOT_ENV_FILE": str(tmp_path / "no.env"),
    }


def _chat_link(env: dict[str, str], phone: str, text: str) -> str:
    result = subprocess.run(
        [*BILLBOT, "chat", "--as", phone],
        input=text + "\n",
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    found = LINK.search(result.stdout)
    assert found is not None, result.stdout
    return found.group()


@contextmanager
def _served(env: dict[str, str], port: int, logs: Path) -> Iterator[str]:
    """`billbot serve` on `port`; its stdout and stderr are written to `logs`."""
    with logs.open("ab") as output:
        server = subprocess.Popen(
            [*BILLBOT, "serve", "--port", str(port)], env=env, stdout=output, stderr=output
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, server)
        yield url
    finally:
        stop(server)


def test_demo_links_work_across_processes_and_restarts_and_no_log_shows_a_token(
    env: dict[str, str], port: int, tmp_path: Path
) -> None:
    logs = tmp_path / "server.log"
    printed = _chat_link(env, ALEX, "pay my bill")  # printed before any server ran
    with _served(env, port, logs) as base:
        page = httpx.get(printed, timeout=30)
        assert page.status_code == 200
        assert "$64.20" in page.text
        assert httpx.get(printed + "/qr.png", timeout=30).status_code == 200
        answer = httpx.post(
            f"{base}/api/chat", json={"text": "pay my bill", "as": SAM}, timeout=30
        ).json()
        served = next(reply["link"] for reply in answer["replies"] if reply.get("link"))
    with _served(env, port, logs):  # the same demo, restarted
        assert httpx.get(served, timeout=30).status_code == 200
        assert httpx.get(printed, timeout=30).status_code == 200

    output = logs.read_text(encoding="utf-8")
    for link in (printed, served):
        token = urlsplit(link).path.rsplit("/", 1)[1]
        assert token not in output
        assert token.rsplit(".", 1)[1] not in output  # not even the signature
    assert "GET /pay/… 200" in output
    assert "GET /pay/…/qr.png 200" in output
    assert "Traceback" not in output
