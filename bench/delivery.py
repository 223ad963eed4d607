"""Outbox delivery to fake providers: messages a second through the real senders.

N messages are queued, then `Outbox.deliver_due` runs until every one was sent: claims with a
lease, sends outside any transaction, each result recorded in its own transaction. SMS goes
through the real twilio `Client` to tests/twilio_fake.py (unpaced: Twilio queues what a number
cannot send at once); Telegram through the real aiogram `Bot` to tests/telegram_fake.py, paced
at its 30 messages a second (`bot.outbox.pacing`), which the figure must not exceed. The fakes
run in a child process (bench/fake_providers.py), as a provider would, on the other core.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.databases import billbot_env, prepare, sqlite_url

SMS_MESSAGES = 2000
TELEGRAM_MESSAGES = 150
BATCH = 100


async def delivery_section() -> list[str]:
    """The Markdown section: one row per channel."""
    from tests.telegram_fake import TOKEN as TELEGRAM_TOKEN
    from tests.twilio_fake import ACCOUNT_SID, AUTH_TOKEN

    rows = []
    with tempfile.TemporaryDirectory(prefix="billbot-delivery-") as tmp, providers() as urls:
        env = billbot_env(sqlite_url(Path(tmp)), Path(tmp))
        await prepare(env)
        env |= {
            "BILLBOT_DELIVERY": "live",
            "BILLBOT_OUTBOX_BATCH_SIZE": str(BATCH),
            "BILLBOT_TWILIO_ACCOUNT_SID": ACCOUNT_SID,
            "BILLBOT_TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "BILLBOT_TWILIO_SMS_FROM": "+12025550999",
            "BILLBOT_TWILIO_API_BASE": urls["twilio"],
            "BILLBOT_TELEGRAM_BOT_TOKEN": TELEGRAM_TOKEN,
            "BILLBOT_TELEGRAM_WEBHOOK_SECRET": "bench-secret",
            "BILLBOT_TELEGRAM_API_BASE": urls["telegram"],
        }
        rows.append(await _rate(env, "sms", SMS_MESSAGES, _phone))
        rows.append(await _rate(env, "telegram", TELEGRAM_MESSAGES, _chat))
    return [
        "## Outbox delivery to fake providers (SQLite; the fakes in another process)",
        "",
        "| channel | messages | seconds | msg/s | limit honoured |",
        "|---|--:|--:|--:|---|",
        *rows,
    ]


@contextmanager
def providers() -> Iterator[dict[str, str]]:
    """The fake providers' base URLs, served by a child process (bench/fake_providers.py)."""
    child = subprocess.Popen(
        [sys.executable, "-m", "bench.fake_providers"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        urls = dict(child.stdout.readline().split() for _ in range(2))
        yield urls
    finally:
        assert child.stdin is not None
        child.stdin.close()
        child.wait(timeout=30)


async def _rate(
    env: dict[str, str], channel: str, count: int, address: Callable[[int], str]
) -> str:
    from bot.bootstrap import build_services
    from bot.settings import Settings
    from bot.types import OutboundMessage, Reply

    services = await build_services(Settings.from_env(env))
    try:
        for serial in range(count):
            message = OutboundMessage(
                channel=channel,
                address=address(serial),
                replies=(Reply(text=f"Your bill of $64.20 is due on December 16. #{serial}"),),
                kind="bench",
                dedupe_key=f"bench:{channel}:{serial}",
            )
            await services.outbox.enqueue(message)
        started = time.perf_counter()
        while await services.outbox.deliver_due() and time.perf_counter() - started < 120:
            pass
        seconds = time.perf_counter() - started
        sent = sum(1 for e in await services.outbox.list(limit=count) if e.status == "sent")
    finally:
        await services.close()
    per_second = sent / seconds
    limit = {"telegram": "≤ 30/s: yes" if per_second <= 30.5 else "≤ 30/s: NO"}.get(
        channel, "none"
    )
    return f"| {channel} | {sent} | {seconds:.2f} | {per_second:.0f} | {limit} |"


def _phone(serial: int) -> str:
    return f"+1202555{1000 + serial % 8000:04d}"


def _chat(serial: int) -> str:
    return str(5_000_000 + serial)
