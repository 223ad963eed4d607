"""The Meta WhatsApp Cloud API channel (channels.md §3.3): signed webhooks in, a sender out.

- `verify_challenge`: the GET subscription check; the verify token compared in constant time.
- `verify`: `X-Hub-Signature-256` = HMAC-SHA256 of the raw body bytes with the app secret (Meta
  signs the bytes it sent, escaped unicode and all: re-serialised JSON would not match).
- `parse`: every entry, change, message and status of a batch.

A body that is not a WhatsApp webhook is refused with the reason (400). One unreadable item of
a good batch is logged and skipped instead: a 400 makes Meta redeliver the whole batch for days,
and its readable items with it. Skipped: a message without a phone number (users with a
WhatsApp username may arrive with a business-scoped id only) or without a usable id, and status
kinds billbot keeps no state for ("deleted", "warning", …). A failed status whose code means
the address cannot receive (the sender's UNREACHABLE_CODES) is a permanent failure; a failure
such as 131056 (pair rate) is not.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

import httpx

from bot.channel import BadWebhook, Parsed, WebhookRejected, WebhookRequest, WebhookResponse
from bot.channel_settings import ChannelSettings
from bot.keywords import WHATSAPP, Keywords
from bot.outbox.ports import DeliveryState, DeliveryStatus
from bot.phones import PhoneError, normalize
from bot.types import InboundMessage
from channels.web import storable
from channels.whatsapp_cloud_sender import (
    RATE_LIMIT_CODES,
    TRANSIENT_CODES,
    UNREACHABLE_CODES,
    WhatsAppCloudSender,
)

CHANNEL = "whatsapp"
OBJECT = "whatsapp_business_account"
SIGNATURE_HEADER = "x-hub-signature-256"
EXTERNAL_ID_MAX = 128  # the dedupe key's column
STATES: Mapping[str, DeliveryState] = {
    "sent": "sent",
    "delivered": "delivered",
    "read": "read",
    "failed": "failed",
}
_SIGNATURE = re.compile(r"sha256=([0-9a-f]{64})", re.IGNORECASE)

logger = logging.getLogger(__name__)
Json = Mapping[str, Any]
Query = Mapping[str, str] | Iterable[tuple[str, str]]


class WhatsAppCloudChannel:
    """Meta's WhatsApp Cloud API webhooks as neutral messages and statuses."""

    def __init__(
        self,
        settings: ChannelSettings,
        *,
        sender: WhatsAppCloudSender,
        now: Callable[[], datetime],
        default_region: str,
    ) -> None:
        self._app_secret = settings.whatsapp_app_secret.encode("utf-8")
        self._verify_token = settings.whatsapp_verify_token.encode("utf-8")
        self._sender = sender
        self._now = now
        self._default_region = default_region

    @property
    def name(self) -> str:
        """The InboundMessage and outbox channel: "whatsapp"."""
        return CHANNEL

    @property
    def sender(self) -> WhatsAppCloudSender:
        """The outbox's sender for this channel."""
        return self._sender

    @property
    def keywords(self) -> Keywords:
        """WhatsApp has no carrier keywords: billbot honours the plain ones itself."""
        return WHATSAPP

    def verify_challenge(self, query: Query) -> str:
        """The hub.challenge to echo for Meta's GET subscription check."""
        fields = dict(query.items() if isinstance(query, Mapping) else query)
        mode, token = fields.get("hub.mode"), fields.get("hub.verify_token")
        challenge = fields.get("hub.challenge")
        if not mode or token is None or not challenge:
            raise BadWebhook("hub.mode, hub.verify_token and hub.challenge are required")
        if mode != "subscribe":
            raise BadWebhook("hub.mode must be subscribe")
        if not self._verify_token or not hmac.compare_digest(
            token.encode("utf-8"), self._verify_token
        ):
            raise WebhookRejected("wrong verify token")
        return str(challenge)

    def verify(self, request: WebhookRequest) -> None:
        """Check X-Hub-Signature-256 over the raw body; WebhookRejected when it does not match."""
        if not self._app_secret:
            raise WebhookRejected("no app secret is configured")  # fail closed
        match = _SIGNATURE.fullmatch((request.header(SIGNATURE_HEADER) or "").strip())
        if match is None:
            raise WebhookRejected("missing or malformed X-Hub-Signature-256")
        expected = hmac.new(self._app_secret, request.body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(match.group(1).lower(), expected):
            raise WebhookRejected("wrong X-Hub-Signature-256")

    def parse(self, request: WebhookRequest) -> Parsed:
        """Every message and status of the batch; BadWebhook when it is not a WhatsApp webhook."""
        values = list(change_values(envelope(request)))
        messages = (self.inbound(m) for value in values for m in items(value, "messages"))
        statuses = (delivery_status(s) for value in values for s in items(value, "statuses"))
        return Parsed(
            messages=tuple(m for m in messages if m is not None),
            statuses=tuple(s for s in statuses if s is not None),
        )

    def acknowledge(self, parsed: Parsed) -> WebhookResponse:
        """200 "ok" at once: the answers go through the outbox."""
        return WebhookResponse(status=200, body=b"ok", media_type="text/plain")

    def inbound(self, message: Json) -> InboundMessage | None:
        """One webhook message as an InboundMessage; None (logged) when it cannot be one."""
        wamid = message.get("id")
        if not isinstance(wamid, str) or not 0 < len(wamid) <= EXTERNAL_ID_MAX:
            logger.warning("skipped a WhatsApp message without a usable id")
            return None
        phone = self.phone_of(message)
        if phone is None:
            logger.warning("skipped WhatsApp message %s: no phone number to answer", wamid)
            return None
        if message.get("type") in SILENT_KINDS:
            logger.info("not answering a WhatsApp %s", message.get("type"))
            return None
        text, payload = content(message)
        return InboundMessage(
            channel=CHANNEL,
            sender=phone,
            text=storable(text),
            external_id=wamid,
            received_at=self._now(),
            payload=payload,
            as_phone=phone,
        )

    def phone_of(self, message: Json) -> str | None:
        """The E.164 number of `from` (a wa_id: country code and number, no plus)."""
        raw = message.get("from")
        if not isinstance(raw, str) or not raw.strip():
            return None
        wa_id = raw.strip()
        try:
            # Always international: a short wa_id must not be read as a national number.
            return normalize("+" + wa_id.removeprefix("+"), default_region=self._default_region)
        except PhoneError:
            return None


def build_whatsapp_cloud(
    settings: ChannelSettings,
    *,
    now: Callable[[], datetime],
    default_region: str,
    http_client: httpx.AsyncClient | None = None,
) -> WhatsAppCloudChannel | None:
    """The Cloud API channel, or None when its settings are incomplete. Does no I/O."""
    if not settings.whatsapp_cloud_on:
        return None
    sender = WhatsAppCloudSender(settings, client=http_client)
    return WhatsAppCloudChannel(settings, sender=sender, now=now, default_region=default_region)


# --- the envelope ------------------------------------------------------------------------------
def envelope(request: WebhookRequest) -> Json:
    """The body as a WhatsApp Business Account webhook object."""
    if request.content_type != "application/json":
        raise BadWebhook("expected an application/json body")
    try:
        body = json.loads(request.text())
    except (ValueError, RecursionError) as error:  # RecursionError: absurdly deep nesting
        raise BadWebhook(f"the body is not JSON: {str(error)[:100]}") from None
    if not isinstance(body, dict):
        raise BadWebhook("the body is not a JSON object")
    if body.get("object") != OBJECT:
        raise BadWebhook(f"object must be {OBJECT}")
    return body


def change_values(body: Json) -> Iterator[Json]:
    """The `value` of every change of every entry ("messages" changes only)."""
    for i, entry in enumerate(json_list(body.get("entry"), "entry")):
        where = f"entry[{i}]"
        changes = json_list(json_object(entry, where).get("changes"), f"{where}.changes")
        for j, raw in enumerate(changes):
            change = json_object(raw, f"{where}.changes[{j}]")
            if change.get("field", "messages") == "messages":
                yield json_object(change.get("value"), f"{where}.changes[{j}].value")


def items(value: Json, key: str) -> Iterator[Json]:
    """The objects listed under `key` ("messages", "statuses"); none when it is absent."""
    for index, item in enumerate(json_list(value.get(key, []), key)):
        yield json_object(item, f"{key}[{index}]")


def json_list(value: Any, where: str) -> list[Any]:
    """`value` if it is a JSON array; BadWebhook naming `where` otherwise."""
    if not isinstance(value, list):
        raise BadWebhook(f"{where} must be a list")
    return value


def json_object(value: Any, where: str) -> Json:
    """`value` if it is a JSON object; BadWebhook naming `where` otherwise."""
    if not isinstance(value, dict):
        raise BadWebhook(f"{where} must be an object")
    return value


# --- messages and statuses ---------------------------------------------------------------------
def content(message: Json) -> tuple[str, dict[str, Any]]:
    """(text, payload): what was typed or the option tapped; other kinds name their type."""
    kind = message.get("type")
    reader = READERS.get(kind) if isinstance(kind, str) else None
    text = reader(message) if reader else None
    if text is None:
        return "", {"type": kind if isinstance(kind, str) else "unknown"}
    return text, {}


def string_at(data: Any, *path: str) -> str | None:
    """The string at `path` inside nested objects, or None."""
    for key in path:
        data = data.get(key) if isinstance(data, dict) else None
    return data if isinstance(data, str) else None


def interactive_reply(message: Json) -> str | None:
    """A tapped reply button's or list row's id: the option's value."""
    kind = string_at(message, "interactive", "type")
    return string_at(message, "interactive", kind, "id") if kind in READABLE_REPLIES else None


READABLE_REPLIES = ("button_reply", "list_reply")
# A reaction (👍 on a reply) is not a message to answer.
SILENT_KINDS = frozenset({"reaction"})
READERS: Mapping[str, Callable[[Json], str | None]] = {
    "text": lambda m: string_at(m, "text", "body"),
    # A template's quick-reply button: its payload, else the label the user saw.
    "button": lambda m: string_at(m, "button", "payload") or string_at(m, "button", "text"),
    "interactive": interactive_reply,
}


def delivery_status(status: Json) -> DeliveryStatus | None:
    """One status object as a DeliveryStatus; None for kinds billbot keeps no state for."""
    provider_id, state = status.get("id"), STATES.get(str(status.get("status")))
    if not isinstance(provider_id, str) or not provider_id or state is None:
        logger.info("skipped a WhatsApp status of kind %.20r", status.get("status"))
        return None
    code = error_code(status)
    failed = state == "failed" and code is not None
    return DeliveryStatus(
        provider_id=provider_id,
        state=state,
        error_code=code,
        at=timestamp(status.get("timestamp")),
        permanent_failure=failed and int(code or 0) in UNREACHABLE_CODES,
        retryable=failed and int(code or 0) in (RATE_LIMIT_CODES | TRANSIENT_CODES),
    )


def error_code(status: Json) -> str | None:
    """errors[0].code as a string of digits, if any."""
    errors = status.get("errors")
    first = errors[0] if isinstance(errors, list) and errors else None
    code = first.get("code") if isinstance(first, dict) else None
    return str(code) if isinstance(code, int) and not isinstance(code, bool) else None


def timestamp(raw: Any) -> datetime | None:
    """A Unix-seconds timestamp (Meta sends a string) as an aware UTC datetime, or None."""
    try:
        return datetime.fromtimestamp(int(raw), UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None
