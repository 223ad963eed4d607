"""The Sender port: one per channel; the outbox hands it channel-neutral replies to render."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

from bot.types import OutboundMessage, Reply


class DeliveryError(Exception):
    """A provider refused or failed a send.

    `permanent` ones (a number that cannot receive, a blocked bot) are marked failed at once;
    others are retried with backoff, or after `retry_after` seconds when the provider said so
    (Telegram's 429). `unreachable`: the address itself cannot receive (opted out at the
    provider, the bot blocked, not a mobile number); the outbox stops sending to it until the
    customer writes again. The reason is stored and logged, so a sender must not put secrets
    (tokens, full phone numbers) in it.
    """

    def __init__(
        self,
        reason: str,
        *,
        permanent: bool = False,
        retry_after: float | None = None,
        unreachable: bool = False,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent or unreachable
        self.retry_after = retry_after
        self.unreachable = unreachable


@dataclass(frozen=True, slots=True)
class SendContext:
    """What a sender knows about a message besides its address and replies.

    `kind`: the outbox kind ("reply", "bar_notice", "link_code", …), which picks a WhatsApp
    template outside the service window. `window_open`: the customer wrote on this channel
    within its customer-service window (WhatsApp: 24 hours), so free-form messages may be sent.
    `idempotency_key` is the same on every attempt of one outbox row: providers that support
    it dedupe a send whose result billbot never recorded (a crash in between).
    """

    kind: str
    idempotency_key: str
    window_open: bool = True


class Sender(Protocol):
    """Renders and sends replies on one channel. Constructing one does no I/O."""

    async def send(self, address: str, replies: Sequence[Reply], *, context: SendContext) -> str:
        """Send `replies` to `address`; the provider's message id (of the last one sent).

        Raises DeliveryError; any other exception counts as a transient failure.
        """
        ...


# Neutral delivery states, in the order a message moves through them. A later status callback
# never moves a row back (providers send them out of order); "undelivered" and "failed" end it.
DeliveryState = Literal["queued", "sent", "delivered", "read", "undelivered", "failed"]
DELIVERY_ORDER: Mapping[str, int] = {
    "queued": 0,
    "sent": 1,
    "delivered": 2,
    "read": 3,
    "undelivered": 4,
    "failed": 4,
}


@dataclass(frozen=True, slots=True)
class DeliveryStatus:
    """A provider's word on a message billbot sent, found by the provider's message id."""

    provider_id: str
    state: DeliveryState
    error_code: str | None = None
    at: datetime | None = None
    permanent_failure: bool = False  # the address cannot receive (opted out, blocked, invalid)
    # The provider accepted the message, then failed it for a while (a rate limit): send again.
    retryable: bool = False


def moves_forward(current: str | None, new: str) -> bool:
    """Whether a row whose provider state is `current` should take `new` (never back)."""
    if current is None:
        return True
    return DELIVERY_ORDER.get(new, -1) > DELIVERY_ORDER.get(current, -1)


@dataclass(frozen=True, slots=True)
class FailedMessage:
    """A message that failed for good on its channel (what a Fallback decides on)."""

    channel: str
    address: str
    replies: tuple[Reply, ...]
    kind: str
    dedupe_key: str
    account_id: int | None


class Fallback(Protocol):
    """Where a message that failed for good goes next (an alert to the customer's next
    channel), or None. The outbox queues the answer like any message, once by its key."""

    async def instead(self, failed: FailedMessage) -> OutboundMessage | None: ...
