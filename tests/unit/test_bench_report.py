"""The bench's verdict on the issue's target, and how its report shows each target."""

from __future__ import annotations

from bench.load import Tally, split, to_result
from bench.report import Report, RunShape, load_section, outcome_row, render, target_line
from bench.results import LoadResult, Outcome, meets_target, percentile, ratio

BARE = LoadResult("bare", requests=30_000, errors=0, seconds=10.0, p50_ms=9.0, p99_ms=20.0)
SHAPE = RunShape("wrk, 2 threads", connections=32, seconds=10, warmup_seconds=3, sessions=256)


def billbot(per_second: float, p99_ms: float, errors: int = 0) -> LoadResult:
    requests = round(per_second * 10)
    return LoadResult("billbot", requests, errors, 10.0, p50_ms=p99_ms / 3, p99_ms=p99_ms)


def test_a_tenth_of_the_bare_throughput_within_100_ms_meets_the_target() -> None:
    assert meets_target(billbot(300, 100.0), BARE)
    assert ratio(billbot(300, 100.0), BARE) == 0.1


def test_too_slow_a_tail_or_too_little_throughput_misses_the_target() -> None:
    assert not meets_target(billbot(300, 100.1), BARE)
    assert not meets_target(billbot(299, 50.0), BARE)


def test_a_single_failed_request_misses_the_target() -> None:
    assert not meets_target(billbot(1000, 10.0, errors=1), BARE)


def test_the_verdict_names_each_database_and_its_figures() -> None:
    outcomes = [
        Outcome("bare FastAPI endpoint", "-", BARE),
        Outcome("billbot /api/chat", "SQLite", billbot(52, 1700.0)),
        Outcome("billbot /api/chat", "PostgreSQL", billbot(400, 80.0)),
    ]
    line = target_line(outcomes, BARE)
    assert "SQLite **missed** (0.017, p99 1700 ms, 0 errors)" in line
    assert "PostgreSQL **met** (0.133, p99 80 ms, 0 errors)" in line


def test_a_skipped_database_is_a_row_with_its_reason_and_does_not_fail_the_run() -> None:
    skipped = Outcome("billbot /api/chat", "PostgreSQL", note="no PostgreSQL server")
    report = Report(SHAPE, [Outcome("bare FastAPI endpoint", "-", BARE), skipped])
    assert "skipped: no PostgreSQL server" in outcome_row(skipped, BARE)
    assert not report.failed
    assert "PostgreSQL not measured" in "\n".join(load_section(report))


def test_failed_requests_or_a_broken_server_fail_the_run() -> None:
    errors = Outcome("billbot /api/chat", "SQLite", billbot(52, 900.0, errors=3))
    broken = Outcome("billbot /api/chat", "SQLite", note="server exited", broken=True)
    assert Report(SHAPE, [errors]).failed
    assert Report(SHAPE, [broken]).failed
    assert "failed: server exited" in outcome_row(broken, BARE)


def test_targets_are_met_only_when_every_measured_database_meets_them() -> None:
    good = Outcome("billbot /api/chat", "SQLite", billbot(400, 50.0))
    bad = Outcome("billbot /api/chat", "PostgreSQL", billbot(100, 50.0))
    bare = Outcome("bare FastAPI endpoint", "-", BARE)
    assert Report(SHAPE, [bare, good]).targets_met()
    assert not Report(SHAPE, [bare, good, bad]).targets_met()
    assert not Report(SHAPE, [good]).targets_met()  # no baseline, no verdict


def test_the_rendered_report_shows_the_load_shape_and_the_ratio() -> None:
    report = Report(SHAPE, [Outcome("bare FastAPI endpoint", "-", BARE)])
    report.outcomes.append(Outcome("billbot /api/chat", "SQLite", billbot(52, 1700.0)))
    text = render(report)
    assert "Load: wrk, 2 threads; 10 s per server after a 3 s warm-up" in text
    assert (
        "| billbot /api/chat | SQLite | 520 | 0 | 52 | 566.7 | 1700.0 | 0.017 | missed |" in text
    )


def test_every_fallback_connection_gets_its_own_sessions() -> None:
    sessions = [f"s{i}" for i in range(8)]
    shares = split(sessions, connections=4, processes=2)
    per_connection = [own for share in shares for own in share]
    assert len(per_connection) == 4
    flat = [session for own in per_connection for session in own]
    assert sorted(flat) == sorted(sessions)  # disjoint, and none left out


def test_fallback_tallies_become_milliseconds_and_error_kinds() -> None:
    tally = Tally(latencies=[0.010, 0.020, 0.030], seconds=2.0)
    tally.errors["HTTP 500"] += 2
    result = to_result("x", tally)
    assert (result.requests, result.errors, result.per_second) == (3, 2, 1.5)
    assert result.p50_ms == 20.0
    assert result.error_kinds == (("HTTP 500", 2),)


def test_percentile_of_one_or_no_value() -> None:
    assert percentile([0.5], 99) == 0.5
    assert percentile([], 50) == 0.0
