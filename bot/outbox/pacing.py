"""Per-channel send rates: what each provider accepts before it answers "too many".

A token bucket per channel, in process (each worker paces itself; with several workers set the
rates per worker). Defaults follow the providers' published limits (channels.md §1.7, §3.3,
§4.2): Telegram about 30 messages a second overall, the WhatsApp Cloud API 80 a second per
number; SMS is left to the sender pool (a Twilio Messaging Service queues what a number cannot
send at once), so unlimited unless set. A 429 that still comes back is retried after the
provider's own `retry_after`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

DEFAULT_RATES: Mapping[str, float] = {"telegram": 30.0, "whatsapp": 80.0}


@dataclass(slots=True)
class _Bucket:
    rate: float  # tokens a second
    tokens: float  # at most one: no bursts, so no second ever holds more than `rate` sends
    updated: float


@dataclass(slots=True)
class Pacing:
    """`await pacing.wait(channel)` before each send on `channel`."""

    rates: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_RATES))
    clock: Callable[[], float] = time.monotonic
    _buckets: dict[str, _Bucket] = field(default_factory=dict)

    async def wait(self, channel: str) -> None:
        """Until `channel` may send one more message (at once for unpaced channels)."""
        rate = self.rates.get(channel)
        if not rate:
            return
        bucket = self._bucket(channel, rate)
        while True:
            now = self.clock()
            bucket.tokens = min(1.0, bucket.tokens + (now - bucket.updated) * rate)
            bucket.updated = now
            if bucket.tokens >= 1:
                bucket.tokens -= 1
                return
            await asyncio.sleep((1 - bucket.tokens) / rate)

    def _bucket(self, channel: str, rate: float) -> _Bucket:
        if channel not in self._buckets:
            self._buckets[channel] = _Bucket(rate, 1.0, self.clock())
        return self._buckets[channel]
