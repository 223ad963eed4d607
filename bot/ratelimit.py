"""Rate limits for anonymous flows: per sender and overall, sliding windows, in process.

Someone the bot cannot identify may only start flows that allow strangers (barring a lost
phone's SIM), but they can still hammer them. The limits, chosen for that flow:
- per sender (channel, sender): 10 messages per 10 minutes. Barring from a borrowed phone
  takes about 4 messages ("lost my phone", the number, the PIN, "yes"), 9 with four mistyped
  PINs; a script trying numbers and PINs gets 1 a minute.
- overall: 300 anonymous messages per minute across all senders, so many senders (a botnet, or
  rotating web sessions) cannot make up for the per-sender limit.

A refused sender gets one polite reply (`Verdict.first_refusal`), then nothing more until it
is allowed again: on messaging channels the caller sends nothing, the web API answers 429 with
`Retry-After`. Refused messages do not count, so waiting `retry_after` seconds always works.

Memory is bounded: a sender's window holds at most its limit's timestamps, senders idle for a
whole window are dropped, and past `max_senders` the least recently seen are dropped (the
overall limit still holds then). The state is per process, so with several workers the
overall limit is per worker. `check` is synchronous and so atomic within one event loop.
"""

from __future__ import annotations

import math
from collections import OrderedDict, deque
from collections.abc import Hashable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from bot import i18n


class Decision(Enum):
    ALLOWED = "allowed"
    REFUSED_FIRST = "refused_first"  # send one polite reply
    REFUSED_AGAIN = "refused_again"  # send nothing (web: 429)


@dataclass(frozen=True, slots=True)
class Verdict:
    """What to do with one message, and how long until the sender may send again."""

    decision: Decision
    retry_after: int = 0  # whole seconds; 0 when allowed

    @property
    def allowed(self) -> bool:
        return self.decision is Decision.ALLOWED

    @property
    def first_refusal(self) -> bool:
        """Refused, and this sender has not been told yet: answer with `polite_reply`."""
        return self.decision is Decision.REFUSED_FIRST


@dataclass(frozen=True, slots=True)
class Limit:
    """At most `events` allowed events in any `window`."""

    events: int
    window: timedelta


PER_SENDER = Limit(10, timedelta(minutes=10))
OVERALL = Limit(300, timedelta(minutes=1))
MAX_SENDERS = 10_000


class SlidingWindow:
    """The times of the allowed events within the last window (a sliding log)."""

    def __init__(self, limit: Limit) -> None:
        self._limit = limit
        self._times: deque[datetime] = deque(maxlen=limit.events)

    def wait(self, now: datetime) -> float:
        """Seconds until one more event fits; 0 when it fits now."""
        self._expire(now)
        if len(self._times) < self._limit.events:
            return 0.0
        return (self._times[0] + self._limit.window - now).total_seconds()

    def add(self, now: datetime) -> None:
        self._times.append(now)

    def _expire(self, now: datetime) -> None:
        while self._times and self._times[0] + self._limit.window <= now:
            self._times.popleft()


@dataclass(slots=True)
class _Sender:
    window: SlidingWindow
    last_seen: datetime
    told: bool = False  # refused and already sent the polite reply


class RateLimiter:
    """Per-sender and overall sliding-window limits; see the module docstring."""

    def __init__(
        self,
        *,
        per_sender: Limit = PER_SENDER,
        overall: Limit = OVERALL,
        max_senders: int = MAX_SENDERS,
    ) -> None:
        self._per_sender = per_sender
        self._overall = SlidingWindow(overall)
        self._max_senders = max_senders
        self._senders: OrderedDict[Hashable, _Sender] = OrderedDict()

    def check(self, key: Hashable, now: datetime) -> Verdict:
        """Count one message from `key` (e.g. `(channel, sender)`) at `now`, if it is allowed."""
        self._forget_idle(now)
        sender = self._sender(key, now)
        wait = max(sender.window.wait(now), self._overall.wait(now))
        if wait <= 0:
            sender.window.add(now)
            self._overall.add(now)
            sender.told = False
            return Verdict(Decision.ALLOWED)
        decision = Decision.REFUSED_AGAIN if sender.told else Decision.REFUSED_FIRST
        sender.told = True
        return Verdict(decision, retry_after=max(1, math.ceil(wait)))

    def __len__(self) -> int:
        """How many senders are remembered."""
        return len(self._senders)

    def _sender(self, key: Hashable, now: datetime) -> _Sender:
        sender = self._senders.get(key)
        if sender is None:
            sender = self._senders[key] = _Sender(SlidingWindow(self._per_sender), now)
            while len(self._senders) > self._max_senders:
                self._senders.popitem(last=False)
        self._senders.move_to_end(key)
        sender.last_seen = now
        return sender

    def _forget_idle(self, now: datetime) -> None:
        """Drop senders not seen for a whole window (their windows are empty), oldest first."""
        while self._senders:
            oldest = next(iter(self._senders.values()))
            if oldest.last_seen + self._per_sender.window > now:
                return
            self._senders.popitem(last=False)


SLOW_DOWN = {
    "en": {
        "one": "You're sending messages faster than I can safely answer. Please wait "
        "{count} minute and try again.",
        "other": "You're sending messages faster than I can safely answer. Please wait "
        "{count} minutes and try again.",
    },
    "es": {
        "one": "Estás enviando mensajes más rápido de lo que puedo responder con seguridad. "
        "Espera {count} minuto y vuelve a intentarlo.",
        "other": "Estás enviando mensajes más rápido de lo que puedo responder con "
        "seguridad. Espera {count} minutos y vuelve a intentarlo.",
    },
}


def polite_reply(verdict: Verdict, locale: str = "en_US") -> str:
    """The one reply a refused sender gets, with the wait rounded up to whole minutes."""
    minutes = max(1, math.ceil(verdict.retry_after / 60))
    return i18n.plural(SLOW_DOWN, locale, minutes)
