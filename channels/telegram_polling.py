"""Telegram without a public URL: long polling, and registering or removing the webhook.

`poll` hands each update to `handle` as the raw JSON dict the webhook would have received, one
at a time and in order, and confirms it to Telegram (the next `getUpdates` offset) only after
`handle` returned: a crash in between means the update comes again, which billbot's dedupe on
(channel, update_id) absorbs. An update whose handling fails is retried after a backoff, so
it is never skipped. A tapped button's callback query is answered here, since there is no
webhook answer to carry it. Telegram allows one poller per bot and none while a webhook is set
(409): `delete_webhook` first.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

from aiogram import Bot
from aiogram.exceptions import (
    AiogramError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramUnauthorizedError,
)
from aiogram.types import Update

from channels.telegram_sender import call_error, describe, translated

ALLOWED_UPDATES = ["message", "callback_query"]  # what billbot reads; Telegram drops the rest
log = logging.getLogger(__name__)
T = TypeVar("T")
Handle = Callable[[dict[str, Any]], Awaitable[None]]


async def set_webhook(bot: Bot, url: str, secret: str) -> None:
    """Have Telegram POST updates to `url` with `secret` in the secret-token header."""
    with translated(bot.token, call_error):
        await bot.set_webhook(
            url, secret_token=secret, allowed_updates=ALLOWED_UPDATES, drop_pending_updates=False
        )


async def delete_webhook(bot: Bot) -> None:
    """Remove the webhook (keeping pending updates), so that `poll` may run."""
    with translated(bot.token, call_error):
        await bot.delete_webhook(drop_pending_updates=False)


@dataclass(frozen=True, slots=True)
class Backoff:
    """Seconds to wait after consecutive failures: `first`, doubling up to `ceiling`."""

    first: float = 1.0
    ceiling: float = 60.0

    def after(self, failures: int) -> float:
        """The wait after the `failures`-th failure in a row."""
        return min(self.ceiling, self.first * 2.0 ** max(0, failures - 1))


DEFAULT_BACKOFF = Backoff()


async def poll(
    bot: Bot,
    handle: Handle,
    *,
    stop: asyncio.Event,
    timeout: int = 25,  # noqa: ASYNC109 (Telegram's long-poll wait, not a deadline)
    backoff: Backoff = DEFAULT_BACKOFF,
) -> None:
    """Long-poll Telegram until `stop` is set, handing every update to `handle` once."""
    await Poller(bot, handle, stop=stop, timeout=timeout, backoff=backoff).run()


class Poller:
    """The state of one polling loop: the next offset and the failures in a row."""

    def __init__(
        self, bot: Bot, handle: Handle, *, stop: asyncio.Event, timeout: int, backoff: Backoff
    ) -> None:
        self._bot, self._handle, self._stop = bot, handle, stop
        self._timeout, self._backoff = timeout, backoff
        self.offset: int | None = None
        self._failures = 0

    async def run(self) -> None:
        """Fetch and hand over batches until stopped; TelegramCallError when the token is bad."""
        while not self._stop.is_set():
            try:
                await self._round()
                self._failures = 0
            except TelegramRetryAfter as error:
                await self._pause(error.retry_after, "flood control")
            except (TelegramUnauthorizedError, TelegramNotFound) as error:
                raise call_error(error, self._bot.token) from None  # the token is wrong
            except Exception as error:  # network, 5xx, 409, a failed handle
                await self._failed(error)

    async def _round(self) -> None:
        updates = await until_stopped(self._stop, self._fetch())
        for update in updates or ():
            if self._stop.is_set():
                return  # not confirmed: Telegram sends it again next time
            await self._deliver(update)

    async def _fetch(self) -> list[Update]:
        return await self._bot.get_updates(
            offset=self.offset,
            timeout=self._timeout,
            allowed_updates=ALLOWED_UPDATES,
            request_timeout=self._timeout + 10,
        )

    async def _deliver(self, update: Update) -> None:
        await self._handle(update.model_dump(mode="json", exclude_none=True, by_alias=True))
        self.offset = update.update_id + 1
        if update.callback_query is not None:
            await self._answer(update.callback_query.id)

    async def _answer(self, query_id: str) -> None:
        try:
            await self._bot.answer_callback_query(query_id)
        except AiogramError as error:  # a query too old to answer: only the spinner stays
            log.warning("telegram: callback query not answered (%s)", self._reason(error))

    async def _failed(self, error: Exception) -> None:
        self._failures += 1
        delay = self._backoff.after(self._failures)
        await self._pause(delay, self._reason(error))

    async def _pause(self, seconds: float, why: str) -> None:
        log.warning("telegram polling: %s; trying again in %.0f s", why, seconds)
        await until_stopped(self._stop, asyncio.sleep(seconds))

    def _reason(self, error: Exception) -> str:
        if isinstance(error, AiogramError):
            return describe(error, self._bot.token)
        return f"handling an update failed ({type(error).__name__})"  # no content: PII


async def until_stopped(stop: asyncio.Event, work: Coroutine[Any, Any, T]) -> T | None:
    """`work`'s result, or None when `stop` is set first (`work` is then cancelled)."""
    task = asyncio.ensure_future(work)
    stopped = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait((task, stopped), return_when=asyncio.FIRST_COMPLETED)
    finally:
        for pending in (task, stopped):
            pending.cancel()
        await asyncio.gather(task, stopped, return_exceptions=True)
    return None if task.cancelled() else task.result()
