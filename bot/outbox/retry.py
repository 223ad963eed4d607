"""When a failed send is tried again: exponential backoff with full jitter, up to a cap."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Attempt n (1-based) that failed waits a random time in [0, min(cap, base · 2^(n-1))].

    Full jitter ("Exponential Backoff and Jitter", AWS Architecture Blog) spreads the retries
    of many rows that failed together (a provider outage) instead of retrying them in waves.
    `jitter` returns a number in [0, 1]; tests pass a constant.
    """

    base_seconds: float = 5.0
    cap_seconds: float = 15 * 60.0
    max_attempts: int = 8
    jitter: Callable[[], float] = field(default=random.random)

    def ceiling(self, attempt: int) -> float:
        """The longest wait after failed attempt number `attempt`."""
        exponent = min(max(attempt, 1) - 1, 32)  # 2**32 · base is far past any cap
        return float(min(self.cap_seconds, self.base_seconds * 2**exponent))

    def delay(self, attempt: int) -> timedelta:
        return timedelta(seconds=self.ceiling(attempt) * min(max(self.jitter(), 0.0), 1.0))

    def exhausted(self, attempts: int) -> bool:
        """No attempt is left after `attempts` tries."""
        return attempts >= self.max_attempts
