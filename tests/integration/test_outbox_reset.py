"""`billbot db seed-demo --reset` forgets the bot's notices, messages and conversations about
the demo customers, so notices about the recreated data are queued again, not dropped."""

from __future__ import annotations

import argparse
import asyncio
import re
from datetime import datetime

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from billing_client.sql.client import SqlBillingClient
from bot.cli_db import run_seed_demo
from bot.clock import FakeClock
from bot.outbox import Outbox
from bot.services import Services
from bot.store.models import Conversation, InboundRecord
from tests.helpers import client_for
from tests.integration.outbox_fakes import SAM, bar_jordans_line, notice

STRANGER = "+12025550199"


async def _sam_id(sessions: async_sessionmaker[AsyncSession]) -> int:
    account = await SqlBillingClient(sessions).find_account_by_msisdn(SAM)
    assert account is not None
    return account.id


async def _add_turn_state(
    sessions: async_sessionmaker[AsyncSession], sender: str, account_id: int | None, now: datetime
) -> None:
    async with sessions() as session, session.begin():
        session.add(
            Conversation(channel="sms", sender=sender, account_id=account_id, updated_at=now)
        )
        session.add(
            InboundRecord(
                channel="sms",
                external_id=f"SM-{sender}",
                sender=sender,
                text="lost my phone",
                received_at=now,
                status="handled",
                account_id=account_id,
            )
        )


async def _senders(sessions: async_sessionmaker[AsyncSession], model: type) -> list[str]:
    async with sessions() as session:
        return sorted(await session.scalars(select(model.sender)))


def _reset(monkeypatch: pytest.MonkeyPatch, url: str) -> int:
    monkeypatch.setenv("BILLBOT_DATABASE_URL", url)
    monkeypatch.setenv("BILLBOT_ENV_FILE", "/nonexistent/billbot.env")
    return run_seed_demo(argparse.Namespace(reset=True, size=None))


async def test_reset_forgets_the_demo_customers_bot_state_and_keeps_the_rest(
    demo_db_url: str,
    sessions: async_sessionmaker[AsyncSession],
    clock: FakeClock,
    now: datetime,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sam = await _sam_id(sessions)
    outbox = Outbox(sessions, clock)
    await outbox.enqueue(
        notice("bar_notice:B-000001", channel="email", address="x@example.com", account_id=sam)
    )
    await outbox.enqueue(notice("legacy", address=SAM))  # stored before rows had an account
    await outbox.enqueue(notice("stranger", address=STRANGER))
    await _add_turn_state(sessions, SAM, sam, now)
    await _add_turn_state(sessions, STRANGER, None, now)

    assert await asyncio.to_thread(_reset, monkeypatch, demo_db_url) == 0

    assert [e.recipient for e in await outbox.list()] == [STRANGER]
    assert await _senders(sessions, Conversation) == [STRANGER]
    assert await _senders(sessions, InboundRecord) == [STRANGER]
    assert await outbox.enqueue(notice("bar_notice:B-000001", account_id=await _sam_id(sessions)))


async def test_after_a_reset_the_next_bar_notice_is_queued(
    services: Services, demo_sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with client_for(services) as http:
        first = await bar_jordans_line(http)
        assert await asyncio.to_thread(_reset, monkeypatch, demo_sqlite_url) == 0
        second = await bar_jordans_line(http)

    [reference] = re.findall(r"\bB-\d{6}\b", second)
    assert re.findall(r"\bB-\d{6}\b", first) == ["B-000001"]
    notices = [
        e for e in await services.outbox.list() if e.kind == "bar_notice" and e.channel == "email"
    ]
    assert [(n.status, reference in n.text) for n in notices] == [("queued", True)]
