"""A bounded closed-loop load: N requests shared by C concurrent clients, each its own session."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx

ALEX = "+12025550101"


@dataclass(frozen=True, slots=True)
class LoadResult:
    """What one load run measured; latencies in seconds."""

    name: str
    requests: int  # answered with 200; latencies are of these only
    errors: int  # any other status, or no answer at all
    seconds: float
    latencies: tuple[float, ...]
    error_kinds: tuple[tuple[str, int], ...] = ()

    @property
    def per_second(self) -> float:
        """Successful messages per second of wall time."""
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def p50_ms(self) -> float:
        """Median latency of the successful requests, in milliseconds."""
        return percentile(self.latencies, 50) * 1000

    @property
    def p99_ms(self) -> float:
        """99th percentile latency of the successful requests, in milliseconds."""
        return percentile(self.latencies, 99) * 1000


def percentile(values: tuple[float, ...] | list[float], pct: int) -> float:
    """Nearest-rank style percentile via statistics.quantiles (inclusive)."""
    if len(values) < 2:
        return values[0] if values else 0.0
    return statistics.quantiles(values, n=100, method="inclusive")[pct - 1]


async def run_load(
    name: str, base_url: str, *, requests: int, concurrency: int, time_limit: float
) -> LoadResult:
    """Send `requests` 'balance' messages; stops early (and counts what finished) at the limit."""
    budget = iter(range(requests))
    latencies: list[float] = []
    errors: Counter[str] = Counter()
    deadline = time.monotonic() + time_limit
    started = time.perf_counter()
    workers = [
        client_loop(base_url, budget, latencies, errors, deadline) for _ in range(concurrency)
    ]
    await asyncio.gather(*workers)
    elapsed = time.perf_counter() - started
    kinds = tuple(sorted(errors.items()))
    return LoadResult(name, len(latencies), errors.total(), elapsed, tuple(latencies), kinds)


async def client_loop(
    base_url: str,
    budget: Iterator[int],
    latencies: list[float],
    errors: Counter[str],
    deadline: float,
) -> None:
    """One customer's browser tab: its own connection and session, one message at a time."""
    session: str | None = None
    async with httpx.AsyncClient(base_url=base_url, timeout=30.0) as client:
        for _ in budget:
            if time.monotonic() > deadline:
                return
            body: dict[str, Any] = {"text": "balance", "as": ALEX}
            if session:
                body["session"] = session
            started = time.perf_counter()
            try:
                response = await client.post("/api/chat", json=body)
            except httpx.HTTPError as exc:
                errors[type(exc).__name__] += 1
                continue
            if response.status_code != 200:
                errors[f"HTTP {response.status_code}"] += 1
                continue
            latencies.append(time.perf_counter() - started)
            session = response.json()["session"]
