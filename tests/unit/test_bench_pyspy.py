"""Summing py-spy's raw stacks: busy samples by part of the stack, waits left out."""

from __future__ import annotations

from pathlib import Path

from bench.pyspy import record_command, split_frame, summarize

RAW = "\n".join(
    [
        "<module> (bench/serve.py:1);run (uvicorn/server.py:60);"
        "ConversationEngine.handle (bot/engine.py:101);"
        "Session.execute (sqlalchemy/orm/session.py:2300) 30",
        "<module> (bench/serve.py:1);run (uvicorn/server.py:60);"
        "ConversationEngine.handle (bot/engine.py:101);"
        "Router.route (bot/routing.py:69) 10",
        "_bootstrap (threading.py:995);_connection_worker_thread (aiosqlite/core.py:48) 40",
        "_bootstrap (threading.py:995);worker (concurrent/futures/thread.py:69);"
        "Condition.wait (threading.py:295) 500",
        "<module> (bench/serve.py:1);EpollSelector.select (selectors.py:451) 70",
        "walk (bot/tree.py:5);walk (bot/tree.py:5);walk (bot/tree.py:5) 20",
        "",
    ]
)


def test_waiting_samples_are_counted_apart_from_the_busy_ones() -> None:
    profile = summarize(RAW, seconds=2, rate=100)
    assert profile.samples == 100
    assert profile.waiting == 570


def test_busy_samples_are_grouped_by_the_running_frame() -> None:
    profile = summarize(RAW, seconds=2, rate=100)
    assert dict(profile.categories) == {
        "aiosqlite (its thread runs SQLite)": 40,
        "SQLAlchemy": 30,
        "billbot bot/": 30,
    }
    assert profile.share(40) == 0.4


def test_billbot_functions_count_each_sample_once_even_when_recursive() -> None:
    profile = summarize(RAW, seconds=2, rate=100)
    ours = dict(profile.ours)
    assert ours["ConversationEngine.handle (bot/engine.py:101)"] == 40
    assert ours["walk (bot/tree.py:5)"] == 20
    assert not any(frame.startswith("<module> (bench/") for frame in ours)


def test_hottest_functions_are_the_leaf_frames_by_samples() -> None:
    profile = summarize(RAW, seconds=2, rate=100)
    assert profile.hottest[0] == ("_connection_worker_thread (aiosqlite/core.py:48)", 40)


def test_a_frame_splits_into_function_and_file() -> None:
    assert split_frame("Router.route (bot/routing.py:69)") == ("Router.route", "bot/routing.py")
    assert split_frame("<native>") == ("<native>", "")


def test_recording_does_not_pause_the_server_and_writes_raw_stacks() -> None:
    command = record_command("py-spy", 1234, 9.6, Path("o.txt"))
    assert command[:2] == ["py-spy", "record"]
    assert {"--pid=1234", "--duration=10", "--format=raw", "--nonblocking"} <= set(command)
