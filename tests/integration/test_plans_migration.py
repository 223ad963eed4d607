"""Migration 0014 on a database with payments in it: rebuilding `payment_links` on SQLite (to
let a top-up link have no invoice) keeps every payment's link, up and down."""

from __future__ import annotations

import asyncio
from datetime import datetime

from sqlalchemy import text

from billing_client.sql.client import SqlBillingClient
from billing_client.sql.database import create_engine, session_factory
from bot.migrate import downgrade, upgrade

ALEX = "+12025550101"


async def _links_of_payments(url: str) -> list[tuple[int, str | None]]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            result = await connection.execute(
                text("SELECT id, payment_link_id FROM payments ORDER BY id")
            )
            return [(row[0], row[1]) for row in result]
    finally:
        await engine.dispose()


async def _pay_alex_by_link(url: str, now: datetime) -> str:
    engine = create_engine(url)
    try:
        billing = SqlBillingClient(session_factory(engine))
        account = await billing.find_account_by_msisdn(ALEX)
        assert account is not None
        [invoice] = (await billing.get_balance(account.id, now=now)).open_invoices
        link = await billing.create_payment_link(account.id, invoice.id, now=now, ttl_seconds=60)
        await billing.pay_link(link.id, provider="sandbox", provider_reference="r", now=now)
        return link.id
    finally:
        await engine.dispose()


async def test_payments_keep_their_links_through_0014_both_ways(
    demo_db_url: str, now: datetime
) -> None:
    link_id = await _pay_alex_by_link(demo_db_url, now)
    before = await _links_of_payments(demo_db_url)
    assert [link for _, link in before].count(link_id) == 1

    await asyncio.to_thread(downgrade, demo_db_url, "0013")
    assert await _links_of_payments(demo_db_url) == before
    await asyncio.to_thread(upgrade, demo_db_url)
    assert await _links_of_payments(demo_db_url) == before
