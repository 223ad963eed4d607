"""How long the NLU takes: start-up (building the model) and warm per-utterance parse times.

Parses are timed with `classify`, not `parse`: `parse` remembers short texts, so timing it
over repeated rounds would mostly time the cache. A new message costs what `classify` costs.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any, TypeVar

MIN_TIMINGS = 1000  # enough timings that the p99 is not one unlucky call
Timer = Callable[[], float]  # seconds, monotonic
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Latency:
    """Start-up seconds, and parse milliseconds over `utterances` texts timed `rounds` times."""

    startup_seconds: float
    utterances: int
    rounds: int
    median_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data."""
        return {k: round(v, 4) if isinstance(v, float) else v for k, v in asdict(self).items()}


def timed(build: Callable[[], T], timer: Timer = time.perf_counter) -> tuple[T, float]:
    """`build()` and the seconds it took (for start-up: training the model, imports included)."""
    started = timer()
    built = build()
    return built, timer() - started


def measure_latency(
    parse: Callable[[str], object],
    texts: Sequence[str],
    *,
    startup_seconds: float,
    min_timings: int = MIN_TIMINGS,
    timer: Timer = time.perf_counter,
) -> Latency:
    """Parse every text once untimed (so caches, lazy imports and allocations are warm), then
    time each text in turn, for as many rounds as it takes to reach `min_timings` timings."""
    if not texts:
        raise ValueError("nothing to time: no texts")
    if min_timings < 2:
        raise ValueError("min_timings must be at least 2")
    for text in texts:
        parse(text)
    rounds = math.ceil(min_timings / len(texts))
    samples = [_time_one(parse, text, timer) * 1000 for _ in range(rounds) for text in texts]
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return Latency(startup_seconds, len(texts), rounds, cuts[49], cuts[94], cuts[98], max(samples))


def _time_one(parse: Callable[[str], object], text: str, timer: Timer) -> float:
    started = timer()
    parse(text)
    return timer() - started
