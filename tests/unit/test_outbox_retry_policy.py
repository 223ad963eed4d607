"""Backoff for failed sends: exponential ceilings, capped, with full jitter below them."""

from __future__ import annotations

import random
from datetime import timedelta

from bot.outbox import RetryPolicy


def test_ceilings_double_from_the_base_up_to_the_cap() -> None:
    policy = RetryPolicy(base_seconds=5, cap_seconds=60)

    assert [policy.ceiling(n) for n in range(1, 7)] == [5, 10, 20, 40, 60, 60]


def test_full_jitter_waits_anywhere_between_zero_and_the_ceiling() -> None:
    source = random.Random(7)
    policy = RetryPolicy(base_seconds=5, cap_seconds=900, jitter=source.random)

    waits = [policy.delay(4).total_seconds() for _ in range(500)]

    assert all(0 <= wait <= 40 for wait in waits)
    assert min(waits) < 5 and max(waits) > 35  # spread out, not bunched at the ceiling


def test_a_jitter_source_out_of_range_is_clamped() -> None:
    assert RetryPolicy(jitter=lambda: 7.0).delay(1) == timedelta(seconds=5)
    assert RetryPolicy(jitter=lambda: -1.0).delay(1) == timedelta(0)


def test_huge_attempt_numbers_stay_at_the_cap() -> None:
    assert RetryPolicy(cap_seconds=900).ceiling(10_000) == 900


def test_attempts_run_out_at_the_maximum() -> None:
    policy = RetryPolicy(max_attempts=3)

    assert [policy.exhausted(n) for n in (1, 2, 3, 4)] == [False, False, True, True]
