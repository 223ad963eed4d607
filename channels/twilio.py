"""Twilio SMS and Twilio WhatsApp: verify, parse and acknowledge their webhooks (DESIGN.md §5).

Every request is checked with twilio's `RequestValidator` against the public URL and **all**
form fields, values untrimmed (channels.md §1.2); a missing or wrong signature is refused.

The acknowledgement is always an empty TwiML `<Response/>`: replies never go in the TwiML.
billbot answers through the REST API from its outbox, so there is one outbound path, every
reply gets status callbacks, and a webhook Twilio retries never sends an answer twice.

Delivery status callbacks (`POST /webhooks/twilio/status`, shared by SMS and WhatsApp) have
their own `TwilioStatusCallbacks`: the same verify/parse/acknowledge steps, but no sender,
so it stays outside the `Channel` protocol rather than carrying a sender that cannot send.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from bot.channel import (
    BadWebhook,
    Channel,
    Parsed,
    WebhookRejected,
    WebhookRequest,
    WebhookResponse,
)
from bot.channel_settings import ChannelSettings
from bot.keywords import NONE, SMS, WHATSAPP, Keywords
from bot.outbox.ports import DeliveryState, DeliveryStatus, Sender
from bot.phones import PhoneError, normalize
from bot.types import InboundMessage
from channels.twilio_sender import (
    UNREACHABLE_CODES,
    WHATSAPP_PREFIX,
    TwilioHttpClient,
    TwilioSmsSender,
    TwilioWhatsAppSender,
    twilio_client,
)

E164 = re.compile(r"\+[1-9]\d{6,14}")
STATUS_PATH = "/webhooks/twilio/status"
MAX_SID_CHARS = 64  # Twilio SIDs are 34; the dedupe key column takes 128
EMPTY_TWIML = str(MessagingResponse()).encode("utf-8")

STATES: Mapping[str, DeliveryState] = {
    "queued": "queued",
    "accepted": "queued",
    "scheduled": "queued",
    "sending": "queued",
    "sent": "sent",
    "delivered": "delivered",
    "read": "read",
    "undelivered": "undelivered",
    "failed": "failed",
    "canceled": "failed",
}
# Error codes that mean the address itself cannot receive, as callbacks spell them.
UNREACHABLE = frozenset(str(code) for code in UNREACHABLE_CODES)


class _Fields(dict[str, list[str]]):
    """Form fields by name, repeats kept: the multidict shape `RequestValidator` reads."""

    def getall(self, name: str) -> list[str]:
        return self[name]


def form_fields(pairs: list[tuple[str, str]]) -> _Fields:
    """Every field of a form, values exactly as sent."""
    fields = _Fields()
    for name, value in pairs:
        fields.setdefault(name, []).append(value)
    return fields


def _first(fields: Mapping[str, list[str]], name: str) -> str:
    return fields.get(name, [""])[0]


def _signed_params(request: WebhookRequest) -> _Fields | str:
    """What Twilio signed besides the URL: the form, or the raw body when `bodySHA256` is set."""
    if any(name == "bodySHA256" for name, _ in request.query):
        return request.body.decode("utf-8", "replace")
    try:
        return form_fields(request.form())
    except BadWebhook:
        return _Fields()  # then the URL alone must carry the signature; parse answers 400


@dataclass(frozen=True, slots=True)
class TwilioSignature:
    """Checks `X-Twilio-Signature`; fails closed (no Auth Token, no trust)."""

    auth_token: str = field(repr=False)

    def __post_init__(self) -> None:
        if not self.auth_token:
            raise ValueError("a Twilio Auth Token is needed to check webhook signatures")

    def verify(self, request: WebhookRequest) -> None:
        """WebhookRejected unless Twilio signed this URL and these fields."""
        signature = request.header("x-twilio-signature")
        if not signature:
            raise WebhookRejected("missing X-Twilio-Signature")
        validator = RequestValidator(self.auth_token)
        if not validator.validate(request.url, _signed_params(request), signature):
            raise WebhookRejected("invalid X-Twilio-Signature")


def empty_twiml() -> WebhookResponse:
    """An empty `<Response/>`: received, nothing to say here (the answer comes by REST)."""
    return WebhookResponse(status=200, body=EMPTY_TWIML, media_type="text/xml")


def _fields(request: WebhookRequest) -> _Fields:
    return form_fields(request.form())


def _required(fields: Mapping[str, list[str]], name: str) -> str:
    value = _first(fields, name).strip()
    if not value:
        raise BadWebhook(f"{name} is missing")
    if len(value) > MAX_SID_CHARS and name.endswith("Sid"):
        raise BadWebhook(f"{name} is too long")
    return value


def _num_media(fields: Mapping[str, list[str]]) -> int:
    raw = _first(fields, "NumMedia").strip()
    return int(raw) if raw.isdigit() else 0


@dataclass(frozen=True, slots=True)
class TwilioSmsChannel:
    """Twilio Programmable Messaging SMS (`POST /webhooks/twilio/sms`)."""

    signature: TwilioSignature
    sender: Sender
    now: Callable[[], datetime]
    default_region: str = "US"
    name: str = "sms"
    keywords: Keywords = SMS

    def verify(self, request: WebhookRequest) -> None:
        """WebhookRejected unless Twilio signed the request."""
        self.signature.verify(request)

    def parse(self, request: WebhookRequest) -> Parsed:
        """The one message an inbound webhook carries."""
        fields = _fields(request)
        sid = _required(fields, "MessageSid")
        phone = self._phone(_required(fields, "From"))
        num_media = _num_media(fields)
        message = InboundMessage(
            channel=self.name,
            sender=phone,
            text=self._text(fields),
            external_id=sid,
            received_at=self.now(),
            payload={"num_media": num_media} if num_media else {},
            as_phone=phone,
        )
        return Parsed(messages=(message,))

    def acknowledge(self, parsed: Parsed) -> WebhookResponse:
        """Always an empty TwiML `<Response/>`."""
        return empty_twiml()

    def _phone(self, raw: str) -> str:
        if raw.startswith(WHATSAPP_PREFIX):
            raise BadWebhook("From is a WhatsApp address on the SMS webhook")
        return _e164(raw, self.default_region)

    def _text(self, fields: Mapping[str, list[str]]) -> str:
        return _first(fields, "Body")


def _e164(raw: str, default_region: str) -> str:
    try:
        return normalize(raw, default_region=default_region)
    except PhoneError:
        pass
    # Twilio sends E.164 already; phonenumbers' metadata may not know a new range yet.
    if E164.fullmatch(raw):
        return raw
    raise BadWebhook("From is not a phone number")


@dataclass(frozen=True, slots=True)
class TwilioWhatsAppChannel(TwilioSmsChannel):
    """WhatsApp through Twilio (`POST /webhooks/twilio/whatsapp`): From is "whatsapp:+E164"."""

    name: str = "whatsapp"
    keywords: Keywords = WHATSAPP

    def _phone(self, raw: str) -> str:
        if not raw.startswith(WHATSAPP_PREFIX):
            raise BadWebhook("From is not a WhatsApp address")
        return _e164(raw.removeprefix(WHATSAPP_PREFIX), self.default_region)

    def _text(self, fields: Mapping[str, list[str]]) -> str:
        """A tapped button's payload (an option's value) wins over its label in Body."""
        return _first(fields, "ButtonPayload") or _first(fields, "Body")


@dataclass(frozen=True, slots=True)
class TwilioStatusCallbacks:
    """Delivery status callbacks of SMS and WhatsApp (`POST /webhooks/twilio/status`).

    Not a `Channel`: it has the webhook steps but nothing to send. An unknown status (Twilio
    adds some) is acknowledged and ignored, so Twilio does not retry it.
    """

    signature: TwilioSignature
    now: Callable[[], datetime]
    name: str = "twilio_status"
    keywords: Keywords = NONE

    def verify(self, request: WebhookRequest) -> None:
        """WebhookRejected unless Twilio signed the request."""
        self.signature.verify(request)

    def parse(self, request: WebhookRequest) -> Parsed:
        """The one status a callback carries, in billbot's neutral states."""
        fields = _fields(request)
        sid = _required(fields, "MessageSid")
        raw = (_first(fields, "MessageStatus") or _first(fields, "SmsStatus")).strip().lower()
        if not raw:
            raise BadWebhook("MessageStatus is missing")
        state = STATES.get(raw)
        if state is None:
            return Parsed()
        return Parsed(statuses=(self._status(sid, state, _first(fields, "ErrorCode")),))

    def acknowledge(self, parsed: Parsed) -> WebhookResponse:
        """Always an empty TwiML `<Response/>`."""
        return empty_twiml()

    def _status(self, sid: str, state: DeliveryState, raw_code: str) -> DeliveryStatus:
        code = raw_code.strip() or None
        final = state in ("undelivered", "failed")
        return DeliveryStatus(
            provider_id=sid,
            state=state,
            error_code=code,
            at=self.now(),  # RawDlrDoneDate has no time zone and is not always sent
            permanent_failure=final and code in UNREACHABLE,
        )


@dataclass(frozen=True, slots=True)
class TwilioChannels:
    """What `build_twilio` made; a part is None when its settings are missing."""

    sms: Channel | None
    whatsapp: Channel | None
    status: TwilioStatusCallbacks | None
    http_client: TwilioHttpClient | None = None  # built here, so closed by `aclose`

    async def aclose(self) -> None:
        """Close the HTTP client `build_twilio` created (an injected one is the caller's)."""
        if self.http_client is not None:
            await self.http_client.close()


def build_twilio(
    settings: ChannelSettings,
    *,
    public_url: str,
    now: Callable[[], datetime],
    default_region: str,
    http_client: Any | None = None,
) -> TwilioChannels:
    """Twilio SMS, WhatsApp and status callbacks from settings; no I/O."""
    if not settings.twilio_credentials:
        return TwilioChannels(sms=None, whatsapp=None, status=None)
    owned = TwilioHttpClient(settings.twilio_api_base) if http_client is None else None
    client = twilio_client(settings, http_client if http_client is not None else owned)
    signature = TwilioSignature(settings.twilio_auth_token)
    callback = public_url.rstrip("/") + STATUS_PATH
    sms: Channel | None = None
    whatsapp: Channel | None = None
    if settings.twilio_sms_on:
        sms_sender = TwilioSmsSender.from_settings(client, settings, status_callback=callback)
        sms = TwilioSmsChannel(signature, sms_sender, now, default_region)
    if settings.twilio_whatsapp_on:
        wa_sender = TwilioWhatsAppSender.from_settings(client, settings, status_callback=callback)
        whatsapp = TwilioWhatsAppChannel(signature, wa_sender, now, default_region)
    status = TwilioStatusCallbacks(signature, now)
    return TwilioChannels(sms, whatsapp, status, owned)
