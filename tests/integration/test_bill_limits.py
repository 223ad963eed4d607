"""Spending caps on real SQLite and PostgreSQL: set, change, remove, the opt-in cap bar,
CONTINUE, and every change in the audit log."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from billing_client import InvalidRequestError, LimitChange, LimitFact, Money
from billing_client.sql.client import SqlBillingClient
from billing_client.sql.models import Barring

SAM, JORDAN, ALEX = "+12025550102", "+12025550103", "+12025550101"
BAR_AT_FIVE = LimitChange(limit=Money(500, "USD"), action="bar")  # Sam has $6.00 unbilled


async def account_id(billing: SqlBillingClient, phone: str) -> int:
    account = await billing.find_account_by_msisdn(phone)
    assert account is not None
    return account.id


async def cap_bars(sessions: async_sessionmaker[AsyncSession]) -> list[Barring]:
    async with sessions() as session:
        query = select(Barring).where(Barring.type == "spend_cap").order_by(Barring.id)
        return list((await session.scalars(query)).all())


async def actions(billing: SqlBillingClient) -> list[str]:
    return [entry.action for entry in reversed(await billing.list_audit(limit=20))]


async def test_the_demo_cap_warns_only_and_reads_its_cycle(
    demo_billing: SqlBillingClient, now: datetime
) -> None:
    limit = await demo_billing.get_bill_limit(await account_id(demo_billing, SAM), now=now)
    assert limit.limit == Money(15000, "USD")
    assert (limit.alert_percent, limit.action, limit.unbilled) == (80, "notice", Money(600, "USD"))
    assert limit.percent_used == 4 and not limit.reached
    assert limit.cycle_start <= now.date() <= limit.cycle_end + timedelta(days=1)


async def test_setting_changing_and_removing_a_cap_is_audited(
    demo_billing: SqlBillingClient, now: datetime
) -> None:
    alex = await account_id(demo_billing, ALEX)
    limit = await demo_billing.set_bill_limit(
        alex, LimitChange(limit=Money(10000, "USD")), actor="chat", now=now
    )
    assert (limit.limit, limit.alert_percent, limit.action) == (Money(10000, "USD"), 80, "notice")
    limit = await demo_billing.set_bill_limit(
        alex, LimitChange(action="bar", alert_percent=90), actor="chat", now=now
    )
    assert (limit.limit, limit.alert_percent, limit.action) == (Money(10000, "USD"), 90, "bar")
    limit = await demo_billing.set_bill_limit(
        alex, LimitChange(remove=True), actor="chat", now=now
    )
    assert limit.limit is None
    assert (await actions(demo_billing))[-3:] == [
        "bill_limit_set",
        "bill_limit_set",
        "bill_limit_removed",
    ]
    entries = await demo_billing.list_audit(limit=1)
    assert entries[0].detail == "100.00 USD, warning at 90 %, bar at 100 % → no limit"


@pytest.mark.parametrize(
    ("change", "why"),
    [
        (LimitChange(limit=Money(0, "USD")), "more than zero"),
        (LimitChange(limit=Money(100, "EUR")), "currency"),
        (LimitChange(alert_percent=20), "warning level"),
    ],
)
async def test_a_bad_cap_is_refused_and_changes_nothing(
    demo_billing: SqlBillingClient, now: datetime, change: LimitChange, why: str
) -> None:
    sam = await account_id(demo_billing, SAM)
    with pytest.raises(InvalidRequestError, match=why):
        await demo_billing.set_bill_limit(sam, change, actor="chat", now=now)
    assert (await demo_billing.get_bill_limit(sam, now=now)).limit == Money(15000, "USD")


async def test_a_notice_only_cap_never_bars(demo_billing: SqlBillingClient, now: datetime) -> None:
    sam = await account_id(demo_billing, SAM)
    change = LimitChange(limit=Money(500, "USD"))
    await demo_billing.set_bill_limit(sam, change, actor="chat", now=now)
    result = await demo_billing.bar_over_limit(sam, actor="alerts", now=now)
    assert result.limit.reached and result.barred == ()


async def test_an_opted_in_cap_bars_every_line_once_and_continue_lifts_it_for_the_cycle(
    demo_billing: SqlBillingClient, sessions: async_sessionmaker[AsyncSession], now: datetime
) -> None:
    sam = await account_id(demo_billing, SAM)
    await demo_billing.set_bill_limit(sam, BAR_AT_FIVE, actor="chat", now=now)
    result = await demo_billing.bar_over_limit(sam, actor="alerts", now=now)
    assert sorted(line.msisdn for line in result.barred) == [SAM, JORDAN]
    assert sorted(result.limit.capped_lines) == [SAM, JORDAN]
    again = await demo_billing.bar_over_limit(sam, actor="alerts", now=now)
    assert again.barred == () and len(await cap_bars(sessions)) == 2

    limit = await demo_billing.continue_past_limit(sam, actor="chat", now=now)
    assert limit.consent_until == limit.cycle_end and limit.capped_lines == ()
    lines = await demo_billing.list_lines(sam)
    assert {line.status for line in lines} == {"active"}
    later = await demo_billing.bar_over_limit(sam, actor="alerts", now=now + timedelta(hours=5))
    assert later.barred == ()
    assert (await actions(demo_billing))[-5:] == [
        "line_barred",
        "line_barred",
        "bill_limit_continue",
        "line_unbarred",
        "line_unbarred",
    ]


async def test_the_cap_bars_again_in_the_next_cycle_after_consent_ran_out(
    demo_billing: SqlBillingClient, now: datetime
) -> None:
    sam = await account_id(demo_billing, SAM)
    await demo_billing.set_bill_limit(sam, BAR_AT_FIVE, actor="chat", now=now)
    limit = await demo_billing.continue_past_limit(sam, actor="chat", now=now)
    next_cycle = datetime.combine(limit.cycle_end + timedelta(days=2), now.timetz())
    result = await demo_billing.bar_over_limit(sam, actor="alerts", now=next_cycle)
    assert len(result.barred) == 2


async def test_raising_the_cap_past_the_charges_lifts_the_bar_and_going_past_it_bars_again(
    demo_billing: SqlBillingClient, sessions: async_sessionmaker[AsyncSession], now: datetime
) -> None:
    sam = await account_id(demo_billing, SAM)
    await demo_billing.set_bill_limit(sam, BAR_AT_FIVE, actor="chat", now=now)
    await demo_billing.bar_over_limit(sam, actor="alerts", now=now)
    raised = LimitChange(limit=Money(20000, "USD"))
    limit = await demo_billing.set_bill_limit(sam, raised, actor="chat", now=now)
    assert limit.capped_lines == () and not limit.reached
    lowered = LimitChange(limit=Money(550, "USD"))
    await demo_billing.set_bill_limit(sam, lowered, actor="chat", now=now)
    result = await demo_billing.bar_over_limit(sam, actor="alerts", now=now)
    assert len(result.barred) == 2 and len(await cap_bars(sessions)) == 4


async def test_continue_without_a_cap_is_refused(
    demo_billing: SqlBillingClient, now: datetime
) -> None:
    with pytest.raises(InvalidRequestError, match="no spending limit"):
        await demo_billing.continue_past_limit(
            await account_id(demo_billing, ALEX), actor="chat", now=now
        )


async def test_a_lost_phone_bar_replaces_the_cap_bar(
    demo_billing: SqlBillingClient, sessions: async_sessionmaker[AsyncSession], now: datetime
) -> None:
    sam = await account_id(demo_billing, SAM)
    await demo_billing.set_bill_limit(sam, BAR_AT_FIVE, actor="chat", now=now)
    await demo_billing.bar_over_limit(sam, actor="alerts", now=now)
    (line,) = [line for line in await demo_billing.list_lines(sam) if line.msisdn == JORDAN]
    result = await demo_billing.bar_line(
        line.id, reason="stolen", idempotency_key="bar:stolen:1", actor="chat", now=now
    )
    assert result.created and result.line.status == "barred"
    async with sessions() as session:
        active = await session.scalars(
            select(Barring.type).where(Barring.line_id == line.id, Barring.lifted_at.is_(None))
        )
        assert list(active) == ["lost_stolen"]
    await demo_billing.continue_past_limit(sam, actor="chat", now=now)
    (line,) = [line for line in await demo_billing.list_lines(sam) if line.msisdn == JORDAN]
    assert line.status == "barred"  # CONTINUE lifts only what the cap barred


async def test_concurrent_scans_bar_each_line_once(
    demo_billing: SqlBillingClient, sessions: async_sessionmaker[AsyncSession], now: datetime
) -> None:
    sam = await account_id(demo_billing, SAM)
    await demo_billing.set_bill_limit(sam, BAR_AT_FIVE, actor="chat", now=now)
    results = await asyncio.gather(
        *(demo_billing.bar_over_limit(sam, actor="alerts", now=now) for _ in range(10))
    )
    assert sum(len(result.barred) for result in results) == 2
    assert len(await cap_bars(sessions)) == 2


def test_consent_covers_the_last_day_of_the_cycle() -> None:
    fact = LimitFact(1, Money(100, "USD"), Money(100, "USD"), 80, True, date(2026, 12, 14))
    assert fact.consented_on(date(2026, 12, 14)) and not fact.consented_on(date(2026, 12, 15))
