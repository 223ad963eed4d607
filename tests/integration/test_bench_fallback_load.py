"""Without wrk, the bench loads a real server from several Python client processes."""

from __future__ import annotations

import asyncio

from bench.load import ProcessClient
from bench.servers import serving
from bench.sessions import create_sessions


def test_client_processes_share_the_connections_and_count_every_answer() -> None:
    with serving("bare", {}) as server:
        sessions = asyncio.run(create_sessions(server.url, 8, concurrency=4))
        result = ProcessClient(connections=4, processes=2).run("bare", server.url, sessions, 1.0)
    assert sessions == ["bare"] * 8  # the bare endpoint echoes no session of its own
    assert result.requests > 0
    assert result.errors == 0
    assert 0 < result.p50_ms <= result.p99_ms
