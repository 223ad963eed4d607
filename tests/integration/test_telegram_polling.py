"""Long polling and the webhook helpers: the real aiogram Bot against a fake Bot API server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from aiogram import Bot

from channels.telegram import TelegramChannel
from channels.telegram_polling import Backoff, delete_webhook, poll, set_webhook
from channels.telegram_sender import TelegramCallError, TelegramSender, make_bot
from tests.telegram_fake import (
    SERVER_ERROR,
    TOKEN,
    Failure,
    FakeBotApi,
    callback_query,
    running_fake,
    text_message,
)

NOW = datetime(2025, 3, 14, 15, 30, tzinfo=UTC)
FAST = Backoff(first=0.01, ceiling=0.05)
Handle = Callable[[dict[str, Any]], Awaitable[None]]


@pytest.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    async with running_fake() as fake:
        yield fake


@pytest.fixture
async def bot(api: FakeBotApi) -> AsyncIterator[Bot]:
    telegram = make_bot(TOKEN, api_base=api.base_url)
    yield telegram
    await telegram.session.close()


class Collector:
    """A handler that keeps what it was handed and stops polling after `until` updates."""

    def __init__(self, stop: asyncio.Event, *, until: int) -> None:
        self.stop, self.until = stop, until
        self.handled: list[dict[str, Any]] = []

    async def __call__(self, update: dict[str, Any]) -> None:
        self.handled.append(update)
        if len(self.handled) >= self.until:
            self.stop.set()

    @property
    def ids(self) -> list[int]:
        return [update["update_id"] for update in self.handled]


async def run(bot: Bot, handle: Handle, stop: asyncio.Event, *, seconds: float = 10) -> None:
    await asyncio.wait_for(poll(bot, handle, stop=stop, timeout=1, backoff=FAST), seconds)


def offsets(api: FakeBotApi) -> list[int | None]:
    calls = api.calls_to("getUpdates")
    return [int(call.params["offset"]) if "offset" in call.params else None for call in calls]


# --- polling ----------------------------------------------------------------------------------
async def test_each_update_is_handed_over_once_in_order_as_the_webhook_json(
    bot: Bot, api: FakeBotApi
) -> None:
    pushed = [api.push_update({"message": text_message(text)}) for text in ("hi", "balance")]
    pushed.append(api.push_update({"callback_query": callback_query("pay")}))
    stop = asyncio.Event()
    handle = Collector(stop, until=3)

    await run(bot, handle, stop)

    assert handle.handled == pushed


async def test_polled_updates_read_through_the_channel_like_webhook_ones(
    bot: Bot, api: FakeBotApi
) -> None:
    api.push_update({"message": text_message("/start@billbot_test_bot")})
    api.push_update({"callback_query": callback_query("pay_bill")})
    channel = TelegramChannel(secret="s", sender=TelegramSender(bot), now=lambda: NOW)
    stop = asyncio.Event()
    read: list[tuple[str, str, dict[str, Any]]] = []

    async def handle(update: dict[str, Any]) -> None:
        [message] = channel.parse_update(update).messages
        read.append((message.sender, message.text, message.payload))
        if len(read) == 2:
            stop.set()

    await run(bot, handle, stop)

    assert read == [("4242", "start", {"command": "start"}), ("4242", "pay_bill", {})]


async def test_polling_asks_only_for_messages_and_button_taps(bot: Bot, api: FakeBotApi) -> None:
    api.push_update({"message": text_message("hi")})
    stop = asyncio.Event()

    await run(bot, Collector(stop, until=1), stop)

    call = api.calls_to("getUpdates")[0]
    assert call.json("allowed_updates") == ["message", "callback_query"]
    assert call.params["timeout"] == "1"


async def test_an_update_stays_unconfirmed_until_its_handler_returned(
    bot: Bot, api: FakeBotApi
) -> None:
    first = api.push_update({"message": text_message("hi")})["update_id"]
    stop = asyncio.Event()
    pending_while_handling: list[list[int]] = []

    async def handle(update: dict[str, Any]) -> None:
        await asyncio.sleep(0.05)  # handling takes a while; polling must wait for it
        pending_while_handling.append(api.pending_update_ids)
        stop.set()

    await run(bot, handle, stop)

    assert pending_while_handling == [[first]]
    assert offsets(api) == [None]


async def test_an_update_whose_handling_failed_comes_again_and_earlier_ones_do_not(
    bot: Bot, api: FakeBotApi
) -> None:
    ids = [api.push_update({"message": text_message(t)})["update_id"] for t in "abc"]
    stop = asyncio.Event()
    collector = Collector(stop, until=4)
    failed = False

    async def handle(update: dict[str, Any]) -> None:
        nonlocal failed
        await collector(update)
        if update["update_id"] == ids[1] and not failed:
            failed = True
            raise RuntimeError("the database is down")

    await run(bot, handle, stop)

    assert collector.ids == [ids[0], ids[1], ids[1], ids[2]]
    assert offsets(api)[:2] == [None, ids[1]]


async def test_a_tapped_button_is_answered_after_it_was_handled(bot: Bot, api: FakeBotApi) -> None:
    api.push_update({"callback_query": callback_query("pay", query_id="cbq-9")})
    stop = asyncio.Event()
    answered_while_handling: list[int] = []

    async def handle(update: dict[str, Any]) -> None:
        answered_while_handling.append(len(api.calls_to("answerCallbackQuery")))
        stop.set()

    await run(bot, handle, stop)

    [answer] = api.calls_to("answerCallbackQuery")
    assert answer.params["callback_query_id"] == "cbq-9"
    assert answered_while_handling == [0]


async def test_a_callback_query_too_old_to_answer_does_not_stop_polling(
    bot: Bot, api: FakeBotApi
) -> None:
    api.push_update({"callback_query": callback_query("pay")})
    api.push_update({"message": text_message("hi")})
    api.fail("answerCallbackQuery", Failure(400, "Bad Request: query is too old"))
    stop = asyncio.Event()
    handle = Collector(stop, until=2)

    await run(bot, handle, stop)

    assert len(handle.handled) == 2


async def test_polling_stops_promptly_when_told_even_in_the_middle_of_a_long_poll(
    bot: Bot, api: FakeBotApi
) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(poll(bot, Collector(stop, until=1), stop=stop, timeout=25))
    await asyncio.wait_for(api.polled.wait(), 5)

    stop.set()

    await asyncio.wait_for(task, 1.0)  # the fake would hold this poll for 2 s
    assert task.done() and task.exception() is None


async def test_polling_backs_off_after_a_server_error_and_goes_on(
    bot: Bot, api: FakeBotApi
) -> None:
    api.fail("getUpdates", SERVER_ERROR, times=2)
    update = api.push_update({"message": text_message("hi")})
    stop = asyncio.Event()
    handle = Collector(stop, until=1)

    await run(bot, handle, stop)

    assert handle.handled == [update]
    assert len(api.calls_to("getUpdates")) == 3


async def test_polling_waits_as_long_as_flood_control_says(bot: Bot, api: FakeBotApi) -> None:
    api.fail("getUpdates", Failure(429, "Too Many Requests: retry after 1", retry_after=1))
    api.push_update({"message": text_message("hi")})
    stop = asyncio.Event()

    await run(bot, Collector(stop, until=1), stop)

    first, second = api.calls_to("getUpdates")[:2]
    assert second.at - first.at >= 0.9


async def test_a_wrong_bot_token_ends_polling_with_an_error_that_hides_it(
    api: FakeBotApi,
) -> None:
    wrong = make_bot("999999:WRONG-token", api_base=api.base_url)
    try:
        with pytest.raises(TelegramCallError) as caught:
            await run(wrong, Collector(asyncio.Event(), until=1), asyncio.Event())
    finally:
        await wrong.session.close()

    assert "WRONG-token" not in str(caught.value)
    assert "Unauthorized" in str(caught.value)


def test_backoff_doubles_up_to_its_ceiling() -> None:
    backoff = Backoff(first=1, ceiling=10)

    assert [backoff.after(n) for n in range(1, 7)] == [1, 2, 4, 8, 10, 10]


# --- the webhook --------------------------------------------------------------------------------
async def test_set_webhook_sends_the_url_the_secret_and_the_update_kinds(
    bot: Bot, api: FakeBotApi
) -> None:
    await set_webhook(bot, "https://bill.example/webhooks/telegram", "s3cret_token")

    [call] = api.calls_to("setWebhook")
    assert call.params["url"] == "https://bill.example/webhooks/telegram"
    assert call.params["secret_token"] == "s3cret_token"
    assert call.json("allowed_updates") == ["message", "callback_query"]
    assert call.params.get("drop_pending_updates", "false") == "false"


async def test_delete_webhook_keeps_pending_updates(bot: Bot, api: FakeBotApi) -> None:
    await delete_webhook(bot)

    [call] = api.calls_to("deleteWebhook")
    assert call.params.get("drop_pending_updates", "false") == "false"


async def test_a_refused_webhook_is_an_error_safe_to_print(bot: Bot, api: FakeBotApi) -> None:
    api.fail("setWebhook", Failure(400, "Bad Request: bad webhook: HTTPS url must be provided"))

    with pytest.raises(TelegramCallError, match="HTTPS url must be provided") as caught:
        await set_webhook(bot, "http://bill.example/webhooks/telegram", "s3cret_token")

    assert TOKEN not in str(caught.value)
