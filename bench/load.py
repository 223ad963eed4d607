"""The fallback load client: several Python processes of httpx clients, when wrk is missing.

One Python process caps the baseline (721 req/s against the bare endpoint, where wrk got
3,380), so the connections are spread over several processes that start their clocks
together (a barrier after their imports) and run for the same time. Each connection is a closed
loop (one request at a time) cycling through its own slice of the session pool, so no two
in-flight requests ever share a session. Still slower than wrk: prefer wrk's figures.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from multiprocessing import get_context
from multiprocessing.queues import SimpleQueue
from multiprocessing.synchronize import Barrier as BarrierType

import httpx

from bench.results import LoadResult
from bench.results import percentile as percentile  # bench.nlu imports it from here
from bench.sessions import ALEX


def default_processes() -> int:
    """One client process per core (at least two). More only add overhead on a small machine,
    where the clients and the server share the cores anyway."""
    return max(2, os.cpu_count() or 1)


@dataclass(slots=True)
class Tally:
    """What one client process saw: latencies (seconds) of 2xx answers and failures by kind."""

    latencies: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    first_failure: str = ""

    def merge(self, other: Tally) -> None:
        self.latencies += other.latencies
        self.errors.update(other.errors)
        self.seconds = max(self.seconds, other.seconds)
        self.first_failure = self.first_failure or other.first_failure

    def fail(self, kind: str, detail: str) -> None:
        self.errors[kind] += 1
        self.first_failure = self.first_failure or detail[:200]


@dataclass(frozen=True, slots=True)
class ProcessClient:
    """`connections` closed-loop httpx clients spread over `processes` processes."""

    connections: int
    processes: int
    phone: str = ALEX

    @property
    def label(self) -> str:
        return f"{self.processes} Python client processes (httpx; wrk not available)"

    def run(self, name: str, base_url: str, sessions: Sequence[str], seconds: float) -> LoadResult:
        """One timed run; the processes start their clocks together, after their imports."""
        context = get_context("spawn")
        shares = split(list(sessions), self.connections, max(1, self.processes))
        ready = context.Barrier(len(shares))
        results: SimpleQueue[Tally] = context.SimpleQueue()
        children = [
            context.Process(
                target=run_process, args=(base_url, share, seconds, self.phone, ready, results)
            )
            for share in shares
        ]
        for child in children:
            child.start()
        total = Tally()
        for _ in children:
            total.merge(results.get())
        for child in children:
            child.join()
        return to_result(name, total)


def split(sessions: list[str], connections: int, processes: int) -> list[list[list[str]]]:
    """Per process, per connection, its sessions: connection i gets every i-th session."""
    per_connection = [sessions[i :: max(1, connections)] or sessions for i in range(connections)]
    shares = [per_connection[p::processes] for p in range(processes)]
    return [share for share in shares if share]


def to_result(name: str, tally: Tally) -> LoadResult:
    """Merged latencies in milliseconds and errors by kind."""
    return LoadResult(
        name=name,
        requests=len(tally.latencies),
        errors=tally.errors.total(),
        seconds=tally.seconds,
        p50_ms=percentile(tally.latencies, 50) * 1000,
        p99_ms=percentile(tally.latencies, 99) * 1000,
        error_kinds=tuple(sorted(tally.errors.items())),
        first_failure=tally.first_failure,
    )


def run_process(
    base_url: str,
    share: list[list[str]],
    seconds: float,
    phone: str,
    ready: BarrierType,
    results: SimpleQueue[Tally],
) -> None:
    """A child process: one event loop running one client per connection of its share."""
    try:
        ready.wait(timeout=120)  # every process has imported what it needs: start together
        tally = asyncio.run(run_clients(base_url, share, seconds, phone))
    except Exception as exc:  # the parent must get an answer from every child
        tally = Tally()
        tally.fail(f"client {type(exc).__name__}", f"client process failed: {exc}")
    results.put(tally)


async def run_clients(base_url: str, share: list[list[str]], seconds: float, phone: str) -> Tally:
    tally = Tally()
    deadline = time.monotonic() + seconds
    started = time.perf_counter()
    await asyncio.gather(*(client_loop(base_url, own, deadline, phone, tally) for own in share))
    tally.seconds = time.perf_counter() - started
    return tally


async def client_loop(
    base_url: str, sessions: list[str], deadline: float, phone: str, tally: Tally
) -> None:
    """One connection: send "balance" in its sessions in turn until the deadline."""
    async with httpx.AsyncClient(base_url=base_url, timeout=10.0) as client:
        turn = 0
        while time.monotonic() < deadline:
            body = {"text": "balance", "as": phone, "session": sessions[turn % len(sessions)]}
            turn += 1
            started = time.perf_counter()
            try:
                response = await client.post("/api/chat", json=body)
            except httpx.HTTPError as exc:
                tally.fail(f"socket {type(exc).__name__}", f"{type(exc).__name__}: {exc}")
                continue
            if 200 <= response.status_code < 300:
                tally.latencies.append(time.perf_counter() - started)
            else:
                status = f"HTTP {response.status_code}"
                tally.fail(status, f"{status}: {response.text}")
