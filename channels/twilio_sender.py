"""Sending SMS and WhatsApp through Twilio's Messages REST API, for the outbox.

`twilio.rest.Client` with the library's async HTTP client (`messages.create_async`); every
request goes to `BILLBOT_TWILIO_API_BASE` (tests point it at a fake on 127.0.0.1). Each message
asks for status callbacks at `/webhooks/twilio/status`.

Twilio's Messages API takes no idempotency key, so `SendContext.idempotency_key` is unused:
the outbox's lease and its per-row result recording are what keep a send from repeating. A
crash between Twilio's answer and that record can still send a message twice.

Errors: HTTP 429 and 5xx (and Twilio's throughput codes) are transient, with Retry-After when
Twilio gave one; an address that cannot receive (opted out, invalid, blocked) is `unreachable`;
63016 (outside WhatsApp's 24-hour window) and any other 4xx are permanent. Network errors and
timeouts propagate, which the outbox counts as transient.
"""

from __future__ import annotations

import base64
import json
import math
import re
from collections.abc import Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from aiohttp import ClientSession, ClientTimeout
from twilio.base.exceptions import TwilioRestException, TwilioServiceException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from bot.channel_settings import TWILIO_API_BASE, ChannelSettings, template_for
from bot.outbox.ports import DeliveryError, SendContext
from bot.phones import mask
from bot.types import Reply
from channels.sms_text import link_line, numbered, render_sms, split

WHATSAPP_PREFIX = "whatsapp:"
MAX_WHATSAPP_CHARS = 1600  # Twilio's limit on a message body
TEMPLATE_VARIABLE_CHARS = 900  # a template over 1,024 characters after substitution fails
TIMEOUT_SECONDS = 30.0
# The address itself cannot receive (channels.md §1.5, §3.1): opted out (21610), invalid
# (21211), not SMS-capable (21614), a landline (21635, 30006), blocked the sender (63014),
# not a WhatsApp user (63024).
UNREACHABLE_CODES = frozenset({21610, 21211, 21614, 21635, 30006, 63014, 63024})
THROTTLED_CODES = frozenset({20429, 21611, 63017, 63018})  # queue full, rate limits: wait
OUTSIDE_WINDOW = 63016

# The Retry-After of the last response in this task; set by TwilioHttpClient, read on errors
# (twilio's exceptions do not carry the response headers).
_RETRY_AFTER: ContextVar[float | None] = ContextVar("twilio_retry_after", default=None)


class TwilioHttpClient(AsyncTwilioHttpClient):  # type: ignore[misc]  # twilio has no types
    """twilio's aiohttp client, sending to `base` and with a timeout that applies.

    The session is opened on the first request (constructing does no I/O and needs no event
    loop); `close()` closes it.
    """

    session: ClientSession | None

    def __init__(self, base: str = TWILIO_API_BASE, *, timeout: float = TIMEOUT_SECONDS) -> None:
        super().__init__(pool_connections=False, timeout=timeout)
        self.base = base.rstrip("/")

    async def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,  # noqa: ASYNC109  (twilio's HttpClient signature)
        allow_redirects: bool = False,
    ) -> Response:
        """The request, sent to the configured base; remembers the answer's Retry-After."""
        if self.session is None:
            self.session = ClientSession(timeout=ClientTimeout(total=self.timeout))
        target, limit = self.rebase(url), timeout or self.timeout
        # The header is built here: aiohttp deprecates the BasicAuth object twilio would use.
        headers = {**(headers or {}), **_basic_auth(auth)}
        response: Response = await super().request(
            method, target, params, data, headers, None, limit, allow_redirects
        )
        _RETRY_AFTER.set(retry_after(response.headers or {}))
        return response

    def rebase(self, url: str) -> str:
        """`url` with the scheme, host and port of the base (path and query kept)."""
        if self.base == TWILIO_API_BASE:
            return url  # Twilio's own hosts, edges and regions stay as the library made them
        base, target = urlsplit(self.base), urlsplit(url)
        path = base.path.rstrip("/") + target.path
        return urlunsplit((base.scheme, base.netloc, path, target.query, target.fragment))

    async def close(self) -> None:
        """Close the session, if one was opened."""
        if self.session is not None:
            await self.session.close()
            self.session = None


def _basic_auth(auth: tuple[str, str] | None) -> dict[str, str]:
    if auth is None:
        return {}
    token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode("ascii")
    return {"Authorization": f"Basic {token}"}


def retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds from a delta-seconds Retry-After header (an HTTP date is not honoured)."""
    raw = (headers.get("Retry-After") or headers.get("retry-after") or "").strip()
    try:
        seconds = float(raw)
    except ValueError:
        return None
    return max(seconds, 0.0) if math.isfinite(seconds) else None


def twilio_client(settings: ChannelSettings, http_client: Any) -> Client:
    """A REST client for the account, on `http_client`; no I/O."""
    return Client(settings.twilio_account_sid, settings.twilio_auth_token, http_client=http_client)


# --- errors -----------------------------------------------------------------------------------

# twilio's TwilioRestException and TwilioServiceException: both carry `status` and `code`.
TwilioError = Any
_NUMBERS = re.compile(r"\+?\d{6,}")


class OutsideWindowError(DeliveryError):
    """WhatsApp refused a free-form message: the customer-service window is closed (63016)."""


def delivery_error(error: TwilioError, address: str) -> DeliveryError:
    """The outbox's view of a Twilio API error (reason without secrets or full numbers)."""
    status, code = int(error.status), _code(error)
    reason = f"Twilio HTTP {status}, error {code or 'none'}, to {mask(address)}: {_said(error)}"
    if status == 429 or status >= 500 or code in THROTTLED_CODES:
        return DeliveryError(reason, retry_after=_RETRY_AFTER.get())
    if code in UNREACHABLE_CODES:
        return DeliveryError(reason, unreachable=True)
    if code == OUTSIDE_WINDOW:
        return OutsideWindowError(f"outside the 24-hour window; {reason}", permanent=True)
    return DeliveryError(reason, permanent=True)


def _code(error: TwilioError) -> int | None:
    try:
        return int(error.code)
    except (TypeError, ValueError):
        return None


def _said(error: TwilioError) -> str:
    """What Twilio said, numbers masked (its messages quote the To number)."""
    said = getattr(error, "msg", None) or getattr(error, "title", None) or ""
    return _NUMBERS.sub(lambda match: mask(match.group()), str(said))[:200]


async def _create(client: Client, address: str, params: dict[str, Any]) -> str:
    """One message; its SID, or DeliveryError when Twilio refuses it."""
    _RETRY_AFTER.set(None)
    try:
        message = await client.messages.create_async(**params)
    except (TwilioRestException, TwilioServiceException) as error:
        raise delivery_error(error, address) from None
    return str(message.sid)


def _nothing_to_send(address: str) -> DeliveryError:
    return DeliveryError(
        f"nothing to send to {mask(address)}: the replies are empty", permanent=True
    )


# --- SMS --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TwilioSmsSender:
    """SMS through Twilio: `render_sms` bodies, one message each; the last one's SID."""

    client: Client = field(repr=False)
    origin: Mapping[str, str]  # {"from_": "+1…"} or {"messaging_service_sid": "MG…"}
    status_callback: str

    @classmethod
    def from_settings(
        cls, client: Client, settings: ChannelSettings, *, status_callback: str
    ) -> TwilioSmsSender:
        """From the number, or the Messaging Service (its pool) when that is set."""
        service = settings.twilio_messaging_service_sid
        origin = (
            {"messaging_service_sid": service} if service else {"from_": settings.twilio_sms_from}
        )
        return cls(client, origin, status_callback)

    async def send(self, address: str, replies: Sequence[Reply], *, context: SendContext) -> str:
        """Send the replies as SMS; the SID of the last body sent."""
        bodies = render_sms(replies)
        if not bodies:
            raise _nothing_to_send(address)
        sid = ""
        for body in bodies:
            sid = await _create(self.client, address, self._params(address, body))
        return sid

    def _params(self, address: str, body: str) -> dict[str, Any]:
        return {
            **self.origin,
            "to": address,
            "body": body,
            "status_callback": self.status_callback,
        }


# --- WhatsApp ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WhatsAppMessage:
    """One WhatsApp message through Twilio: text and at most one image."""

    body: str
    media_url: str | None = None


def _fits_whatsapp(text: str) -> bool:
    return len(text) <= MAX_WHATSAPP_CHARS


def whatsapp_text(reply: Reply) -> str:
    """One reply as WhatsApp text: numbered options, links and the document as link lines.

    In-session interactive buttons need approved Content templates at Twilio, so options are
    numbered text; Twilio cannot name a document, so it goes as a link with its name.
    """
    lines = [reply.text.strip()] if reply.text.strip() else []
    lines.extend(numbered(reply.options))
    if reply.link and reply.link not in reply.text:
        lines.append(link_line(reply.link, reply.link_label))
    if reply.document_url:
        lines.append(link_line(reply.document_url, reply.document_name))
    return "\n".join(lines)


def render_whatsapp(replies: Sequence[Reply]) -> list[WhatsAppMessage]:
    """The messages for one answer: merged while they fit and carry one image at most."""
    messages: list[WhatsAppMessage] = []
    for reply in replies:
        for index, chunk in enumerate(split(whatsapp_text(reply), _fits_whatsapp)):
            image = reply.image_url if index == 0 else None
            if chunk or image:
                _merge(messages, WhatsAppMessage(chunk, image))
    return messages


def _merge(messages: list[WhatsAppMessage], message: WhatsAppMessage) -> None:
    """Append `message`, into the last one when the text fits and only one has an image."""
    if messages:
        last = messages[-1]
        body = "\n\n".join(text for text in (last.body, message.body) if text)
        if _fits_whatsapp(body) and not (last.media_url and message.media_url):
            messages[-1] = WhatsAppMessage(body, last.media_url or message.media_url)
            return
    messages.append(message)


def template_variables(replies: Sequence[Reply]) -> str:
    """`{"1": text}` for a Content template: one line (WhatsApp refuses newlines), cut short."""
    texts = (whatsapp_text(Reply(r.text, link=r.link, link_label=r.link_label)) for r in replies)
    text = " ".join(" ".join(texts).split())
    if len(text) > TEMPLATE_VARIABLE_CHARS:
        text = text[: TEMPLATE_VARIABLE_CHARS - 3].rsplit(" ", 1)[0] + "..."
    return json.dumps({"1": text}, ensure_ascii=False) if text else ""


@dataclass(frozen=True, slots=True)
class TwilioWhatsAppSender:
    """WhatsApp through Twilio: free-form inside the 24-hour window, a template outside it."""

    client: Client = field(repr=False)
    from_: str  # "whatsapp:+1…"
    templates: Mapping[str, str]  # outbox kind → Content SID (HX…); "*" for any kind
    status_callback: str

    @classmethod
    def from_settings(
        cls, client: Client, settings: ChannelSettings, *, status_callback: str
    ) -> TwilioWhatsAppSender:
        """From the WhatsApp sender and its approved templates."""
        templates = settings.twilio_whatsapp_templates
        return cls(client, settings.twilio_whatsapp_from, templates, status_callback)

    async def send(self, address: str, replies: Sequence[Reply], *, context: SendContext) -> str:
        """Send the replies; the SID of the last message sent.

        When WhatsApp says the window is closed after all (63016), the template goes instead.
        """
        if not context.window_open:
            return await self._send_template(address, replies, context.kind)
        try:
            return await self._send_free_form(address, replies)
        except OutsideWindowError:
            if template_for(self.templates, context.kind) is None:
                raise
            return await self._send_template(address, replies, context.kind)

    async def _send_free_form(self, address: str, replies: Sequence[Reply]) -> str:
        messages = render_whatsapp(replies)
        if not messages:
            raise _nothing_to_send(address)
        sid = ""
        for message in messages:
            sid = await _create(self.client, address, self._params(address, message))
        return sid

    async def _send_template(self, address: str, replies: Sequence[Reply], kind: str) -> str:
        """The approved Content template for `kind`, with no body (Twilio refuses one)."""
        content_sid = template_for(self.templates, kind)
        if content_sid is None:
            reason = f"outside the 24-hour window and no template for kind {kind!r}"
            raise DeliveryError(reason, permanent=True)
        variables = template_variables(replies)
        if not variables:
            raise _nothing_to_send(address)
        params = {**self._base(address), "content_sid": content_sid}
        return await _create(self.client, address, {**params, "content_variables": variables})

    def _params(self, address: str, message: WhatsAppMessage) -> dict[str, Any]:
        params: dict[str, Any] = {**self._base(address), "body": message.body}
        if message.media_url:
            params["media_url"] = [message.media_url]
        return params

    def _base(self, address: str) -> dict[str, Any]:
        to = address if address.startswith(WHATSAPP_PREFIX) else WHATSAPP_PREFIX + address
        return {"to": to, "from_": self.from_, "status_callback": self.status_callback}
