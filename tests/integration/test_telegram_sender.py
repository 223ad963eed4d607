"""Telegram's sender: the real aiogram Bot against a fake Bot API server on 127.0.0.1."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator

import pytest

from bot.outbox.ports import DeliveryError, SendContext
from bot.types import Option, Reply
from channels.telegram_sender import TelegramSender, make_bot, split_text, text_length
from tests.telegram_fake import (
    BLOCKED,
    CHAT_NOT_FOUND,
    SERVER_ERROR,
    TOKEN,
    TOO_MANY_REQUESTS,
    Failure,
    FakeBotApi,
    running_fake,
)

CHAT = "4242"
CONTEXT = SendContext(kind="reply", idempotency_key="outbox-1")
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n% an invoice\n"
REMOVE_KEYBOARD = {"remove_keyboard": True}


@pytest.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    async with running_fake() as fake:
        yield fake


@pytest.fixture
async def sender(api: FakeBotApi) -> AsyncIterator[TelegramSender]:
    telegram = TelegramSender(make_bot(TOKEN, api_base=api.base_url))
    yield telegram
    await telegram.close()


async def send(sender: TelegramSender, *replies: Reply) -> str:
    return await sender.send(CHAT, replies, context=CONTEXT)


async def refused(sender: TelegramSender, *replies: Reply) -> DeliveryError:
    with pytest.raises(DeliveryError) as caught:
        await send(sender, *replies)
    assert TOKEN not in caught.value.reason
    return caught.value


# --- text and keyboards --------------------------------------------------------------------------
async def test_plain_text_is_sent_as_typed_to_the_chat(
    sender: TelegramSender, api: FakeBotApi
) -> None:
    message_id = await send(sender, Reply("You owe <b>$64.20</b> by *Mar 24*"))

    [call] = api.calls_to("sendMessage")
    assert call.params["chat_id"] == CHAT
    assert call.params["text"] == "You owe <b>$64.20</b> by *Mar 24*"
    assert "parse_mode" not in call.params  # shown literally, never read as markup
    assert call.json("reply_markup") == REMOVE_KEYBOARD
    assert message_id == "1"


async def test_options_become_inline_buttons_whose_callback_data_are_the_values(
    sender: TelegramSender, api: FakeBotApi
) -> None:
    options = (Option("Pay my bill", "pay_bill"), Option("Balance", "balance"))

    await send(sender, Reply("What would you like to do?", options=options))

    [call] = api.calls_to("sendMessage")
    assert call.params["text"] == "What would you like to do?"
    assert call.json("reply_markup") == {
        "inline_keyboard": [
            [{"text": "Pay my bill", "callback_data": "pay_bill"}],
            [{"text": "Balance", "callback_data": "balance"}],
        ]
    }


async def test_options_whose_values_do_not_fit_callback_data_become_numbered_lines(
    sender: TelegramSender, api: FakeBotApi
) -> None:
    options = (Option("Line ending 0101", "line:" + "x" * 60), Option("Cancel", "cancel"))

    await send(sender, Reply("Which line?", options=options))

    [call] = api.calls_to("sendMessage")
    assert call.params["text"] == "Which line?\n1. Line ending 0101\n2. Cancel"
    assert call.json("reply_markup") == REMOVE_KEYBOARD


async def test_an_https_link_becomes_a_url_button_after_the_options(
    sender: TelegramSender, api: FakeBotApi
) -> None:
    link = "https://bill.example/pay/3f9a"
    reply = Reply("Pay $64.20", options=(Option("Later", "later"),), link=link, link_label="Pay")

    await send(sender, reply)

    [call] = api.calls_to("sendMessage")
    assert call.params["text"] == "Pay $64.20"
    assert call.json("reply_markup")["inline_keyboard"] == [
        [{"text": "Later", "callback_data": "later"}],
        [{"text": "Pay", "url": link}],
    ]


async def test_a_link_button_without_a_label_says_open(
    sender: TelegramSender, api: FakeBotApi
) -> None:
    await send(sender, Reply("Your invoice", link="https://bill.example/i/7"))

    button = api.calls_to("sendMessage")[0].json("reply_markup")["inline_keyboard"][0][0]
    assert button == {"text": "Open", "url": "https://bill.example/i/7"}


async def test_a_local_http_link_goes_in_the_text_since_telegram_refuses_such_buttons(
    sender: TelegramSender, api: FakeBotApi
) -> None:
    await send(sender, Reply("Pay here", link="http://127.0.0.1:8000/pay/1", link_label="Pay"))

    [call] = api.calls_to("sendMessage")
    assert call.params["text"] == "Pay here\nPay: http://127.0.0.1:8000/pay/1"
    assert call.json("reply_markup") == REMOVE_KEYBOARD


# --- photos and documents ------------------------------------------------------------------------
async def test_an_image_is_uploaded_as_a_photo_with_the_text_as_caption_and_keyboard(
    sender: TelegramSender, api: FakeBotApi
) -> None:
    qr = api.add_file("pay-qr.png", PNG, "image/png")
    reply = Reply("Scan to pay $64.20", image_url=qr, link="https://bill.example/pay/3f9a")

    await send(sender, reply)

    [call] = api.calls
    assert call.method == "sendPhoto"
    assert call.params["caption"] == "Scan to pay $64.20"
    assert call.files["photo"].data == PNG
    assert call.files["photo"].filename == "pay-qr.png"
    assert call.json("reply_markup")["inline_keyboard"][0][0]["text"] == "Open"
    assert api.downloads == ["pay-qr.png"]


async def test_a_text_too_long_for_a_caption_follows_the_photo(
    sender: TelegramSender, api: FakeBotApi
) -> None:
    qr = api.add_file("qr.png", PNG, "image/png")
    text = ("Scan to pay. " * 100).strip()

    await send(sender, Reply(text, image_url=qr, options=(Option("Done", "done"),)))

    photo, message = api.calls
    assert (photo.method, message.method) == ("sendPhoto", "sendMessage")
    assert "caption" not in photo.params
    assert message.params["text"] == text
    assert message.json("reply_markup")["inline_keyboard"] == [
        [{"text": "Done", "callback_data": "done"}]
    ]


async def test_a_document_is_uploaded_under_its_file_name_with_a_caption(
    sender: TelegramSender, api: FakeBotApi
) -> None:
    url = api.add_file("invoice-7.pdf", PDF, "application/pdf")
    reply = Reply("Your March invoice", document_url=url, document_name="invoice-2025-06.pdf")

    await send(sender, reply)

    [call] = api.calls
    assert call.method == "sendDocument"
    assert call.params["caption"] == "Your March invoice"
    assert (call.files["document"].filename, call.files["document"].data) == (
        "invoice-2025-06.pdf",
        PDF,
    )


async def test_a_document_without_a_name_is_named_after_its_url(
    sender: TelegramSender, api: FakeBotApi
) -> None:
    url = api.add_file("INV-2025-03.pdf", PDF, "application/pdf")

    await send(sender, Reply("", document_url=url))

    [call] = api.calls
    assert call.files["document"].filename == "INV-2025-03.pdf"
    assert "caption" not in call.params


async def test_a_document_that_is_gone_leaves_the_text_without_naming_its_url(
    sender: TelegramSender, api: FakeBotApi, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"{api.base_url}/files/expired-signed-link.pdf"

    await send(sender, Reply("Your invoice", document_url=url))

    assert api.calls_to("sendDocument") == []
    [call] = api.calls_to("sendMessage")
    assert call.params["text"] == "Your invoice"
    assert "expired-signed-link" not in caplog.text


# --- the contact request -------------------------------------------------------------------------
async def test_a_contact_request_shows_a_one_time_share_my_number_keyboard(
    sender: TelegramSender, api: FakeBotApi
) -> None:
    reply = Reply("Share your number to link this chat", request_contact=True)

    await send(sender, reply)

    [call] = api.calls_to("sendMessage")
    markup = call.json("reply_markup")
    assert markup["one_time_keyboard"] is True
    assert markup["resize_keyboard"] is True
    [[button]] = markup["keyboard"]
    assert button["request_contact"] is True
    assert button["text"]


async def test_a_contact_request_puts_its_options_in_the_text(
    sender: TelegramSender, api: FakeBotApi
) -> None:
    reply = Reply(
        "Share your number", options=(Option("Not now", "cancel"),), request_contact=True
    )

    await send(sender, reply)

    [call] = api.calls_to("sendMessage")
    assert call.params["text"] == "Share your number\n1. Not now"
    assert "keyboard" in call.json("reply_markup")


async def test_the_contact_keyboard_stays_for_the_rest_of_its_send_and_goes_with_the_next(
    sender: TelegramSender, api: FakeBotApi
) -> None:
    await send(sender, Reply("Share your number", request_contact=True), Reply("Or type STOP."))
    await send(sender, Reply("Thanks, you are linked."))

    first, second, third = api.calls_to("sendMessage")
    assert "keyboard" in first.json("reply_markup")
    assert "reply_markup" not in second.params
    assert third.json("reply_markup") == REMOVE_KEYBOARD


# --- long text -----------------------------------------------------------------------------------
async def test_a_long_text_is_split_into_messages_telegram_accepts_keyboard_on_the_last(
    sender: TelegramSender, api: FakeBotApi
) -> None:
    lines = [f"{day:02d} Mar  data 1.2 GB  $0.00" for day in range(1, 32)] * 12
    reply = Reply("\n".join(lines), options=(Option("Menu", "menu"),))

    message_id = await send(sender, reply)

    calls = api.calls_to("sendMessage")
    assert len(calls) == 3
    assert all(len(call.params["text"]) <= 4096 for call in calls)
    assert "\n".join(call.params["text"] for call in calls) == reply.text
    assert [("reply_markup" in call.params) for call in calls] == [False, False, True]
    assert message_id == "3"


def test_splitting_counts_emoji_as_telegram_does_and_cuts_words_only_when_it_must() -> None:
    emoji = "💸" * 3000  # 6,000 UTF-16 code units
    word = "x" * 5000

    assert [text_length(part) for part in split_text(emoji)] == [4096, 1904]
    assert [len(part) for part in split_text(word)] == [4096, 904]
    assert split_text("a b c", limit=3) == ["a b", "c"]


async def test_several_replies_are_sent_in_order_and_the_last_id_returned(
    sender: TelegramSender, api: FakeBotApi
) -> None:
    message_id = await send(sender, Reply("one"), Reply("two"), Reply("three"))

    assert [call.params["text"] for call in api.calls_to("sendMessage")] == ["one", "two", "three"]
    assert message_id == "3"


# --- failures ------------------------------------------------------------------------------------
async def test_flood_control_is_a_transient_failure_with_telegrams_retry_after(
    sender: TelegramSender, api: FakeBotApi
) -> None:
    api.fail("sendMessage", TOO_MANY_REQUESTS)

    error = await refused(sender, Reply("Your bill is ready"))

    assert (error.permanent, error.unreachable, error.retry_after) == (False, False, 3.0)


async def test_a_user_who_blocked_the_bot_is_unreachable(
    sender: TelegramSender, api: FakeBotApi
) -> None:
    api.fail("sendMessage", BLOCKED)

    error = await refused(sender, Reply("Your bill is ready"))

    assert (error.permanent, error.unreachable) == (True, True)
    assert "blocked" in error.reason


async def test_a_bad_request_is_a_permanent_failure(
    sender: TelegramSender, api: FakeBotApi
) -> None:
    api.fail("sendMessage", Failure(400, "Bad Request: can't parse entities"))

    error = await refused(sender, Reply("Your bill is ready"))

    assert (error.permanent, error.unreachable) == (True, False)


async def test_a_chat_that_does_not_exist_is_unreachable(
    sender: TelegramSender, api: FakeBotApi
) -> None:
    api.fail("sendMessage", CHAT_NOT_FOUND)

    error = await refused(sender, Reply("Your bill is ready"))

    assert error.unreachable


async def test_a_telegram_server_error_is_transient(
    sender: TelegramSender, api: FakeBotApi
) -> None:
    api.fail("sendPhoto", SERVER_ERROR)
    qr = api.add_file("qr.png", PNG, "image/png")

    error = await refused(sender, Reply("Scan to pay", image_url=qr))

    assert (error.permanent, error.retry_after) == (False, None)


async def test_an_unreachable_bot_api_is_transient_and_the_reason_holds_no_token() -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    telegram = TelegramSender(make_bot(TOKEN, api_base=f"http://127.0.0.1:{port}"))
    try:
        error = await refused(telegram, Reply("hello"))
    finally:
        await telegram.close()

    assert error.permanent is False
    assert "TelegramNetworkError" in error.reason


async def test_an_address_that_is_no_chat_id_fails_for_good_without_a_call(
    sender: TelegramSender, api: FakeBotApi
) -> None:
    with pytest.raises(DeliveryError) as caught:
        await sender.send("+12025550101", [Reply("hi")], context=CONTEXT)

    assert caught.value.permanent
    assert api.calls == []


async def test_replies_with_nothing_to_show_fail_for_good(
    sender: TelegramSender, api: FakeBotApi
) -> None:
    error = await refused(sender, Reply(""), Reply("   "))

    assert error.permanent
    assert api.calls == []


# --- the command menu ----------------------------------------------------------------------------
async def test_set_commands_publishes_start_help_menu_and_stop(
    sender: TelegramSender, api: FakeBotApi
) -> None:
    await sender.set_commands()

    [call] = api.calls_to("setMyCommands")
    commands = call.json("commands")
    assert [command["command"] for command in commands] == ["start", "help", "menu", "stop"]
    assert all(0 < len(command["description"]) <= 256 for command in commands)


async def test_options_without_text_still_get_a_message_to_hang_their_buttons_on(
    sender: TelegramSender, api: FakeBotApi
) -> None:
    await send(sender, Reply("", options=(Option("Menu", "menu"),)))

    [call] = api.calls_to("sendMessage")
    assert call.params["text"] == "…"
    assert call.json("reply_markup")["inline_keyboard"] == [
        [{"text": "Menu", "callback_data": "menu"}]
    ]
