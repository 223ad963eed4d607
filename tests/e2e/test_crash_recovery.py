"""A real `billbot demo` server killed with SIGKILL in the middle of a load, then restarted.

Every accepted message is answered once — to its client's retry (same id) or by the recovery
sweep, for messages nobody retries — side effects happen once, no conversation lease outlives
its lease, and no PIN reaches the database file or its WAL.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench.servers import stop, wait_ready
from bot.engine import RESEND
from bot.errors import UNAVAILABLE

ALEX, SAM = "+12025550101", "+12025550102"
LEASE_SECONDS = 6  # short leases keep the test quick; production uses 15 s
WRONG_PIN = "97531864"  # typed at the PIN step: a secret that must never be stored
RETRY_FOR_SECONDS = 90.0
TICKET_CLIENTS, BALANCE_CLIENTS, ABANDONED = 8, 12, 6


@dataclass(slots=True)
class Client:
    """One browser tab: a session, a script, and the one answer each message got."""

    phone: str
    script: list[str]
    session: str = field(default_factory=lambda: uuid.uuid4().hex)
    answers: list[list[str]] = field(default_factory=list)
    sent: int = 0  # messages sent (a retry of one keeps its id; a resend is a new message)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def _server(env: dict[str, str], port: int, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("ab") as output:
        command = [sys.executable, "-m", "bot", "demo", "--port", str(port)]
        child = subprocess.Popen(command, env=env, stdout=output, stderr=output)
    try:
        wait_ready(f"http://127.0.0.1:{port}", child)
        yield child
    finally:
        if child.poll() is None:
            stop(child)


async def _send(http: httpx.AsyncClient, client: Client, text: str) -> list[str]:
    """POST until answered: same id on every retry, as the chat page does."""
    body = {"text": text, "as": client.phone, "session": client.session, "id": uuid.uuid4().hex}
    client.sent += 1
    give_up = time.monotonic() + RETRY_FOR_SECONDS
    while time.monotonic() < give_up:
        try:
            response = await http.post("/api/chat", json=body)
        except httpx.TransportError:
            await asyncio.sleep(0.2)
            continue
        if response.status_code == 200:
            return [reply["text"] for reply in response.json()["replies"]]
        assert response.status_code in (409, 503), response.text
        await asyncio.sleep(float(response.headers.get("retry-after", "1")))
    raise AssertionError(f"{text!r} was never answered")


async def _run(http: httpx.AsyncClient, client: Client) -> None:
    for text in client.script:
        answer = await _send(http, client, text)
        while RESEND["en"] in answer or UNAVAILABLE["en"] in answer:
            # The sweep answered a PIN it never stored, or the turn was cut off while the
            # restarted server caught up: a customer types it again, and so do we.
            answer = await _send(http, client, text)
        client.answers.append(answer)


async def _abandon(base_url: str, phone: str) -> None:
    """Send a message and hang up at once: nobody will ever retry it."""
    body = {"text": "what do I owe", "as": phone, "session": uuid.uuid4().hex, "id": "gone"}
    async with httpx.AsyncClient(base_url=base_url, timeout=0.05) as http:
        with suppress(httpx.TransportError):
            await http.post("/api/chat", json=body)


def _clients() -> list[Client]:
    tickets = [
        Client(ALEX, [f"my internet keeps dropping every evening, case {n}", "yes", "balance"])
        for n in range(TICKET_CLIENTS)
    ]
    balances = [Client(ALEX, ["balance"] * 8) for _ in range(BALANCE_CLIENTS)]
    barring = [Client(SAM, ["I lost my phone", "2", WRONG_PIN, "1357", "yes"]) for _ in range(2)]
    return [*tickets, *balances, *barring]


async def _until_in_flight(database: Path, *, seconds: float = 10.0) -> None:
    """Return as soon as some accepted message is not answered yet (a fast server answers
    the load quickly: a fixed pause could kill it between messages)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        rows = _query(database, "SELECT count(*) FROM bot_inbound WHERE status='received'")
        if int(str(rows[0][0])) > 0:
            return
        await asyncio.sleep(0.005)


def _query(database: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(database) as connection:
        return connection.execute(sql).fetchall()


def _database_files(database: Path) -> list[tuple[str, bytes]]:
    """The database file and its -wal / -shm companions, as bytes."""
    files = database.parent.glob(database.name + "*")
    return [(path.name, path.read_bytes()) for path in sorted(files)]


def _wait_until_all_answered(database: Path, timeout: float) -> list[tuple[object, ...]]:
    give_up = time.monotonic() + timeout
    while True:
        pending = _query(database, "SELECT external_id FROM bot_inbound WHERE status='received'")
        if not pending or time.monotonic() > give_up:
            return pending
        time.sleep(0.5)


async def test_a_killed_server_loses_no_message_and_repeats_no_side_effect(
    tmp_path: Path,
) -> None:
    port, database = _free_port(), tmp_path / "crash.db"
    base_url = f"http://127.0.0.1:{port}"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("BILLBOT_")},
        "BILLBOT_DATABASE_URL": f"sqlite:///{database}",
        "BILLBOT_SCHEDULER": "false",
        "BILLBOT_TURN_LEASE_SECONDS": str(LEASE_SECONDS),
        "BILLBOT_RECOVERY_SWEEP_SECONDS": "1",
        "BILLBOT_ENV_FILE": str(tmp_path / "no.env"),
    }
    clients = _clients()
    log = tmp_path / "server.log"
    with _server(env, port, log) as first:
        async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
            load = [asyncio.create_task(_run(http, client)) for client in clients]
            await asyncio.sleep(0.8)
            await asyncio.gather(*(_abandon(base_url, ALEX) for _ in range(ABANDONED)))
            await _until_in_flight(database)  # kill while messages are being answered
            os.kill(first.pid, signal.SIGKILL)
            first.wait()
            in_flight = _query(
                database, "SELECT count(*) FROM bot_inbound WHERE status='received'"
            )
            with _server(env, port, log):
                await asyncio.gather(*load)
                pending = await asyncio.to_thread(_wait_until_all_answered, database, 30)
                leases = _query(
                    database, "SELECT count(*) FROM bot_conversation WHERE lock_token IS NOT NULL"
                )

    assert in_flight[0][0] > 0, "the kill should have caught messages in flight"
    assert pending == []
    assert leases == [(0,)]
    for client in clients:
        assert len(client.answers) == len(client.script)
        assert all(answer and all(answer) for answer in client.answers)
    references = {
        text.split("ticket ")[1].split(" ")[0]
        for client in clients[:TICKET_CLIENTS]
        for text in client.answers[1]
        if "Your ticket" in text
    }
    assert len(references) == TICKET_CLIENTS, [c.answers for c in clients[:TICKET_CLIENTS]]
    tickets = _query(database, "SELECT id FROM tickets")
    assert {f"T-{ticket_id:06d}" for (ticket_id,) in tickets} == references
    assert _query(database, "SELECT count(*) FROM barrings") == [(1,)], clients[-2:]
    # Every message sent was accepted once (an abandoned one may not have arrived at all); a
    # message typed again after a RESEND answer is a message of its own.
    sent = sum(client.sent for client in clients)
    [(stored,)] = _query(database, "SELECT count(*) FROM bot_inbound")
    assert sent <= int(str(stored)) <= sent + ABANDONED
    for name, content in _database_files(database):
        assert WRONG_PIN.encode() not in content, name
