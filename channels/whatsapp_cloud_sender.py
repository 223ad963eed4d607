"""Sends replies through Meta's WhatsApp Cloud API: the outbox's Sender for "whatsapp".

Rendering is pure (`render`, `render_template`); `WhatsAppCloudSender` only posts the result.

- Options: up to 3 become reply buttons, 4-10 a one-section list, more become numbered lines
  (so do options that cannot be buttons or rows: a value too long to be an id, labels that
  shorten to the same title). A tapped option comes back as its value; a number as the number.
- A link goes on its own line with a preview. An image or a document is a media message whose
  caption is the text; when options carry the text, the media go first without a caption.
- Text longer than its message allows (4,096; 1,024 for interactive bodies and captions) is
  split at a line or a space: the head goes first as text, the rest rides on the message.
- Outside the 24-hour window the replies become the kind's approved template, their texts its
  one body parameter (Meta refuses line breaks there, so whitespace is collapsed).

Graph errors ({"error": {"code", "message"}}), from channels.md §3.3 and Meta's error list:
- HTTP 429 and the rate limits (4, 80007, 130429, 131048 spam rate, 131056 pair rate): retried,
  after Retry-After when given (else 6 s for the pair rate, its pace);
- 131047 (the window closed while the reply waited): the template; permanent without one;
- 131021 (the recipient is our own number), 131026 (undeliverable: no WhatsApp, an old app,
  terms not accepted), 131050 (the user stopped marketing messages from us): unreachable;
- 1, 2, 131000, 131016, 133004 and HTTP 5xx: retried; network errors propagate (transient);
- everything else (190 token, 100 parameter, 131049 Meta's engagement limit, which Meta says
  not to retry soon, …): permanent.

Several replies are several requests, in order. If one fails after others went, the retry of the
same outbox row (same idempotency key) resumes after them: Meta has no idempotency key, and the
customer should not read the first half twice. That memory is this process's only.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, Literal

import httpx

from bot.channel_settings import ChannelSettings, template_for
from bot.logs import redact
from bot.outbox.ports import DeliveryError, SendContext
from bot.phones import mask
from bot.types import Option, Reply

Message = dict[str, Any]  # one Graph message object, without messaging_product and to
Carrier = Literal["buttons", "list", "numbered", "image", "document", "text"]

TEXT_MAX = 4096
BODY_MAX = 1024  # interactive bodies and media captions
TEMPLATE_PARAMETER_MAX = 1024  # the whole template must stay within 1,024 after substitution
BUTTONS_MAX, BUTTON_TITLE_MAX, BUTTON_ID_MAX = 3, 20, 256
ROWS_MAX, ROW_TITLE_MAX, ROW_ID_MAX, ROW_DESCRIPTION_MAX = 10, 24, 200, 72
LIST_BUTTON = "Choose"
ELLIPSIS = "…"

RATE_LIMIT_CODES = frozenset({4, 80007, 130429, 131048, 131056})
PAIR_RATE_CODE, PAIR_RATE_SECONDS = 131056, 6.0  # about one message per 6 s to one user
WINDOW_CLOSED_CODE = 131047
UNREACHABLE_CODES = frozenset({131021, 131026, 131050})
TRANSIENT_CODES = frozenset({1, 2, 131000, 131016, 133004})
TIMEOUT = httpx.Timeout(15.0, connect=5.0)
PROGRESS_MAX = 1024  # outbox rows remembered half-sent; the oldest are forgotten first

logger = logging.getLogger(__name__)


class WindowClosedError(DeliveryError):
    """Meta says the 24-hour window has closed (131047): only a template may go now."""


class WhatsAppCloudSender:
    """POSTs rendered replies to `{graph}/{version}/{phone_number_id}/messages`."""

    def __init__(
        self,
        settings: ChannelSettings,
        *,
        client: httpx.AsyncClient | None = None,
        list_button: str = LIST_BUTTON,
    ) -> None:
        self._settings = settings
        self._client = client
        self._owns_client = client is None  # created on first use: constructing does no I/O
        self._list_button = list_button
        # How many messages of a half-sent outbox row Meta accepted (idempotency key → count,
        # last id): a retry resumes after them instead of repeating them to the customer.
        self._progress: dict[str, tuple[int, str]] = {}

    @property
    def url(self) -> str:
        """The messages endpoint of the configured business phone number."""
        s = self._settings
        return f"{s.meta_graph_base}/{s.meta_graph_version}/{s.whatsapp_phone_number_id}/messages"

    async def send(self, address: str, replies: Sequence[Reply], *, context: SendContext) -> str:
        """Send `replies` to `address` (E.164); the WhatsApp message id of the last one."""
        to = recipient(address)
        if not context.window_open:
            return await self._post(to, self._template(replies, context.kind))
        try:
            return await self._send_session(
                to, render(replies, list_button=self._list_button), context
            )
        except WindowClosedError:
            self._progress.pop(context.idempotency_key, None)
            return await self._post(to, self._template(replies, context.kind))

    async def aclose(self) -> None:
        """Close the HTTP client if this sender created it (an injected one is the caller's)."""
        if self._owns_client and self._client is not None:
            await self._client.aclose()
            self._client = None

    async def _send_session(self, to: str, messages: list[Message], context: SendContext) -> str:
        if not messages:
            raise DeliveryError("there is nothing to send: the replies are empty", permanent=True)
        key = context.idempotency_key
        done, last_id = self._progress.get(key, (0, ""))
        for index in range(done if done < len(messages) else 0, len(messages)):
            last_id = await self._post(to, messages[index])
            self._remember(key, index + 1, last_id)
        self._progress.pop(key, None)
        return last_id

    def _remember(self, key: str, done: int, last_id: str) -> None:
        self._progress.pop(key, None)  # re-inserted last: the newest are kept
        self._progress[key] = (done, last_id)
        if len(self._progress) > PROGRESS_MAX:
            self._progress.pop(next(iter(self._progress)))

    def _template(self, replies: Sequence[Reply], kind: str) -> Message:
        name = template_for(self._settings.whatsapp_templates, kind)
        if name is None:
            raise DeliveryError(
                f"outside the 24-hour window and no template for kind {kind!r}", permanent=True
            )
        return render_template(
            replies, name=name, language=self._settings.whatsapp_template_language
        )

    async def _post(self, to: str, message: Message) -> str:
        response = await self._http().post(
            self.url,
            json={"messaging_product": "whatsapp", "recipient_type": "individual", "to": to}
            | message,
            headers={"Authorization": f"Bearer {self._settings.whatsapp_access_token}"},
        )
        if not response.is_success:
            raise delivery_error(response)
        found = message_id(response)
        logger.debug("WhatsApp Cloud API accepted %s to %s", found, mask("+" + to))
        return found

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=TIMEOUT)
        return self._client


def recipient(address: str) -> str:
    """The Cloud API's `to`: the E.164 digits without the plus."""
    digits = address.strip().removeprefix("+")
    if not digits.isdigit() or not 7 <= len(digits) <= 15:
        raise DeliveryError(f"not a phone number: {mask(address)}", unreachable=True)
    return digits


# --- responses ---------------------------------------------------------------------------------
def message_id(response: httpx.Response) -> str:
    """`messages[0].id` of a successful send."""
    try:
        found = response.json()["messages"][0]["id"]
    except (ValueError, LookupError, TypeError):
        found = None
    if not isinstance(found, str) or not found:
        # Meta may have sent it; a retry risks a repeat, giving up risks losing a bill alert.
        raise DeliveryError("the Cloud API accepted the message without a message id")
    return found


def delivery_error(response: httpx.Response) -> DeliveryError:
    """The DeliveryError for a refused send (see the module docstring for the mapping)."""
    code, message = graph_error(response)
    status = response.status_code
    reason = f"the Cloud API refused the message (HTTP {status}, error {code}): {message}"
    if status == 429 or code in RATE_LIMIT_CODES:
        return DeliveryError(reason, retry_after=retry_after(response, code))
    if code == WINDOW_CLOSED_CODE:
        return WindowClosedError(reason, permanent=True)
    if code in UNREACHABLE_CODES:
        return DeliveryError(reason, unreachable=True)
    return DeliveryError(reason, permanent=not (code in TRANSIENT_CODES or status >= 500))


def graph_error(response: httpx.Response) -> tuple[int | None, str]:
    """The Graph error's code and a loggable message (no phone numbers, short)."""
    try:
        error = response.json().get("error")
    except (ValueError, AttributeError):
        error = None
    if not isinstance(error, dict):
        return None, response.reason_phrase or "no error details"
    code = error.get("code")
    message = redact(str(error.get("message") or "no message"))[:200]
    return (code if isinstance(code, int) else None), message


def retry_after(response: httpx.Response, code: int | None) -> float | None:
    """Seconds to wait: Retry-After (seconds form), or the pair rate's pace."""
    try:
        seconds = float(response.headers.get("retry-after", ""))
    except ValueError:
        return PAIR_RATE_SECONDS if code == PAIR_RATE_CODE else None
    return max(seconds, 0.0)


# --- rendering ---------------------------------------------------------------------------------
def render(replies: Sequence[Reply], *, list_button: str = LIST_BUTTON) -> list[Message]:
    """Session messages (inside the 24-hour window) for `replies`, in order."""
    return [message for reply in replies for message in render_reply(reply, list_button)]


def render_reply(reply: Reply, list_button: str = LIST_BUTTON) -> list[Message]:
    """One reply: loose media first, then any overflow text, then the message carrying it."""
    carrier = carrier_of(reply)
    limit = TEXT_MAX if carrier in ("numbered", "text") else BODY_MAX
    head, tail = split_tail(body_text(reply, numbered=carrier == "numbered"), limit)
    preview = reply.link is not None
    overflow = [text_message(part, preview=preview) for part in split_text(head, TEXT_MAX)]
    return [*loose_media(reply, carrier), *overflow, *carried(reply, carrier, tail, list_button)]


def carrier_of(reply: Reply) -> Carrier:
    """Which message carries the reply's text."""
    if reply.options:
        return options_carrier(reply.options)
    if reply.image_url:
        return "image"
    return "document" if reply.document_url else "text"


def options_carrier(options: Sequence[Option]) -> Carrier:
    """Buttons, a list, or numbered lines: whichever shows every option intact."""
    if len(options) <= BUTTONS_MAX and fits(options, BUTTON_TITLE_MAX, BUTTON_ID_MAX):
        return "buttons"
    if len(options) <= ROWS_MAX and fits(options, ROW_TITLE_MAX, ROW_ID_MAX):
        return "list"
    return "numbered"


def fits(options: Sequence[Option], title_max: int, id_max: int) -> bool:
    """Whether every option has a usable id and a distinct, non-empty shortened title."""
    titles = {shorten(option.label, title_max) for option in options}
    ids = {option.value for option in options}
    usable = all(0 < len(option.value) <= id_max for option in options) and all(titles)
    return usable and len(titles) == len(ids) == len(options)


def loose_media(reply: Reply, carrier: Carrier) -> list[Message]:
    """The image and document that do not carry the text, without a caption."""
    media: list[Message] = []
    if reply.image_url and carrier != "image":
        media.append(media_message("image", reply.image_url, ""))
    if reply.document_url and carrier != "document":
        media.append(media_message("document", reply.document_url, "", reply.document_name))
    return media


def carried(reply: Reply, carrier: Carrier, body: str, list_button: str) -> list[Message]:
    """The message carrying `body` (none for an empty text)."""
    if carrier == "buttons":
        return [buttons_message(body, reply.options)]
    if carrier == "list":
        return [list_message(body, reply.options, list_button)]
    if carrier == "image" and reply.image_url:
        return [media_message("image", reply.image_url, body)]
    if carrier == "document" and reply.document_url:
        return [media_message("document", reply.document_url, body, reply.document_name)]
    return [text_message(body, preview=reply.link is not None)] if body else []


def body_text(reply: Reply, *, numbered: bool) -> str:
    """The reply's text, its options as numbered lines if asked, and its link on its own line."""
    parts = [reply.text.strip()]
    if numbered:
        parts.append("\n".join(f"{n}. {o.label}" for n, o in enumerate(reply.options, 1)))
    if reply.link and reply.link not in reply.text:
        parts.append(f"{reply.link_label}:\n{reply.link}" if reply.link_label else reply.link)
    return "\n\n".join(part for part in parts if part)


def text_message(body: str, *, preview: bool = False) -> Message:
    """A text message; `preview` asks WhatsApp to show the link's preview."""
    text: dict[str, Any] = {"body": body}
    if preview:
        text["preview_url"] = True
    return {"type": "text", "text": text}


def buttons_message(body: str, options: Sequence[Option]) -> Message:
    """An interactive message with up to three reply buttons (id = the option's value)."""
    buttons = [
        {"type": "reply", "reply": {"id": o.value, "title": shorten(o.label, BUTTON_TITLE_MAX)}}
        for o in options
    ]
    return interactive("button", body or ELLIPSIS, {"buttons": buttons})


def list_message(body: str, options: Sequence[Option], button: str) -> Message:
    """An interactive list of up to ten rows in one section (id = the option's value)."""
    action = {"button": shorten(button, BUTTON_TITLE_MAX), "sections": [{"rows": rows(options)}]}
    return interactive("list", body or ELLIPSIS, action)


def rows(options: Sequence[Option]) -> list[dict[str, str]]:
    """List rows; a label too long for a title is shown whole (up to 72) as the description."""
    found = []
    for option in options:
        row = {"id": option.value, "title": shorten(option.label, ROW_TITLE_MAX)}
        if len(option.label) > ROW_TITLE_MAX:
            row["description"] = shorten(option.label, ROW_DESCRIPTION_MAX)
        found.append(row)
    return found


def interactive(kind: str, body: str, action: dict[str, Any]) -> Message:
    """An interactive message of `kind` ("button" or "list")."""
    return {
        "type": "interactive",
        "interactive": {"type": kind, "body": {"text": body}, "action": action},
    }


def media_message(kind: str, link: str, caption: str, filename: str | None = None) -> Message:
    """An image or document message fetched by Meta from `link`."""
    media: dict[str, Any] = {"link": link}
    if caption:
        media["caption"] = caption
    if filename:
        media["filename"] = filename
    return {"type": kind, kind: media}


def render_template(replies: Sequence[Reply], *, name: str, language: str) -> Message:
    """The approved template `name`, the replies' texts as its one body parameter."""
    parameter = {"type": "text", "text": template_text(replies)}
    template = {
        "name": name,
        "language": {"code": language},
        "components": [{"type": "body", "parameters": [parameter]}],
    }
    return {"type": "template", "template": template}


def template_text(replies: Sequence[Reply]) -> str:
    """The replies' texts and links on one line (template parameters take no line breaks)."""
    pieces = [piece for r in replies for piece in (r.text, r.link) if piece]
    words = " ".join(" ".join(pieces).split())
    return shorten(words, TEMPLATE_PARAMETER_MAX) or ELLIPSIS


# --- text --------------------------------------------------------------------------------------
def shorten(text: str, limit: int) -> str:
    """`text` in at most `limit` characters: cut at a word if one ends late enough, plus "…"."""
    text = text.strip()
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", limit // 2, limit)
    return text[: cut if cut > 0 else limit - 1].rstrip() + ELLIPSIS


def split_text(text: str, limit: int) -> list[str]:
    """`text` in pieces of at most `limit`, cut at a line break or a space where possible."""
    pieces = []
    while len(text) > limit:
        cut = last_break(text, limit)
        pieces.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    return [piece for piece in (*pieces, text) if piece]


def split_tail(text: str, limit: int) -> tuple[str, str]:
    """(head, tail): the tail at most `limit` long, cut at a line break or a space if possible."""
    if len(text) <= limit:
        return "", text
    start = len(text) - limit
    cut = first_break(text, start, start + limit // 2)
    return text[:cut].rstrip(), text[cut:].strip()


def last_break(text: str, limit: int) -> int:
    """Where to end a piece of at most `limit`: the last break in its second half, else `limit`."""
    for separator in ("\n", " "):
        found = text.rfind(separator, limit // 2, limit)
        if found > 0:
            return found
    return limit


def first_break(text: str, start: int, end: int) -> int:
    """The first line break (else space) in text[start:end], else `start`."""
    for separator in ("\n", " "):
        found = text.find(separator, start, end)
        if found != -1:
            return found
    return start
