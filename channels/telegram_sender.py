"""Telegram's sender: neutral replies rendered as Bot API calls and sent with aiogram's Bot.

How a `Reply` looks on Telegram:

- text → `sendMessage`, plain text (no parse mode, so `<`, `*` and `_` are shown as typed);
  longer than 4,096 characters → split at line or word breaks, the keyboard on the last part;
- options → an inline keyboard, one button per row, `callback_data` = the option's value. A
  value Telegram cannot carry (empty or over 64 bytes of UTF-8) turns all options into
  numbered lines in the text instead, which the engine understands as typed numbers;
- link → an inline URL button (`link_label` or "Open") when it is https (Telegram refuses
  buttons to local addresses), otherwise a "label: URL" line; with a button the URL is not
  repeated in the text;
- image_url / document_url → `sendPhoto` / `sendDocument`: billbot fetches the file and
  uploads it, so it works without a public URL (polling), a document keeps its
  `document_name`, and a file that is gone (404) fails for good while Telegram's own errors stay
  what they are. The text is the caption when it fits (1,024), else it follows the file;
- request_contact → a one-time reply keyboard with one "share my phone number" button (it
  takes the place of an inline keyboard: options and link then go in the text). Replies without
  a keyboard remove a shown reply keyboard (`ReplyKeyboardRemove`), except within the send that
  showed it, so a contact request is never hidden by the message sent right after it.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from pathlib import PurePosixPath
from urllib.parse import urlsplit

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.session.base import BaseSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    AiogramError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramRetryAfter,
)
from aiogram.methods import SendDocument, SendMessage, SendPhoto
from aiogram.types import (
    BotCommand,
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    URLInputFile,
)
from aiogram.utils.token import TokenValidationError
from aiohttp import ClientError, ClientResponseError

from bot.channel_settings import TELEGRAM_API_BASE, ChannelSettingsError
from bot.outbox.ports import DeliveryError, SendContext
from bot.types import Option, Reply

CHAT_ID = re.compile(r"-?[0-9]{1,20}")
MAX_TEXT = 4096  # sendMessage text, in UTF-16 code units as Telegram counts them
MAX_CAPTION = 1024
MAX_CALLBACK_BYTES = 64
log = logging.getLogger(__name__)
PROGRESS_KEPT = 1000  # rows whose partly sent replies are remembered (in process)
MAX_FILE_BYTES = 20 * 1024 * 1024  # a QR code or an invoice PDF is far smaller
LINK_BUTTON = "Open"
LINK_LINE = "Link"
CONTACT_BUTTON = "📱 Share my phone number"
EMPTY_WITH_KEYBOARD = "…"  # Telegram needs some text to hang buttons on
REMOVE = ReplyKeyboardRemove()
COMMANDS = (
    BotCommand(command="start", description="Start, or link your account"),
    BotCommand(command="help", description="What I can do for you"),
    BotCommand(command="menu", description="Show the menu"),
    BotCommand(command="stop", description="Stop alerts and messages"),
)

Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove
Method = SendMessage | SendPhoto | SendDocument
Translate = Callable[[AiogramError, str], Exception]


class TelegramCallError(Exception):
    """A Bot API call outside the outbox failed; the message never holds the bot token."""


def make_bot(
    token: str, *, api_base: str = TELEGRAM_API_BASE, session: BaseSession | None = None
) -> Bot:
    """aiogram's Bot for `token`, talking to `api_base` (a fake or a local Bot API server)."""
    if session is None and api_base.rstrip("/") != TELEGRAM_API_BASE:
        session = AiohttpSession(api=TelegramAPIServer.from_base(api_base.rstrip("/")))
    try:
        return Bot(token, session=session)
    except TokenValidationError:
        raise ChannelSettingsError(
            "BILLBOT_TELEGRAM_BOT_TOKEN is not a bot token (digits:letters, from @BotFather)"
        ) from None


class TelegramSender:
    """The outbox's Sender for Telegram; the address is the chat id. Constructing does no I/O."""

    def __init__(self, bot: Bot) -> None:
        self._bot = bot
        # Parts of a reply already sent, by outbox row (its idempotency key): a retry after a
        # 429 on a later part goes on from there instead of sending the first ones again.
        self._progress: OrderedDict[str, int] = OrderedDict()

    @property
    def bot(self) -> Bot:
        """The aiogram Bot, for the webhook and polling helpers."""
        return self._bot

    async def send(self, address: str, replies: Sequence[Reply], *, context: SendContext) -> str:
        """Send `replies` to chat `address`; the message id of the last message sent."""
        methods = render_all(chat_id(address), replies)
        if not methods:
            raise DeliveryError("telegram: every reply is empty, nothing to send", permanent=True)
        key = context.idempotency_key
        message_id = ""
        for index, method in enumerate(methods):
            if index < self._progress.get(key, 0):
                continue  # sent on an earlier attempt of this row
            ready = await self._fetched(method)
            with translated(self._bot.token, delivery_error):
                message = await self._bot(ready)
            message_id = str(message.message_id)
            self._sent_part(key, index + 1)
        self._progress.pop(key, None)
        return message_id

    def _sent_part(self, key: str, count: int) -> None:
        self._progress[key] = count
        self._progress.move_to_end(key)
        if len(self._progress) > PROGRESS_KEPT:
            self._progress.popitem(last=False)

    async def _fetched(self, method: Method) -> Method:
        """`method` with its URL file fetched and uploaded; a file billbot cannot fetch (its own
        QR from a public URL this host cannot reach, say) leaves the text, link and buttons."""
        field = file_field(method)
        file = getattr(method, field) if field else None
        if field is None or not isinstance(file, URLInputFile):
            return method
        try:
            data = await fetch(self._bot.session, file.url)
        except DeliveryError as error:
            log.warning("%s; sending the message without it", error.reason)
            return without_file(method)
        upload = BufferedInputFile(data, filename=file.filename or field)
        return method.model_copy(update={field: upload})

    async def set_commands(self) -> None:
        """Publish /start, /help, /menu and /stop in Telegram's command menu."""
        with translated(self._bot.token, call_error):
            await self._bot.set_my_commands(list(COMMANDS))

    async def close(self) -> None:
        """Close the Bot's HTTP session."""
        await self._bot.session.close()


def chat_id(address: str) -> int:
    """The chat id an outbox address holds; a permanent DeliveryError when it holds none."""
    if not CHAT_ID.fullmatch(address):  # int() would take "+12025550101" too
        raise DeliveryError("telegram: the address is not a chat id", permanent=True)
    return int(address)


async def fetch(session: BaseSession, url: str) -> bytes:
    """The file at `url`; DeliveryError (without the URL: it may be signed) when it fails."""
    data = bytearray()
    try:
        async with contextlib.aclosing(session.stream_content(url, timeout=30)) as stream:
            async for chunk in stream:
                data += chunk
                if len(data) > MAX_FILE_BYTES:
                    raise DeliveryError("telegram: the file is over 20 MB", permanent=True)
    except ClientResponseError as error:
        gone = 400 <= error.status < 500 and error.status not in (408, 429)
        reason = f"telegram: fetching the file: HTTP {error.status}"
        raise DeliveryError(reason, permanent=gone) from None
    except (ClientError, TimeoutError, OSError) as error:
        raise DeliveryError(f"telegram: fetching the file: {type(error).__name__}") from None
    return bytes(data)


def without_file(method: Method) -> Method:
    """A photo or document call as the plain message it carried (its caption and buttons)."""
    caption = getattr(method, "caption", None) or LINK_BUTTON
    markup = getattr(method, "reply_markup", None)
    return SendMessage(chat_id=method.chat_id, text=caption, reply_markup=markup)


# --- rendering (pure) --------------------------------------------------------------------------
def render_all(chat: int, replies: Sequence[Reply]) -> list[Method]:
    """Every Bot API call for `replies`, in order."""
    methods: list[Method] = []
    contact_shown = False
    for reply in replies:
        methods += render(chat, reply, remove_keyboard=not contact_shown)
        contact_shown = contact_shown or reply.request_contact
    return methods


def render(chat: int, reply: Reply, *, remove_keyboard: bool = True) -> list[Method]:
    """The Bot API calls that show one reply."""
    buttons = option_buttons(reply.options) if not reply.request_contact else None
    link = link_button(reply) if not reply.request_contact else None
    body = body_text(reply, numbered=buttons is None, link_in_text=link is None)
    markup = keyboard(reply, buttons or [], link) or (REMOVE if remove_keyboard else None)
    files = file_methods(chat, reply)
    if files and text_length(body) <= MAX_CAPTION:
        files[-1] = files[-1].model_copy(update={"caption": body or None, "reply_markup": markup})
        return files
    return [*files, *text_methods(chat, body, markup)]


def option_buttons(options: Sequence[Option]) -> list[InlineKeyboardButton] | None:
    """One callback button per option; None when a value cannot be callback data."""
    if not all(0 < len(o.value.encode()) <= MAX_CALLBACK_BYTES for o in options):
        return None
    return [InlineKeyboardButton(text=o.label, callback_data=o.value) for o in options]


def link_button(reply: Reply) -> InlineKeyboardButton | None:
    """A URL button for an https link (Telegram refuses buttons to local addresses)."""
    if not reply.link or urlsplit(reply.link).scheme != "https":
        return None
    return InlineKeyboardButton(text=reply.link_label or LINK_BUTTON, url=reply.link)


def body_text(reply: Reply, *, numbered: bool, link_in_text: bool) -> str:
    """The message text, with the options and the link a keyboard does not carry."""
    lines = [reply.text] if reply.text else []
    if numbered:
        lines += [f"{number}. {o.label}" for number, o in enumerate(reply.options, 1)]
    if link_in_text and reply.link and reply.link not in reply.text:
        lines.append(f"{reply.link_label or LINK_LINE}: {reply.link}")
    return "\n".join(lines)


def keyboard(
    reply: Reply, buttons: list[InlineKeyboardButton], link: InlineKeyboardButton | None
) -> Markup | None:
    """The reply's own keyboard: a contact request, or its option and link buttons."""
    if reply.request_contact:
        return contact_keyboard()
    rows = [[button] for button in [*buttons, *([link] if link else [])]]
    return InlineKeyboardMarkup(inline_keyboard=rows) if rows else None


def contact_keyboard() -> ReplyKeyboardMarkup:
    """One button that shares the customer's own phone number, gone once tapped."""
    button = KeyboardButton(text=CONTACT_BUTTON, request_contact=True)
    return ReplyKeyboardMarkup(keyboard=[[button]], one_time_keyboard=True, resize_keyboard=True)


def file_methods(chat: int, reply: Reply) -> list[Method]:
    """sendPhoto for the image and sendDocument for the document, uncaptioned."""
    methods: list[Method] = []
    if reply.image_url:
        photo = URLInputFile(reply.image_url, filename=file_name(reply.image_url, "image.png"))
        methods.append(SendPhoto(chat_id=chat, photo=photo))
    if reply.document_url:
        name = reply.document_name or file_name(reply.document_url, "document.pdf")
        document = URLInputFile(reply.document_url, filename=name)
        methods.append(SendDocument(chat_id=chat, document=document))
    return methods


def file_field(method: Method) -> str | None:
    """The parameter holding the method's file, if it has one."""
    if isinstance(method, SendPhoto):
        return "photo"
    return "document" if isinstance(method, SendDocument) else None


def file_name(url: str, default: str) -> str:
    """The last path segment of `url`, or `default` when it has none."""
    return PurePosixPath(urlsplit(url).path).name or default


def text_methods(chat: int, body: str, markup: Markup | None) -> list[Method]:
    """sendMessage for each part of `body`; the keyboard goes on the last part."""
    parts = split_text(body) or ([EMPTY_WITH_KEYBOARD] if _has_buttons(markup) else [])
    methods: list[Method] = [SendMessage(chat_id=chat, text=part) for part in parts]
    if methods:
        methods[-1] = methods[-1].model_copy(update={"reply_markup": markup})
    return methods


def _has_buttons(markup: Markup | None) -> bool:
    return isinstance(markup, InlineKeyboardMarkup | ReplyKeyboardMarkup)


def text_length(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units (an emoji may count two)."""
    return len(text.encode("utf-16-le")) // 2


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """`text` in parts of at most `limit`, cut at a line break, else a space, else anywhere."""
    parts: list[str] = []
    while text_length(text) > limit:
        cut = max(1, _cut(text, _fitting_prefix(text, limit)))  # always progress
        parts.append(text[:cut])
        text = text[cut:].lstrip("\n ")
    parts.append(text)
    return [part for part in parts if part.strip()]


def _cut(text: str, head: str) -> int:
    """Where the part that starts `text` ends: a line break, else a space, else the limit."""
    for brk in ("\n", " "):
        if text[len(head)] == brk:  # the head ends just before a break: keep it whole
            return len(head)
        if (at := head.rfind(brk)) > 0:
            return at
    return len(head)


def _fitting_prefix(text: str, limit: int) -> str:
    """The longest prefix of `text` within `limit` UTF-16 code units."""
    used = 0
    for index, char in enumerate(text):
        used += 2 if ord(char) > 0xFFFF else 1
        if used > limit:
            return text[:index]
    return text


# --- errors ------------------------------------------------------------------------------------
def delivery_error(error: AiogramError, token: str) -> DeliveryError:
    """The outbox's view of a failed Bot API call."""
    reason = describe(error, token)
    if isinstance(error, TelegramRetryAfter):
        return DeliveryError(reason, retry_after=float(error.retry_after))
    if isinstance(error, TelegramForbiddenError):  # blocked, kicked, deactivated
        return DeliveryError(reason, unreachable=True)
    if isinstance(error, TelegramBadRequest):
        return DeliveryError(reason, permanent=True, unreachable="chat not found" in reason)
    if isinstance(error, TelegramMigrateToChat):
        return DeliveryError(reason, permanent=True)
    return DeliveryError(reason)  # network, 5xx, bad token, odd answers: worth another try


def call_error(error: AiogramError, token: str) -> TelegramCallError:
    """A failed Bot API call outside the outbox, as an error safe to print."""
    return TelegramCallError(describe(error, token))


def describe(error: AiogramError, token: str) -> str:
    """A short reason for logs: the error's first line, never the bot token."""
    message = str(getattr(error, "message", "") or "").strip()
    first_line = message.splitlines()[0][:300] if message else "(no description)"
    reason = f"telegram {type(error).__name__}: {first_line}"
    return reason.replace(token, "<token>") if token else reason


@contextlib.contextmanager
def translated(token: str, translate: Translate) -> Iterator[None]:
    """Raise aiogram's errors as `translate` makes them, without the aiogram traceback."""
    try:
        yield
    except AiogramError as error:
        raise translate(error, token) from None
