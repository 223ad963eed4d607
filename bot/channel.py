"""The channel seam: what every messaging channel provides, in the neutral shapes it speaks.

A channel is small pure steps and a sender (STYLE.md, "a channel adapter is three small pure
functions and a thin shell"):

- `verify(request)`: the provider's signature or secret, checked on the raw request; raises
  `WebhookRejected` (403) and nothing is stored or sent;
- `parse(request)`: the request as neutral `InboundMessage`s and `DeliveryStatus`es (a payload
  may carry several of either, or none); raises `BadWebhook` (400, with a reason);
- `acknowledge(parsed)`: what the provider gets back at once (TwiML `<Response/>`, `{}`, an
  `answerCallbackQuery`), never the answer itself;
- `sender`: renders neutral `Reply`s for the provider and sends them. The outbox calls it.

Replies to messaging channels always go through the outbox (`reply_kind`), queued in the same
transaction that answers the message: one outbound path, status callbacks for every reply, and
a provider's retry of the webhook never sends a reply twice. The web route only chains these
steps (`web/routes/webhooks.py`); the engine sees `InboundMessage`s and never a channel name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import parse_qsl

from bot.keywords import Keywords
from bot.outbox.ports import DeliveryState, DeliveryStatus, Sender
from bot.types import InboundMessage

__all__ = [
    "BadWebhook",
    "Channel",
    "DeliveryState",
    "DeliveryStatus",
    "Parsed",
    "Webhook",
    "WebhookRejected",
    "WebhookRequest",
    "WebhookResponse",
]


class WebhookRejected(Exception):
    """The request is not from the provider (bad or missing signature or secret): 403."""


class BadWebhook(ValueError):
    """The request is from the provider, or claims to be, but cannot be read: 400 + reason."""


@dataclass(frozen=True, slots=True)
class WebhookRequest:
    """A provider's HTTP request, as the channel needs it; no web framework types.

    `url` is the URL the provider called as the public sees it: BILLBOT_PUBLIC_URL + path +
    query (signatures are computed over that, not over what a proxy rewrote).
    """

    method: str
    url: str
    path: str
    query: tuple[tuple[str, str], ...]
    headers: Mapping[str, str]  # names in lower case
    body: bytes

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    @property
    def content_type(self) -> str:
        """The media type without parameters, lower case ("" when missing)."""
        raw = self.header("content-type") or ""
        return raw.split(";", 1)[0].strip().lower()

    def text(self) -> str:
        """The body as UTF-8 text; BadWebhook when it is not."""
        try:
            return self.body.decode("utf-8")
        except UnicodeDecodeError:
            raise BadWebhook("the body is not valid UTF-8") from None

    def form(self) -> list[tuple[str, str]]:
        """The body's form fields, in order, values exactly as sent (never trimmed)."""
        if self.content_type != "application/x-www-form-urlencoded":
            raise BadWebhook("expected an application/x-www-form-urlencoded body")
        try:
            return parse_qsl(self.text(), keep_blank_values=True, strict_parsing=False)
        except ValueError as error:
            raise BadWebhook(f"the form cannot be read: {error}") from None


@dataclass(frozen=True, slots=True)
class Parsed:
    """What one webhook request carried."""

    messages: tuple[InboundMessage, ...] = ()
    statuses: tuple[DeliveryStatus, ...] = ()
    # Provider-side follow-ups the acknowledgement carries (e.g. Telegram callback query ids).
    extra: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class WebhookResponse:
    """What the provider gets back at once."""

    status: int = 200
    body: bytes = b""
    media_type: str = "text/plain"
    headers: Mapping[str, str] = field(default_factory=dict)


class Webhook(Protocol):
    """What a provider's webhook needs: verify, parse, acknowledge (a channel, or status
    callbacks alone)."""

    @property
    def name(self) -> str: ...

    @property
    def keywords(self) -> Keywords:
        """The compliance keywords honoured (`bot.keywords`; NONE for Telegram)."""
        ...

    def verify(self, request: WebhookRequest) -> None: ...

    def parse(self, request: WebhookRequest) -> Parsed: ...

    def acknowledge(self, parsed: Parsed) -> WebhookResponse: ...


class Channel(Webhook, Protocol):
    """One messaging channel: a webhook and the sender of its replies."""

    @property
    def name(self) -> str:
        """The `InboundMessage.channel` and outbox channel: "sms", "whatsapp", "telegram"."""
        ...

    @property
    def sender(self) -> Sender: ...
