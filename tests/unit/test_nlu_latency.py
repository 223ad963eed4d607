"""Parse latency and start-up time, measured against a fake clock."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from bot.nlu.latency import measure_latency, timed


class FakeClock:
    """A clock that only moves when told to."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def slow_parser(
    clock: FakeClock, seconds: dict[str, float], calls: list[str]
) -> Callable[[str], None]:
    """A parser that takes `seconds[text]` on the fake clock and records what it parsed."""

    def parse(text: str) -> None:
        calls.append(text)
        clock.now += seconds[text]

    return parse


def test_percentiles_of_the_per_utterance_times() -> None:
    clock, calls = FakeClock(), list[str]()
    seconds = {f"text {n}": n / 1000 for n in range(1, 101)}  # 1 ms … 100 ms
    latency = measure_latency(
        slow_parser(clock, seconds, calls),
        list(seconds),
        startup_seconds=1.5,
        min_timings=100,
        timer=clock,
    )
    assert (latency.utterances, latency.rounds) == (100, 1)
    assert latency.median_ms == pytest.approx(50.5)
    assert latency.p95_ms == pytest.approx(95.05)
    assert latency.p99_ms == pytest.approx(99.01)
    assert latency.max_ms == pytest.approx(100.0)
    assert latency.startup_seconds == 1.5


def test_every_text_is_parsed_once_untimed_first_then_in_enough_rounds() -> None:
    clock, calls = FakeClock(), list[str]()
    texts = ["a", "b", "c"]
    latency = measure_latency(
        slow_parser(clock, dict.fromkeys(texts, 0.001), calls),
        texts,
        startup_seconds=0.0,
        min_timings=7,
        timer=clock,
    )
    assert latency.rounds == 3  # 9 timings ≥ 7
    assert calls == texts * 4  # one warm-up pass, then three timed rounds


def test_nothing_to_time_is_refused() -> None:
    with pytest.raises(ValueError, match="no texts"):
        measure_latency(len, [], startup_seconds=0.0)
    with pytest.raises(ValueError, match="min_timings"):
        measure_latency(len, ["a"], startup_seconds=0.0, min_timings=1)


def test_as_dict_is_json_ready_and_rounded() -> None:
    clock, calls = FakeClock(), list[str]()
    latency = measure_latency(
        slow_parser(clock, {"a": 0.000123456}, calls),
        ["a"],
        startup_seconds=0.123456789,
        min_timings=2,
        timer=clock,
    )
    data = latency.as_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["startup_seconds"] == 0.1235
    assert data["median_ms"] == pytest.approx(0.1235)
    assert set(data) == {
        "startup_seconds",
        "utterances",
        "rounds",
        "median_ms",
        "p95_ms",
        "p99_ms",
        "max_ms",
    }


def test_timed_returns_the_result_and_the_seconds_it_took() -> None:
    clock = FakeClock()

    def build() -> str:
        clock.now += 2.25
        return "model"

    assert timed(build, clock) == ("model", 2.25)
