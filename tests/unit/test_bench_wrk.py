"""Reading wrk's output (through bench/chat.lua's done()) and building its command line."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.wrk import MARKER, SCRIPT, WrkClient, WrkError, parse_output

# Captured from `wrk` 4.1.0 (Debian) against the bare endpoint, 4 connections, 1 s.
CLEAN = """\
Running 1s test @ http://127.0.0.1:35839
  2 threads and 4 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.47ms    0.87ms   8.30ms   88.37%
    Req/Sec     1.45k   198.08     1.92k    76.19%
  Latency Distribution
     50%    1.34ms
     99%    5.55ms
  3019 requests in 1.10s, 524.79KB read
Requests/sec:   2743.24
BENCH_RESULT {"requests": 3019, "duration_us": 1100522, "non2xx": 0, "statuses": {}, \
"sample": "", "connect": 0, "read": 0, "write": 0, "timeout": 0, "p50_us": 1339, \
"p90_us": 2060, "p99_us": 5545, "max_us": 8295}
"""
# Half the sessions were bad JSON (422), one answer was a 500 and two requests timed out.
FAILING = (
    'BENCH_RESULT {"requests": 1908, "duration_us": 2000000, "non2xx": 955, '
    '"statuses": {"500": 1, "422": 954}, "sample": "HTTP 422: {\\u0022detail\\u0022: []}", '
    '"connect": 0, "read": 0, "write": 0, "timeout": 2, "p50_us": 1697, "p90_us": 5042, '
    '"p99_us": 8612, "max_us": 14466}\n'
)


def test_throughput_and_percentiles_come_from_the_result_line() -> None:
    result = parse_output("bare", CLEAN)
    assert (result.requests, result.errors) == (3019, 0)
    assert result.seconds == pytest.approx(1.100522)
    assert result.per_second == pytest.approx(2743.2, abs=0.1)
    assert (result.p50_ms, result.p99_ms) == (1.339, 5.545)
    assert result.error_kinds == ()


def test_non_2xx_answers_and_socket_errors_are_failures_not_messages() -> None:
    result = parse_output("billbot", FAILING)
    assert result.requests == 953
    assert result.errors == 957
    assert result.error_kinds == (("HTTP 422", 954), ("HTTP 500", 1), ("socket timeout", 2))
    assert result.first_failure == 'HTTP 422: {"detail": []}'


def test_output_without_a_result_line_is_an_error_that_shows_the_output() -> None:
    with pytest.raises(WrkError, match="unable to connect"):
        parse_output("billbot", "unable to connect to 127.0.0.1:1 Connection refused\n")


def test_the_command_runs_the_chat_script_with_its_arguments_after_the_url() -> None:
    client = WrkClient("/usr/bin/wrk", connections=32, threads=2)
    command = client.command("http://127.0.0.1:9", Path("/tmp/pool"), seconds=10)
    assert command[0] == "/usr/bin/wrk"
    assert {"--threads=2", "--connections=32", "--duration=10s", "--latency"} <= set(command)
    assert f"--script={SCRIPT}" in command
    url = command.index("http://127.0.0.1:9")
    assert command[url + 1 :] == ["--", "/tmp/pool", "2", "+12025550101"]


def test_the_chat_script_posts_balance_in_pool_sessions_and_reports_json() -> None:
    lua = SCRIPT.read_text(encoding="utf-8")
    assert '"/api/chat"' in lua and '"text": "balance"' in lua
    assert "function done(" in lua and MARKER.strip() in lua
