"""`billbot messages` shows each outbound message's replies, status and why it is there."""

from __future__ import annotations

import asyncio
import json

import pytest

from billing_client.sql.database import create_engine, session_factory
from bot.cli import main
from bot.clock import FakeClock
from bot.outbox import Outbox
from tests.conftest import FIXED_NOW
from tests.integration.outbox_fakes import FakeSender, notice, rich_notice


async def _queue_some(url: str) -> None:
    engine = create_engine(url)
    try:
        clock = FakeClock(FIXED_NOW)
        outbox = Outbox(
            session_factory(engine), clock, senders={"sms": FakeSender(OSError())}, live=True
        )
        await outbox.enqueue(rich_notice("bill_ready:1"))
        await outbox.enqueue(notice("mail", channel="email", address="sam.lee@example.com"))
        await outbox.deliver_due()
    finally:
        await engine.dispose()


def _messages(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], url: str, *args: str
) -> str:
    monkeypatch.setenv("BILLBOT_DATABASE_URL", url)
    monkeypatch.setenv("BILLBOT_ENV_FILE", "/nonexistent/billbot.env")
    with pytest.raises(SystemExit) as exited:
        main(["messages", *args])
    assert exited.value.code == 0
    return capsys.readouterr().out


def test_messages_show_the_replies_as_a_text_channel_would(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    asyncio.run(_queue_some(sqlite_url))

    out = _messages(monkeypatch, capsys, sqlite_url)

    assert "sms → +12025550101 [retry] bill_ready" in out
    assert "(attempt 1 failed: OSError; next try 2025-03-14 15:3" in out
    assert "Your bill is ready." in out and "View: https://example.test/i/1" in out
    assert "  1. Yes" in out and "  2. Later" in out
    assert "email → sam.lee@example.com [sandbox] test_notice" in out
    assert "(not sent: live delivery has no sender for channel 'email')" in out


def test_messages_json_carries_the_replies(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    asyncio.run(_queue_some(sqlite_url))

    entries = json.loads(_messages(monkeypatch, capsys, sqlite_url, "--json", "--limit", "1"))

    assert len(entries) == 1
    [mail] = entries
    assert (mail["channel"], mail["status"], mail["body"]) == (
        "email",
        "sandbox",
        "Your line was barred.",
    )
    assert mail["replies"] == [{"text": "Your line was barred."}]
