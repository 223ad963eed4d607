"""The outbox as billbot wires it: live mode needs a sender, a committed bar is reported done
whatever the notice's delivery does, the pay receipt and `billbot chat`'s notices land in it."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from billing_client.sql.database import create_engine, session_factory
from bot.bootstrap import build_services
from bot.clock import FakeClock
from bot.nlu import NluModel
from bot.outbox import Outbox, OutboxEntry
from bot.services import Services
from bot.settings import Settings, SettingsError
from tests.helpers import TEST_SECRET, client_for, pay_through_page
from tests.integration.outbox_fakes import ALEX, FakeSender, bar_jordans_line, notice
from web.app import create_app

SANDBOX = Settings(demo=True, secret_key=TEST_SECRET)
CREDENTIALS = ("BILLBOT_TWILIO_ACCOUNT_SID", "BILLBOT_TELEGRAM_BOT_TOKEN")


@pytest.fixture
def live_settings(demo_sqlite_url: str) -> Settings:
    return replace(SANDBOX, database_url=demo_sqlite_url, delivery="live")


async def test_live_delivery_without_any_sender_fails_at_build_services(
    live_settings: Settings, nlu_model: NluModel
) -> None:
    with pytest.raises(SettingsError) as raised:
        await build_services(live_settings, nlu=nlu_model)

    assert all(name in str(raised.value) for name in CREDENTIALS)
    assert "BILLBOT_DELIVERY=sandbox" in str(raised.value)


def test_live_delivery_without_any_sender_refuses_to_make_the_web_app(
    live_settings: Settings,
) -> None:
    with pytest.raises(SettingsError, match="no channel can send"):
        create_app(live_settings)


def test_billbot_chat_in_live_mode_without_senders_is_a_one_line_error(
    demo_sqlite_url: str, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "BILLBOT_DATABASE_URL": demo_sqlite_url,
        "BILLBOT_DEMO": "1",
        "BILLBOT_SECRET_KEY": TEST_SECRET,
        "BILLBOT_DELIVERY": "live",
        "BILLBOT_ENV_FILE": str(tmp_path / "none.env"),
    }
    result = subprocess.run(
        [sys.executable, "-m", "bot", "chat", "--as", ALEX],
        input="balance\n",
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )

    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "BILLBOT_TWILIO_ACCOUNT_SID" in result.stderr
    assert "Traceback" not in result.stderr


async def test_injected_senders_make_their_channels_live_and_startup_says_which(
    live_settings: Settings, nlu_model: NluModel, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="bot.bootstrap"):
        services = await build_services(
            live_settings, nlu=nlu_model, senders={"sms": FakeSender(), "telegram": FakeSender()}
        )
    try:
        assert services.outbox.live_channels == {"sms", "telegram"}
        assert "LIVE on sms, telegram" in caplog.text
    finally:
        await services.close()


@pytest.fixture
async def failing_notices(
    live_settings: Settings, clock: FakeClock, nlu_model: NluModel
) -> AsyncIterator[tuple[Services, FakeSender]]:
    """Live services whose e-mail provider fails three times in three ways, then works."""
    email = FakeSender(ConnectionError("reset"), TimeoutError(), RuntimeError("500"))
    services = await build_services(
        live_settings, clock=clock, nlu=nlu_model, senders={"email": email}
    )
    try:
        yield services, email
    finally:
        await services.close()


async def test_a_bar_is_reported_done_while_its_notice_is_retried(
    failing_notices: tuple[Services, FakeSender], clock: FakeClock
) -> None:
    services, email = failing_notices
    async with client_for(services) as http:
        done = await bar_jordans_line(http)

    assert re.search(r"\bB-\d{6}\b", done), done
    assert "nothing was changed" not in done.lower()
    for _ in range(3):
        await services.outbox.deliver_due()
        [notice_row] = [e for e in await services.outbox.list() if _emailed(e)]
        assert notice_row.status == "retry"
        clock.advance(hours=1)
    await services.outbox.deliver_due()
    [notice_row] = [e for e in await services.outbox.list() if _emailed(e)]
    assert (notice_row.status, notice_row.attempts) == ("sent", 4)
    assert len(email.sent) == 1
    assert email.sent[0].address == "sam.lee@example.com"


async def test_the_pay_receipt_lands_in_the_outbox_as_replies(
    services: Services, client: httpx.AsyncClient
) -> None:
    account = await services.billing.find_account_by_msisdn(ALEX)
    assert account is not None
    now = services.clock.now()
    invoice = (await services.billing.get_balance(account.id, now=now)).open_invoices[0]
    link = await services.billing.create_payment_link(
        account.id, invoice.id, now=now, ttl_seconds=3600
    )

    response = await pay_through_page(client, urlsplit(services.links.pay_url(link.id)).path)
    assert response.status_code == 200

    [receipt] = [e for e in await services.outbox.list() if e.kind == "payment_received"]
    assert (receipt.channel, receipt.recipient, receipt.account_id) == ("sms", ALEX, account.id)
    assert "$64.20" in receipt.replies[0].text
    assert receipt.status == "queued"
    assert await services.outbox.deliver_due() == 1
    assert [e.status for e in await services.outbox.list() if e.id == receipt.id] == ["sandbox"]


async def test_closing_services_records_the_notices_still_due(
    demo_sqlite_url: str, clock: FakeClock, nlu_model: NluModel
) -> None:
    settings = replace(SANDBOX, database_url=demo_sqlite_url)
    services = await build_services(settings, clock=clock, nlu=nlu_model)
    await services.outbox.enqueue(notice("chat-notice"))

    await services.close()  # what `billbot chat` does at the end of its input

    engine = create_engine(demo_sqlite_url)
    try:
        [entry] = await Outbox(session_factory(engine), clock).list()
    finally:
        await engine.dispose()
    assert entry.status == "sandbox"


async def test_the_web_app_runs_the_delivery_worker_while_it_serves(services: Services) -> None:
    app = create_app(services.settings, services=services)

    async with app.router.lifespan_context(app):
        await services.outbox.enqueue(notice("while-serving"))
        for _ in range(200):
            if [e.status for e in await services.outbox.list()] == ["sandbox"]:
                break
            await asyncio.sleep(0.01)

    assert [e.status for e in await services.outbox.list()] == ["sandbox"]


def _emailed(entry: OutboxEntry) -> bool:
    return entry.kind == "bar_notice" and entry.channel == "email"
