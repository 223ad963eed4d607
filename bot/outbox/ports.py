"""The Sender port: one per channel; the outbox hands it channel-neutral replies to render."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from bot.types import Reply


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
