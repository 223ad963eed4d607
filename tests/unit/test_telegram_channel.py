"""The Telegram channel's pure steps: webhook secret, updates as neutral messages, the answer."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.channel import BadWebhook, Parsed, WebhookRejected, WebhookRequest
from bot.channel_settings import ChannelSettings, ChannelSettingsError
from bot.keywords import NONE
from bot.types import InboundMessage
from channels.telegram import TelegramChannel, build_telegram
from channels.telegram_sender import TelegramSender, make_bot
from tests.telegram_fake import DATE, TOKEN, callback_query, text_message

SECRET = "s3cret_webhook-token"
NOW = datetime(2025, 3, 14, 15, 30, tzinfo=UTC)
CHAT = 4242


@pytest.fixture
def channel() -> TelegramChannel:
    # Building a Bot opens no connection, so nothing needs closing here.
    sender = TelegramSender(make_bot(TOKEN))
    return TelegramChannel(secret=SECRET, sender=sender, now=lambda: NOW, default_region="US")


def webhook(
    body: bytes | dict[str, Any],
    *,
    secret: str | None = SECRET,
    content_type: str = "application/json",
) -> WebhookRequest:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"content-type": content_type}
    if secret is not None:
        headers["x-telegram-bot-api-secret-token"] = secret
    return WebhookRequest("POST", "https://bot.example/webhooks/telegram", "/", (), headers, raw)


def only_message(channel: TelegramChannel, update: dict[str, Any]) -> InboundMessage:
    parsed = channel.parse(webhook(update))
    assert len(parsed.messages) == 1
    return parsed.messages[0]


def contact_update(phone: str, *, owner: int | None) -> dict[str, Any]:
    message = text_message("", chat_id=CHAT)
    del message["text"]
    contact = {"phone_number": phone, "first_name": "Alex"}
    message["contact"] = contact | ({"user_id": owner} if owner is not None else {})
    return {"update_id": 31, "message": message}


# --- verify -----------------------------------------------------------------------------------
def test_the_right_secret_token_is_accepted(channel: TelegramChannel) -> None:
    channel.verify(webhook({"update_id": 1}))


@pytest.mark.parametrize("secret", [None, "", "wrong", SECRET + "x", "sécret"])
def test_a_missing_or_wrong_secret_token_is_rejected(
    channel: TelegramChannel, secret: str | None
) -> None:
    with pytest.raises(WebhookRejected):
        channel.verify(webhook({"update_id": 1}, secret=secret))


def test_a_channel_without_a_secret_rejects_everything() -> None:
    sender = TelegramSender(make_bot(TOKEN))
    channel = TelegramChannel(secret="", sender=sender, now=lambda: NOW)
    with pytest.raises(WebhookRejected):
        channel.verify(webhook({"update_id": 1}, secret=""))


# --- parse: text and commands -------------------------------------------------------------------
def test_a_text_message_becomes_an_inbound_message_from_the_chat(
    channel: TelegramChannel,
) -> None:
    message = only_message(channel, {"update_id": 501, "message": text_message("my balance")})

    assert message == InboundMessage(
        channel="telegram",
        sender=str(CHAT),
        text="my balance",
        external_id="501",
        received_at=NOW,
        payload={},
        as_phone=None,
    )


@pytest.mark.parametrize("command", ["start", "help", "menu", "stop"])
def test_each_bot_command_becomes_its_word_and_a_command_payload(
    channel: TelegramChannel, command: str
) -> None:
    message = only_message(channel, {"update_id": 2, "message": text_message(f"/{command}")})

    assert (message.text, message.payload) == (command, {"command": command})


def test_a_command_addressed_to_the_bot_by_name_is_the_same_command(
    channel: TelegramChannel,
) -> None:
    message = only_message(channel, {"update_id": 3, "message": text_message("/start@BillBot")})

    assert (message.text, message.payload) == ("start", {"command": "start"})


def test_a_start_deep_link_keeps_its_argument(channel: TelegramChannel) -> None:
    update = {"update_id": 4, "message": text_message("/start@BillBot  link-7f3a")}

    message = only_message(channel, update)

    assert message.text == "start"
    assert message.payload == {"command": "start", "command_args": "link-7f3a"}


@pytest.mark.parametrize("typed", ["/balance", "/pay now", "/ start", "start"])
def test_other_commands_and_plain_words_pass_as_typed(
    channel: TelegramChannel, typed: str
) -> None:
    message = only_message(channel, {"update_id": 5, "message": text_message(typed)})

    assert (message.text, message.payload) == (typed, {})


def test_emoji_and_other_scripts_pass_unchanged(channel: TelegramChannel) -> None:
    message = only_message(channel, {"update_id": 6, "message": text_message("¿saldo? 💸 余额")})

    assert message.text == "¿saldo? 💸 余额"


# --- parse: contacts ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("shared", "e164"),
    [
        ("12025550101", "+12025550101"),
        ("447911123456", "+447911123456"),
        ("34612345678", "+34612345678"),
    ],
)
def test_their_own_contact_without_a_plus_becomes_an_e164_phone(
    channel: TelegramChannel, shared: str, e164: str
) -> None:
    message = only_message(channel, contact_update(shared, owner=CHAT))

    assert (message.text, message.payload) == ("", {"contact_phone": e164})
    assert message.as_phone is None


def test_their_own_us_contact_with_a_plus_stays_e164(channel: TelegramChannel) -> None:
    message = only_message(channel, contact_update("+1 202 555 0101", owner=CHAT))

    assert message.payload == {"contact_phone": "+12025550101"}


def test_someone_elses_contact_is_flagged_and_its_number_not_passed_on(
    channel: TelegramChannel,
) -> None:
    message = only_message(channel, contact_update("12025550102", owner=999))

    assert (message.text, message.payload) == ("", {"contact_not_own": True})


def test_a_contact_card_of_no_telegram_user_is_not_their_own(channel: TelegramChannel) -> None:
    message = only_message(channel, contact_update("12025550102", owner=None))

    assert message.payload == {"contact_not_own": True}


def test_their_own_contact_with_an_invalid_number_carries_no_phone(
    channel: TelegramChannel,
) -> None:
    message = only_message(channel, contact_update("12345", owner=CHAT))

    assert message.payload == {"type": "contact"}


# --- parse: callback queries ---------------------------------------------------------------------
def test_a_tapped_button_becomes_its_value_and_is_answered_in_the_webhook_response(
    channel: TelegramChannel,
) -> None:
    update = {"update_id": 77, "callback_query": callback_query("pay", query_id="cbq-77")}

    parsed = channel.parse(webhook(update))
    response = channel.acknowledge(parsed)

    [message] = parsed.messages
    assert (message.sender, message.text, message.external_id) == (str(CHAT), "pay", "77")
    assert parsed.extra == {"callback_query_id": "cbq-77"}
    assert (response.status, response.media_type) == (200, "application/json")
    answer = {"method": "answerCallbackQuery", "callback_query_id": "cbq-77"}
    assert json.loads(response.body) == answer


def test_a_tap_on_a_message_too_old_to_see_still_comes_from_its_chat(
    channel: TelegramChannel,
) -> None:
    query = callback_query("balance")
    query["message"]["date"] = 0  # Telegram's "inaccessible message"

    message = only_message(channel, {"update_id": 78, "callback_query": query})

    assert (message.sender, message.text) == (str(CHAT), "balance")


def test_a_tap_without_its_message_comes_from_the_user(channel: TelegramChannel) -> None:
    query = callback_query("menu")
    del query["message"]
    query["inline_message_id"] = "inline-1"

    message = only_message(channel, {"update_id": 79, "callback_query": query})

    assert message.sender == str(CHAT)


def test_a_tap_without_data_sends_nothing_on_but_is_still_answered(
    channel: TelegramChannel,
) -> None:
    query = callback_query("x", query_id="cbq-80")
    del query["data"]

    parsed = channel.parse(webhook({"update_id": 80, "callback_query": query}))

    assert parsed.messages == ()
    assert json.loads(channel.acknowledge(parsed).body)["callback_query_id"] == "cbq-80"


def test_an_ordinary_update_is_acknowledged_with_an_empty_object(
    channel: TelegramChannel,
) -> None:
    parsed = channel.parse(webhook({"update_id": 8, "message": text_message("hi")}))

    assert json.loads(channel.acknowledge(parsed).body) == {}


# --- parse: everything else ---------------------------------------------------------------------
def test_a_photo_with_a_caption_is_read_as_its_caption_with_its_type(
    channel: TelegramChannel,
) -> None:
    message = text_message("", chat_id=CHAT)
    del message["text"]
    size = {"file_id": "p", "file_unique_id": "u", "width": 90, "height": 90}
    message |= {"photo": [size], "caption": "why is my bill so high"}

    inbound = only_message(channel, {"update_id": 9, "message": message})

    assert (inbound.text, inbound.payload) == ("why is my bill so high", {"type": "photo"})


def test_a_sticker_is_an_empty_message_of_its_type(channel: TelegramChannel) -> None:
    message = text_message("", chat_id=CHAT)
    del message["text"]
    message["sticker"] = {
        "file_id": "s",
        "file_unique_id": "u",
        "type": "regular",
        "width": 512,
        "height": 512,
        "is_animated": False,
        "is_video": False,
    }

    inbound = only_message(channel, {"update_id": 10, "message": message})

    assert (inbound.text, inbound.payload) == ("", {"type": "sticker"})


def blocked_the_bot() -> dict[str, Any]:
    user = {"id": CHAT, "is_bot": False, "first_name": "Alex"}
    bot = {"user": {"id": 123456, "is_bot": True, "first_name": "billbot"}}
    return {
        "chat": {"id": CHAT, "type": "private"},
        "from": user,
        "date": DATE,
        "old_chat_member": {"status": "member", **bot},
        "new_chat_member": {"status": "kicked", "until_date": 0, **bot},
    }


def group_message() -> dict[str, Any]:
    message = text_message("what do I owe")
    message["chat"] = {"id": -100500, "type": "supergroup", "title": "Family"}
    return message


def service_message() -> dict[str, Any]:
    message = text_message("")
    del message["text"]
    message["pinned_message"] = {"message_id": 1, "date": 0, "chat": message["chat"]}
    return message


def a_poll_answer() -> dict[str, Any]:
    user = {"id": CHAT, "is_bot": False, "first_name": "Alex"}
    return {"poll_id": "p", "option_ids": [0], "option_persistent_ids": ["a"], "user": user}


@pytest.mark.parametrize(
    "update",
    [
        {"update_id": 11, "edited_message": text_message("my balance!")},
        {"update_id": 12, "my_chat_member": blocked_the_bot()},
        {"update_id": 13, "message": group_message()},
        {"update_id": 14, "message": service_message()},
        {"update_id": 15, "poll_answer": a_poll_answer()},
        {"update_id": 16, "some_future_update": {"x": 1}},
    ],
    ids=["edited", "blocked", "group", "service", "poll-answer", "unknown"],
)
def test_updates_that_are_not_a_customer_talking_give_no_message(
    channel: TelegramChannel, update: dict[str, Any]
) -> None:
    assert channel.parse(webhook(update)) == Parsed()


def test_a_polled_update_dict_reads_like_the_webhook_one(channel: TelegramChannel) -> None:
    update = {"update_id": 17, "message": text_message("/menu")}

    assert channel.parse_update(update) == channel.parse(webhook(update))


# --- parse: malformed requests ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("request_", "reason"),
    [
        (webhook(b'{"update_id": 1', content_type="application/json"), "not JSON"),
        (webhook({"update_id": 1}, content_type="text/plain"), "application/json"),
        (webhook({"update_id": 1}, content_type=""), "application/json"),
        (webhook(b'{"update_id": 1, "x": "\xff"}'), "UTF-8"),
        (webhook(b"[1, 2]"), "JSON object"),
        (webhook(b'"update"'), "JSON object"),
        (webhook({"message": text_message("hi")}), "update_id"),
        (webhook({"update_id": "seven"}), "update_id"),
        (webhook({"update_id": 1, "message": {"text": "hi"}}), "message."),
    ],
    ids=[
        "truncated",
        "text-plain",
        "no-type",
        "latin-1",
        "array",
        "string",
        "no-id",
        "bad-id",
        "bad-message",
    ],
)
def test_a_malformed_webhook_is_a_bad_webhook_with_a_reason(
    channel: TelegramChannel, request_: WebhookRequest, reason: str
) -> None:
    with pytest.raises(BadWebhook, match=reason):
        channel.parse(request_)


def test_a_bad_webhook_reason_never_echoes_the_sent_value(channel: TelegramChannel) -> None:
    with pytest.raises(BadWebhook) as caught:
        channel.parse(webhook({"update_id": "my PIN is 2468"}))

    assert "2468" not in str(caught.value)


def test_json_with_a_charset_parameter_is_accepted(channel: TelegramChannel) -> None:
    request = webhook({"update_id": 18}, content_type="application/json; charset=utf-8")

    assert channel.parse(request) == Parsed()


# --- the channel as a whole ---------------------------------------------------------------------
def test_the_channel_is_named_telegram_and_honours_no_compliance_keywords(
    channel: TelegramChannel,
) -> None:
    assert (channel.name, channel.keywords) == ("telegram", NONE)
    assert channel.bot is channel.sender.bot


def test_telegram_is_built_only_with_a_token_and_a_webhook_secret() -> None:
    on = ChannelSettings(telegram_bot_token=TOKEN, telegram_webhook_secret=SECRET)
    off = ChannelSettings(telegram_bot_token=TOKEN)

    channel = build_telegram(on, now=lambda: NOW, default_region="US")

    assert isinstance(channel, TelegramChannel)
    assert build_telegram(off, now=lambda: NOW, default_region="US") is None


def test_a_malformed_bot_token_is_a_settings_error_that_does_not_show_it() -> None:
    settings = ChannelSettings(telegram_bot_token="not-a-token", telegram_webhook_secret=SECRET)

    with pytest.raises(ChannelSettingsError) as caught:
        build_telegram(settings, now=lambda: NOW, default_region="US")

    assert "not-a-token" not in str(caught.value)
