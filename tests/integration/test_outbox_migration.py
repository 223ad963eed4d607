"""Migration 0004 keeps queued outbox rows usable: each old body becomes a one-reply list."""

from __future__ import annotations

import asyncio
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import FakeClock
from bot.migrate import downgrade, upgrade
from bot.outbox import Outbox
from tests.integration.outbox_fakes import FakeSender, rich_notice

OLD_ROW = sa.text(
    "INSERT INTO bot_outbox (channel, recipient, body, payload, kind, dedupe_key, status,"
    " attempts, created_at) VALUES ('sms', '+12025550101', :body, '{}', 'payment_received',"
    " 'payment_received:1', 'queued', 0, :created_at)"
)


async def test_a_row_queued_before_the_upgrade_is_delivered_after_it(
    db_url: str, sessions: async_sessionmaker[AsyncSession], clock: FakeClock, now: datetime
) -> None:
    await asyncio.to_thread(downgrade, db_url, "0003")
    async with sessions() as session, session.begin():
        await session.execute(
            OLD_ROW, {"body": "Thank you!\nReference: sandbox:1", "created_at": now}
        )
    await asyncio.to_thread(upgrade, db_url)

    sender = FakeSender()
    outbox = Outbox(sessions, clock, senders={"sms": sender}, live=True)
    [entry] = await outbox.list()
    assert [reply.text for reply in entry.replies] == ["Thank you!\nReference: sandbox:1"]
    assert (entry.status, entry.next_attempt_at, entry.account_id) == ("queued", now, None)
    assert await outbox.deliver_due() == 1
    assert sender.sent[0].texts == ("Thank you!\nReference: sandbox:1",)


async def test_downgrading_joins_the_replies_back_into_a_body(
    db_url: str, sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    outbox = Outbox(sessions, clock)
    await outbox.enqueue(rich_notice("bill_ready:1"))

    await asyncio.to_thread(downgrade, db_url, "0003")
    async with sessions() as session:
        rows = (await session.execute(sa.text("SELECT body, status FROM bot_outbox"))).all()
    await asyncio.to_thread(upgrade, db_url)

    assert [tuple(row) for row in rows] == [("Your bill is ready.\nPay now?", "queued")]
