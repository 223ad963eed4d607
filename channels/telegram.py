"""Telegram (aiogram 3): check the webhook secret, read an update as a neutral message, answer.

One update gives at most one `InboundMessage` (sender = the chat id, external_id = the
update_id, as_phone = None: billbot's identity service links a chat to a customer):

- text → the text; `/start`, `/help`, `/menu`, `/stop` (also `/start@SomeBot`, `/start code`)
  → the command word as text and payload {"command": word}, the rest as "command_args";
  other slash commands pass as typed;
- a shared contact → text "" and {"contact_phone": E.164} when it is the sender's own number,
  {"contact_not_own": True} when it is someone else's ({"type": "contact"} if their own
  number is not a valid phone number);
- an inline-button tap (callback query) → the button's value as text; its id goes in
  `Parsed.extra` so the webhook's answer is an `answerCallbackQuery` (the spinner stops);
- other things a person sends (photo, voice, sticker, location, …) → the caption or "" as text
  and {"type": "photo"|…}, so the engine can say it reads text only;
- anything else (edited messages, service messages, membership changes such as the user
  blocking the bot, and every message outside a private chat: a bill is no group's business)
  → nothing.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from aiogram import Bot
from aiogram.enums import ChatType, ContentType
from aiogram.methods import AnswerCallbackQuery
from aiogram.types import CallbackQuery, Contact, Message, Update
from pydantic import ValidationError

from bot.channel import BadWebhook, Parsed, WebhookRejected, WebhookRequest, WebhookResponse
from bot.channel_settings import ChannelSettings
from bot.keywords import NONE, Keywords
from bot.phones import PhoneError, normalize
from bot.types import InboundMessage
from channels.telegram_sender import TelegramSender, make_bot

NAME = "telegram"
SECRET_HEADER = "x-telegram-bot-api-secret-token"
CALLBACK_QUERY_ID = "callback_query_id"  # the Parsed.extra key the acknowledgement answers
COMMANDS = frozenset({"start", "help", "menu", "stop"})
# What a person sends besides text and contacts; service messages (a pinned message, a new
# member, a payment) are not the customer talking.
SENT_BY_PEOPLE = frozenset(
    {
        ContentType.ANIMATION,
        ContentType.AUDIO,
        ContentType.DICE,
        ContentType.DOCUMENT,
        ContentType.LOCATION,
        ContentType.PHOTO,
        ContentType.POLL,
        ContentType.STICKER,
        ContentType.STORY,
        ContentType.VENUE,
        ContentType.VIDEO,
        ContentType.VIDEO_NOTE,
        ContentType.VOICE,
    }
)

Read = tuple[str, dict[str, Any]]  # (text, payload) of one inbound message


class TelegramChannel:
    """The Telegram channel: webhook secret, update parsing, callback-query answers."""

    def __init__(
        self,
        *,
        secret: str,
        sender: TelegramSender,
        now: Callable[[], datetime],
        default_region: str = "US",
    ) -> None:
        self._secret = secret.encode()
        self._sender = sender
        self._now = now
        self._region = default_region

    @property
    def name(self) -> str:
        """Always "telegram"."""
        return NAME

    @property
    def sender(self) -> TelegramSender:
        """The outbox's sender for this channel."""
        return self._sender

    @property
    def bot(self) -> Bot:
        """aiogram's Bot, for `billbot telegram set-webhook` and `poll`."""
        return self._sender.bot

    @property
    def keywords(self) -> Keywords:
        """None: Telegram has no carrier opt-out words (/stop is a command)."""
        return NONE

    def verify(self, request: WebhookRequest) -> None:
        """WebhookRejected unless the secret-token header is BILLBOT_TELEGRAM_WEBHOOK_SECRET."""
        given = (request.header(SECRET_HEADER) or "").encode()
        if not self._secret or not secrets.compare_digest(given, self._secret):
            raise WebhookRejected("missing or wrong X-Telegram-Bot-Api-Secret-Token")

    def parse(self, request: WebhookRequest) -> Parsed:
        """The update in a webhook request; BadWebhook when it is not one."""
        return self.parse_update(json_object(request))

    def parse_update(self, data: Mapping[str, Any]) -> Parsed:
        """An update as a dict (from the webhook or from polling); BadWebhook when invalid."""
        update = validated(data)
        if update.callback_query is not None:
            return self._tapped(update.update_id, update.callback_query)
        if update.message is not None:
            read = read_message(update.message, region=self._region)
            return self._parsed(update.update_id, update.message.chat.id, read)
        return Parsed()

    def acknowledge(self, parsed: Parsed) -> WebhookResponse:
        """200 JSON: `{}`, or the answerCallbackQuery call for a tapped button."""
        query_id = parsed.extra.get(CALLBACK_QUERY_ID)
        body = callback_answer(query_id) if query_id else {}
        return WebhookResponse(body=json.dumps(body).encode(), media_type="application/json")

    def _tapped(self, update_id: int, query: CallbackQuery) -> Parsed:
        in_group = query.message is not None and query.message.chat.type != ChatType.PRIVATE
        if in_group:  # a bill has no business in a group: stop the spinner, nothing else
            return Parsed(extra={CALLBACK_QUERY_ID: query.id})
        chat = query.message.chat.id if query.message is not None else query.from_user.id
        read: Read | None = (query.data, {}) if query.data is not None else None
        parsed = self._parsed(update_id, chat, read)
        return Parsed(messages=parsed.messages, extra={CALLBACK_QUERY_ID: query.id})

    def _parsed(self, update_id: int, chat: int, read: Read | None) -> Parsed:
        if read is None:
            return Parsed()
        text, payload = read
        message = InboundMessage(
            channel=NAME,
            sender=str(chat),
            text=text,
            external_id=str(update_id),
            received_at=self._now(),
            payload=payload,
        )
        return Parsed(messages=(message,))


def build_telegram(
    settings: ChannelSettings,
    *,
    now: Callable[[], datetime],
    default_region: str,
    bot: Bot | None = None,
) -> TelegramChannel | None:
    """The Telegram channel from settings; None when its token or webhook secret is unset."""
    if not settings.telegram_on:
        return None
    bot = bot or make_bot(settings.telegram_bot_token, api_base=settings.telegram_api_base)
    return TelegramChannel(
        secret=settings.telegram_webhook_secret,
        sender=TelegramSender(bot),
        now=now,
        default_region=default_region,
    )


# --- reading (pure) ----------------------------------------------------------------------------
def json_object(request: WebhookRequest) -> dict[str, Any]:
    """The request's JSON object body; BadWebhook when it is not one."""
    if request.content_type != "application/json":
        raise BadWebhook("expected an application/json body")
    try:
        data = json.loads(request.text())
    except json.JSONDecodeError:
        raise BadWebhook("the body is not JSON") from None
    if not isinstance(data, dict):
        raise BadWebhook("expected a JSON object (a Telegram Update)")
    return data


def validated(data: Mapping[str, Any]) -> Update:
    """aiogram's Update for `data`; BadWebhook naming the first bad field, never its value."""
    try:
        return Update.model_validate(data)
    except ValidationError as error:
        where = ".".join(str(part) for part in error.errors()[0]["loc"]) or "the update"
        raise BadWebhook(f"not a Telegram update: {where} is missing or invalid") from None


def read_message(message: Message, *, region: str) -> Read | None:
    """(text, payload) of a message from a person in a private chat; None for anything else."""
    if message.chat.type != ChatType.PRIVATE:
        return None
    if message.text is not None:
        return read_text(message.text)
    if message.contact is not None:
        return "", read_contact(message, message.contact, region=region)
    kind = message.content_type
    if kind in SENT_BY_PEOPLE:
        return message.caption or "", {"type": str(ContentType(kind).value)}
    return None


def read_text(text: str) -> Read:
    """Typed text; the four slash commands become their word plus {"command": word}."""
    head, _, rest = " ".join(text.split()).partition(" ")
    word = head[1:].split("@", 1)[0].lower() if head.startswith("/") else ""
    if word not in COMMANDS:
        return text, {}
    payload: dict[str, Any] = {"command": word}
    if rest:
        payload["command_args"] = rest  # a deep link: t.me/bot?start=<args>
    return word, payload


def read_contact(message: Message, contact: Contact, *, region: str) -> dict[str, Any]:
    """Their own number in E.164, or a flag that the contact is someone else's."""
    sender = message.from_user
    if sender is None or contact.user_id != sender.id:
        return {"contact_not_own": True}
    raw = contact.phone_number.strip()
    # Telegram sends the full international number, sometimes without the "+".
    international = raw if raw.startswith("+") else f"+{raw}"
    try:
        return {"contact_phone": normalize(international, default_region=region)}
    except PhoneError:
        return {"type": "contact"}


def callback_answer(query_id: str) -> dict[str, Any]:
    """answerCallbackQuery as a webhook answer: Telegram runs it, so the spinner stops."""
    method = AnswerCallbackQuery(callback_query_id=query_id)
    return {"method": method.__api_method__, **method.model_dump(mode="json", exclude_none=True)}
