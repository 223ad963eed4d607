"""Where a messaging channel's verified, parsed webhook goes: one path for every provider.

Delivery statuses move outbox rows forward; each message is marked with its compliance
keyword, if the channel has one (`payload["keyword"]`: the engine's compliance step acts on
it, `bot.compliance`), passes a per-address rate limit, and the conversation engine answers it
with its replies queued for the outbox (`ConversationEngine.answer(push=True)`). When the engine is
still answering an earlier copy of a message, the provider is asked to try again later
(`Received.retry_after`): the route answers 503 with Retry-After, and the provider's retry gets
the stored answer without anything being sent twice.
"""

from __future__ import annotations

import logging
import math
from collections import OrderedDict
from dataclasses import dataclass, replace
from datetime import timedelta

from bot.channel import Parsed, Webhook
from bot.clock import Clock
from bot.engine import ConversationEngine
from bot.outbox import Outbox
from bot.phones import mask
from bot.ratelimit import Decision, Limit, RateLimiter, Verdict
from bot.types import InboundMessage

log = logging.getLogger(__name__)
# Everyone, customers included: a person types far slower; a loop between two bots does not.
PER_ADDRESS = Limit(30, timedelta(minutes=1))
# No real overall cap: every message is signed by a provider, so a flood is real customers
# (the anonymous flows keep their own overall limit, `bot.ratelimit`). Only a bound on memory.
OVERALL = Limit(10_000_000, timedelta(minutes=1))
SEEN_MAX = 10_000  # message ids remembered, so copies of one message count once
ALLOWED = Verdict(Decision.ALLOWED)


@dataclass(frozen=True, slots=True)
class Received:
    """What the route answers: at once, or "try again in `retry_after` seconds"."""

    messages: int = 0
    statuses: int = 0
    retry_after: float | None = None


class Inbox:
    """Takes what one webhook request carried; see the module docstring."""

    def __init__(
        self,
        *,
        engine: ConversationEngine,
        outbox: Outbox,
        clock: Clock,
        limiter: RateLimiter | None = None,
    ) -> None:
        self._engine = engine
        self._outbox = outbox
        self._clock = clock
        self._limiter = limiter or RateLimiter(per_sender=PER_ADDRESS, overall=OVERALL)
        self._seen: OrderedDict[tuple[str, str], None] = OrderedDict()

    async def receive(self, channel: Webhook, parsed: Parsed) -> Received:
        for status in parsed.statuses:
            await self._outbox.record_status(status)
        retry_after: float | None = None
        for message in parsed.messages:
            wait = await self._message(channel, message)
            if wait is not None:
                retry_after = max(wait, retry_after or 0.0)
        return Received(len(parsed.messages), len(parsed.statuses), retry_after)

    async def _message(self, channel: Webhook, message: InboundMessage) -> float | None:
        """Handle one message; seconds to wait when its answer is not ready yet."""
        keyword = channel.keywords.kind_of(message.text)
        if keyword is not None:
            message = replace(message, payload={**message.payload, "keyword": keyword})
        if self._first_time(message):  # a provider's retry of one message counts once
            verdict = self._limiter.check((message.channel, message.sender), self._clock.now())
        else:
            verdict = ALLOWED
        if not verdict.allowed:
            # Dropped, not queued: a flood must not grow the database. Logged, masked.
            log.warning(
                "dropping a message from %s on %s: rate limited",
                mask(message.sender),
                message.channel,
            )
            return None
        answer = await self._engine.answer(message, push=True)
        if answer.status == "busy":
            return float(max(1, math.ceil(answer.retry_after)))
        return None

    def _first_time(self, message: InboundMessage) -> bool:
        """Whether this process has not seen the message before (bounded memory)."""
        key = (message.channel, message.external_id)
        if key in self._seen:
            return False
        self._seen[key] = None
        if len(self._seen) > SEEN_MAX:
            self._seen.popitem(last=False)
        return True
