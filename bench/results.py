"""What a load run measured, and whether it meets the issue's target."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

# Issue 5's target: at 32 connections, one uvicorn worker each, billbot's "balance" through
# /api/chat at >= 0.10 of the bare endpoint's throughput with p99 <= 100 ms.
TARGET_RATIO = 0.10
TARGET_P99_MS = 100.0


@dataclass(frozen=True, slots=True)
class LoadResult:
    """One timed load run against one server; latencies in milliseconds."""

    name: str
    requests: int  # answered with a 2xx status
    errors: int  # non-2xx answers, socket errors and timeouts
    seconds: float
    p50_ms: float
    p99_ms: float
    error_kinds: tuple[tuple[str, int], ...] = ()  # ("HTTP 500", 3), ("timeout", 1), …
    first_failure: str = ""  # e.g. the status and start of the body of the first non-2xx

    @property
    def per_second(self) -> float:
        """Successful messages per second of wall time."""
        return self.requests / self.seconds if self.seconds else 0.0


@dataclass(frozen=True, slots=True)
class Outcome:
    """A benchmark target: its load result, or why it has none (skipped or broken)."""

    server: str  # "bare FastAPI endpoint", "billbot /api/chat"
    database: str  # "SQLite", "PostgreSQL", or "-" for the bare endpoint
    result: LoadResult | None = None
    note: str = ""
    broken: bool = False  # True when it should have run but could not (a failure, not a skip)

    @property
    def failed(self) -> bool:
        """Whether this target makes the run exit non-zero."""
        return self.broken or (self.result is not None and self.result.errors > 0)


def ratio(result: LoadResult, baseline: LoadResult) -> float:
    """`result`'s throughput as a fraction of the baseline's (0 when the baseline did nothing)."""
    return result.per_second / baseline.per_second if baseline.per_second else 0.0


def meets_target(result: LoadResult, baseline: LoadResult) -> bool:
    """Throughput ratio and tail latency both within the target, and nothing failed."""
    return (
        result.errors == 0
        and ratio(result, baseline) >= TARGET_RATIO
        and result.p99_ms <= TARGET_P99_MS
    )


def percentile(values: Sequence[float], pct: int) -> float:
    """The `pct`th percentile (inclusive method); the only value for one, 0 for none."""
    if len(values) < 2:
        return values[0] if values else 0.0
    return statistics.quantiles(values, n=100, method="inclusive")[pct - 1]
