"""The Sender port: one per channel; the outbox hands it channel-neutral replies to render."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from bot.types import Reply


class DeliveryError(Exception):
    """A provider refused or failed a send.

    `permanent` ones (a number that cannot receive, a blocked bot) are marked failed at once;
    others are retried with backoff. The reason is stored and logged, so a sender must not put
    secrets (tokens, full phone numbers) in it.
    """

    def __init__(self, reason: str, *, permanent: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


class Sender(Protocol):
    """Renders and sends replies on one channel. Constructing one does no I/O."""

    async def send(self, address: str, replies: Sequence[Reply], *, idempotency_key: str) -> str:
        """Send `replies` to `address`; the provider's message id.

        `idempotency_key` is the same on every attempt of one outbox row: providers that
        support it dedupe a send whose result billbot never recorded (a crash in between).
        Raises DeliveryError; any other exception counts as a transient failure.
        """
        ...
