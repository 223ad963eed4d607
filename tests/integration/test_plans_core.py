"""Plans, add-ons and top-ups in the embedded core on SQLite and PostgreSQL: the demo's offers,
proration worked out by hand, downgrades at the next cycle, charges and ledger rows written
once (replays and concurrent confirmations), the allowance in usage, top-up links paid once.

The demo runs at `FIXED_NOW` (2025-03-14 15:30 UTC): Alex's cycle is March 3 – April 2 in New
York (31 days, 20 left counting today), Sam's February 16 – March 15 in Chicago (28 days, 2
left), María's 30-day bundle February 22 – March 23 in Madrid (30 days, 10 left).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from billing_client import (
    ConflictError,
    InsufficientBalanceError,
    InvalidRequestError,
    Money,
    PriceChangedError,
)
from billing_client.sql.client import SqlBillingClient
from billing_client.sql.models import (
    Charge,
    LineAddOn,
    PlanChange,
    PrepaidTransaction,
)

ALEX, SAM, JORDAN, MARIA = "+12025550101", "+12025550102", "+12025550103", "+12025550104"
ACTOR = "customer:web"


def usd(minor: int) -> Money:
    return Money(minor, "USD")


async def ids(billing: SqlBillingClient, phone: str) -> tuple[int, int]:
    """(account id, line id) of the demo line with this number."""
    account = await billing.find_account_by_msisdn(phone)
    assert account is not None
    lines = await billing.list_lines(account.id)
    return account.id, next(line.id for line in lines if line.msisdn == phone)


async def rows(sessions: async_sessionmaker[AsyncSession], model: type, *where: object) -> list:
    async with sessions() as session:
        return list((await session.scalars(select(model).where(*where))).all())  # type: ignore[arg-type]


async def data_allowance(
    billing: SqlBillingClient, account: int, phone: str, now: datetime
) -> int:
    counters = await billing.get_usage(account, now=now)
    [data] = [c for c in counters if c.line_msisdn == phone and c.kind == "data"]
    assert data.allowance is not None
    return data.allowance


# --- plan options -------------------------------------------------------------------------------
async def test_alex_can_go_up_now_or_down_next_cycle(
    demo_billing: SqlBillingClient, now: datetime
) -> None:
    account, line = await ids(demo_billing, ALEX)
    options = await demo_billing.plan_options(account, line, now=now)
    assert (options.current.code, options.cycle_start, options.cycle_end) == (
        "unlimited-50",
        date(2025, 3, 3),
        date(2025, 4, 2),
    )
    down, up = options.offers
    assert (down.plan.code, down.direction, down.effective_on, down.charge) == (
        "essentials-10",
        "downgrade",
        date(2025, 4, 3),
        usd(0),
    )
    # $75 − $55 = $20.00 for 20 of 31 days: 2000 × 20 / 31 = 1290.32… → $12.90 (half up)
    assert (up.plan.code, up.direction, up.effective_on) == (
        "unlimited-100",
        "upgrade",
        now.date(),
    )
    assert (up.days_left, up.days_in_cycle, up.charge) == (20, 31, usd(1290))
    assert options.pending is None and options.prepaid_balance is None


async def test_a_family_line_moves_between_family_tiers_priced_a_line(
    demo_billing: SqlBillingClient, now: datetime
) -> None:
    account, line = await ids(demo_billing, JORDAN)
    options = await demo_billing.plan_options(account, line, now=now)
    assert [offer.plan.code for offer in options.offers] == ["family-2x10", "family-2x40"]
    up = options.offers[1]
    # a line of Family 2×40 is $60.00, of 2×20 $45.00: $15.00 for 2 of 28 days = 107.14… → $1.07
    assert (up.plan.line_price, up.days_left, up.days_in_cycle, up.charge) == (
        usd(6000),
        2,
        28,
        usd(107),
    )
    assert options.offers[0].effective_on == date(2025, 3, 16)


async def test_another_accounts_line_is_not_found(
    demo_billing: SqlBillingClient, now: datetime
) -> None:
    alex, _ = await ids(demo_billing, ALEX)
    _, marias_line = await ids(demo_billing, MARIA)
    with pytest.raises(Exception, match="not found"):
        await demo_billing.plan_options(alex, marias_line, now=now)


# --- plan changes -------------------------------------------------------------------------------
async def test_an_upgrade_applies_now_charges_the_prorated_difference_once(
    demo_billing: SqlBillingClient, sessions: async_sessionmaker[AsyncSession], now: datetime
) -> None:
    account, line = await ids(demo_billing, ALEX)
    change = {"expected_charge": usd(1290), "idempotency_key": "k-up", "actor": ACTOR, "now": now}
    result = await demo_billing.change_plan(account, line, "unlimited-100", **change)
    assert (result.created, result.direction, result.line.plan_name) == (
        True,
        "upgrade",
        "Unlimited 100",
    )
    assert (result.from_plan, result.to_plan, result.charge) == (
        "Unlimited 50",
        "Unlimited 100",
        usd(1290),
    )
    again = await demo_billing.change_plan(account, line, "unlimited-100", **change)
    assert (again.created, again.reference) == (False, result.reference)

    [charge] = await rows(sessions, Charge, Charge.source_id.like("plan_change:%"))
    assert (charge.kind, charge.amount_minor, charge.invoice_id) == ("one_off", 1290, None)
    assert charge.description == "Plan change to Unlimited 100 (20/31 days)"
    assert await data_allowance(demo_billing, account, ALEX, now) == 100 * 1024
    balance = await demo_billing.get_balance(account, now=now)
    assert balance.unbilled == usd(450 + 1290)  # the calls to Mexico and the upgrade
    [audited] = [e for e in await demo_billing.list_audit() if e.action == "plan_changed"]
    assert audited.detail == f"{result.reference} unlimited-50 → unlimited-100, 1290 USD"


async def test_a_downgrade_waits_for_the_next_cycle_then_applies(
    demo_billing: SqlBillingClient, sessions: async_sessionmaker[AsyncSession], now: datetime
) -> None:
    account, line = await ids(demo_billing, ALEX)
    result = await demo_billing.change_plan(
        account,
        line,
        "essentials-10",
        expected_charge=usd(0),
        idempotency_key="k-down",
        actor=ACTOR,
        now=now,
    )
    assert (result.direction, result.effective_on, result.charge) == (
        "downgrade",
        date(2025, 4, 3),
        usd(0),
    )
    assert result.line.plan_name == "Unlimited 50"  # until then
    assert await rows(sessions, Charge, Charge.source_id.like("plan_change:%")) == []
    options = await demo_billing.plan_options(account, line, now=now)
    assert options.pending is not None and options.pending.plan_name == "Essentials 10"

    late_april_2 = datetime(2025, 4, 3, 3, 59, tzinfo=UTC)  # 23:59 on April 2 in New York
    assert await demo_billing.apply_due_plan_changes(now=late_april_2) == 0
    april_3 = datetime(2025, 4, 3, 4, 0, tzinfo=UTC)  # midnight in New York
    assert await demo_billing.apply_due_plan_changes(now=april_3) == 1
    assert await demo_billing.apply_due_plan_changes(now=april_3) == 0
    [line_now] = await demo_billing.list_lines(account)
    assert line_now.plan_name == "Essentials 10"
    [row] = await rows(sessions, PlanChange)
    assert (row.status, row.applied_at) == ("applied", april_3)


async def test_a_new_choice_replaces_the_pending_change(
    demo_billing: SqlBillingClient, sessions: async_sessionmaker[AsyncSession], now: datetime
) -> None:
    account, line = await ids(demo_billing, ALEX)
    common = {"actor": ACTOR, "now": now}
    await demo_billing.change_plan(
        account, line, "essentials-10", expected_charge=usd(0), idempotency_key="a", **common
    )
    await demo_billing.change_plan(
        account, line, "unlimited-100", expected_charge=usd(1290), idempotency_key="b", **common
    )
    statuses = sorted((r.status, r.idempotency_key) for r in await rows(sessions, PlanChange))
    assert statuses == [("applied", "b"), ("cancelled", "a")]
    actions = [e.action for e in await demo_billing.list_audit(limit=5)]
    assert actions[:3] == ["plan_changed", "plan_change_cancelled", "plan_change_scheduled"]


async def test_a_charge_other_than_the_one_confirmed_changes_nothing(
    demo_billing: SqlBillingClient, sessions: async_sessionmaker[AsyncSession], now: datetime
) -> None:
    account, line = await ids(demo_billing, ALEX)
    with pytest.raises(PriceChangedError):
        await demo_billing.change_plan(
            account,
            line,
            "unlimited-100",
            expected_charge=usd(1355),
            idempotency_key="k",
            actor=ACTOR,
            now=now,
        )
    assert await rows(sessions, PlanChange) == []
    with pytest.raises(InvalidRequestError, match="not offered"):
        await demo_billing.change_plan(
            account,
            line,
            "family-2x40",
            expected_charge=usd(0),
            idempotency_key="k2",
            actor=ACTOR,
            now=now,
        )


async def test_a_key_used_for_another_line_is_a_conflict(
    demo_billing: SqlBillingClient, now: datetime
) -> None:
    account, sam = await ids(demo_billing, SAM)
    _, jordan = await ids(demo_billing, JORDAN)
    kwargs = {"expected_charge": usd(107), "idempotency_key": "same", "actor": ACTOR, "now": now}
    await demo_billing.change_plan(account, sam, "family-2x40", **kwargs)
    with pytest.raises(ConflictError):
        await demo_billing.change_plan(account, jordan, "family-2x40", **kwargs)


async def test_the_same_upgrade_confirmed_twice_at_once_changes_once(
    demo_billing: SqlBillingClient, sessions: async_sessionmaker[AsyncSession], now: datetime
) -> None:
    account, line = await ids(demo_billing, SAM)
    kwargs = {"expected_charge": usd(107), "idempotency_key": "twice", "actor": ACTOR, "now": now}
    results = await asyncio.gather(
        demo_billing.change_plan(account, line, "family-2x40", **kwargs),
        demo_billing.change_plan(account, line, "family-2x40", **kwargs),
    )
    assert sorted(r.created for r in results) == [False, True]
    assert len({r.reference for r in results}) == 1
    assert len(await rows(sessions, PlanChange)) == 1
    assert len(await rows(sessions, Charge, Charge.source_id.like("plan_change:%"))) == 1


async def test_two_conversations_confirming_the_same_upgrade_change_it_once(
    demo_billing: SqlBillingClient, sessions: async_sessionmaker[AsyncSession], now: datetime
) -> None:
    """Two chats (say SMS and WhatsApp) each with its own key: the second finds it done."""
    account, line = await ids(demo_billing, ALEX)
    common = {"expected_charge": usd(1290), "actor": ACTOR, "now": now}
    results = await asyncio.gather(
        demo_billing.change_plan(account, line, "unlimited-100", idempotency_key="sms", **common),
        demo_billing.change_plan(account, line, "unlimited-100", idempotency_key="wa", **common),
    )
    assert sorted(r.created for r in results) == [False, True]
    assert len(await rows(sessions, PlanChange)) == 1
    [charge] = await rows(sessions, Charge, Charge.source_id.like("plan_change:%"))
    assert charge.amount_minor == 1290


async def test_maria_upgrades_from_her_balance_or_is_told_the_shortfall(
    demo_billing: SqlBillingClient, sessions: async_sessionmaker[AsyncSession], now: datetime
) -> None:
    account, line = await ids(demo_billing, MARIA)
    options = await demo_billing.plan_options(account, line, now=now)
    assert (options.cycle_start, options.cycle_end) == (date(2025, 2, 22), date(2025, 3, 23))
    assert options.prepaid_balance == usd(1250)
    lite, up = options.offers
    assert (lite.plan.code, lite.effective_on) == ("prepaid-lite", date(2025, 3, 24))
    # $25 − $15 = $10.00 for 10 of 30 days = 333.33… → $3.33
    assert (up.plan.code, up.days_left, up.days_in_cycle, up.charge) == (
        "prepaid-max",
        10,
        30,
        usd(333),
    )
    result = await demo_billing.change_plan(
        account,
        line,
        "prepaid-max",
        expected_charge=usd(333),
        idempotency_key="m",
        actor=ACTOR,
        now=now,
    )
    assert result.prepaid_balance == usd(1250 - 333)
    [debit] = await rows(sessions, PrepaidTransaction, PrepaidTransaction.kind == "plan_change")
    assert debit.amount_minor == -333


async def test_a_prepaid_upgrade_the_balance_cannot_pay_is_refused_whole(
    demo_billing: SqlBillingClient, sessions: async_sessionmaker[AsyncSession], now: datetime
) -> None:
    account, line = await ids(demo_billing, MARIA)
    async with sessions() as session, session.begin():
        session.add(
            PrepaidTransaction(
                account_id=account,
                kind="usage",
                description="Calls",
                amount_minor=-1000,
                currency="USD",
                at=now,
            )
        )
    with pytest.raises(InsufficientBalanceError) as refused:
        await demo_billing.change_plan(
            account,
            line,
            "prepaid-max",
            expected_charge=usd(333),
            idempotency_key="m",
            actor=ACTOR,
            now=now,
        )
    assert (refused.value.balance, refused.value.shortfall) == (usd(250), usd(83))
    assert await rows(sessions, PlanChange) == []


# --- add-ons ------------------------------------------------------------------------------------
async def test_alex_buys_data_on_his_bill_and_sees_it_in_usage(
    demo_billing: SqlBillingClient, sessions: async_sessionmaker[AsyncSession], now: datetime
) -> None:
    account, line = await ids(demo_billing, ALEX)
    options = await demo_billing.add_on_options(account, line, now=now)
    assert [o.code for o in options.offers] == ["data-1gb", "data-5gb", "roam-day", "roam-week"]
    assert options.cycle_end == date(2025, 4, 2) and options.active == ()
    kwargs = {"expected_price": usd(1500), "idempotency_key": "d5", "actor": ACTOR, "now": now}
    purchase = await demo_billing.buy_add_on(account, line, "data-5gb", **kwargs)
    assert (purchase.created, purchase.paid_from, purchase.price) == (True, "bill", usd(1500))
    assert (purchase.starts_on, purchase.ends_on) == (date(2025, 3, 14), date(2025, 4, 2))
    assert purchase.data_allowance_mb == 55 * 1024
    assert await data_allowance(demo_billing, account, ALEX, now) == 55 * 1024
    replay = await demo_billing.buy_add_on(account, line, "data-5gb", **kwargs)
    assert (replay.created, replay.reference) == (False, purchase.reference)
    [charge] = await rows(sessions, Charge, Charge.source_id.like("add_on:%"))
    assert (charge.kind, charge.amount_minor, charge.description) == (
        "one_off",
        1500,
        "Data 5 GB add-on",
    )
    [active] = (await demo_billing.add_on_options(account, line, now=now)).active
    assert (active.reference, active.kind) == (purchase.reference, "data")


async def test_the_same_add_on_confirmed_twice_at_once_is_charged_once(
    demo_billing: SqlBillingClient, sessions: async_sessionmaker[AsyncSession], now: datetime
) -> None:
    account, line = await ids(demo_billing, JORDAN)
    kwargs = {"expected_price": usd(3500), "idempotency_key": "rw", "actor": ACTOR, "now": now}
    results = await asyncio.gather(
        demo_billing.buy_add_on(account, line, "roam-week", **kwargs),
        demo_billing.buy_add_on(account, line, "roam-week", **kwargs),
    )
    assert sorted(r.created for r in results) == [False, True]
    assert len(await rows(sessions, LineAddOn)) == 1
    assert len(await rows(sessions, Charge, Charge.source_id.like("add_on:%"))) == 1
    assert results[0].ends_on == date(2025, 3, 20)  # 7 days from March 14, inclusive


async def test_maria_pays_from_her_balance_or_hears_what_is_missing(
    demo_billing: SqlBillingClient, sessions: async_sessionmaker[AsyncSession], now: datetime
) -> None:
    account, line = await ids(demo_billing, MARIA)
    with pytest.raises(InsufficientBalanceError) as refused:
        await demo_billing.buy_add_on(
            account,
            line,
            "data-5gb",
            expected_price=usd(1500),
            idempotency_key="a",
            actor=ACTOR,
            now=now,
        )
    assert refused.value.shortfall == usd(250)
    assert await rows(sessions, LineAddOn) == []
    purchase = await demo_billing.buy_add_on(
        account,
        line,
        "data-1gb",
        expected_price=usd(500),
        idempotency_key="b",
        actor=ACTOR,
        now=now,
    )
    assert (purchase.paid_from, purchase.prepaid_balance) == ("balance", usd(750))
    assert purchase.data_allowance_mb == 6 * 1024  # 5 GB bundle + 1 GB
    [debit] = await rows(sessions, PrepaidTransaction, PrepaidTransaction.kind == "add_on")
    assert debit.amount_minor == -500
    assert await rows(sessions, Charge, Charge.source_id.like("add_on:%")) == []


async def test_a_stale_price_or_a_barred_line_buys_nothing(
    demo_billing: SqlBillingClient, now: datetime
) -> None:
    account, line = await ids(demo_billing, ALEX)
    with pytest.raises(PriceChangedError):
        await demo_billing.buy_add_on(
            account,
            line,
            "data-1gb",
            expected_price=usd(400),
            idempotency_key="x",
            actor=ACTOR,
            now=now,
        )
    await demo_billing.bar_line(line, reason="lost", idempotency_key="bar", actor="t", now=now)
    with pytest.raises(InvalidRequestError, match="active line"):
        await demo_billing.buy_add_on(
            account,
            line,
            "data-1gb",
            expected_price=usd(500),
            idempotency_key="y",
            actor=ACTOR,
            now=now,
        )


# --- top-ups and the low-balance level ----------------------------------------------------------
async def test_a_top_up_link_credits_the_balance_once(
    demo_billing: SqlBillingClient, now: datetime
) -> None:
    account, _ = await ids(demo_billing, MARIA)
    link = await demo_billing.create_top_up_link(account, usd(2000), now=now, ttl_seconds=600)
    assert (link.invoice_id, link.top_up, link.amount, link.status) == (
        None,
        True,
        usd(2000),
        "active",
    )
    paid = await demo_billing.pay_link(
        link.id, provider="sandbox", provider_reference="r1", now=now
    )
    assert (paid.created, paid.invoice_id, paid.amount) == (True, None, usd(2000))
    again = await demo_billing.pay_link(
        link.id, provider="sandbox", provider_reference="r1", now=now
    )
    other = await demo_billing.pay_link(
        link.id, provider="sandbox", provider_reference="r2", now=now
    )
    assert (again.created, other.created, other.id) == (False, False, paid.id)
    balance = await demo_billing.get_balance(account, now=now)
    assert balance.prepaid_balance == usd(1250 + 2000)
    assert (await demo_billing.get_payment_link(link.id, now=now)).status == "paid"


@pytest.mark.parametrize(
    ("phone", "minor", "why"),
    [(ALEX, 2000, "prepaid"), (MARIA, 499, "from"), (MARIA, 10001, "from")],
)
async def test_top_ups_are_prepaid_and_within_limits(
    demo_billing: SqlBillingClient, now: datetime, phone: str, minor: int, why: str
) -> None:
    account, _ = await ids(demo_billing, phone)
    with pytest.raises(InvalidRequestError, match=why):
        await demo_billing.create_top_up_link(account, usd(minor), now=now, ttl_seconds=600)


async def test_the_low_balance_level_is_set_and_turned_off_audited(
    demo_billing: SqlBillingClient, now: datetime
) -> None:
    account, _ = await ids(demo_billing, MARIA)
    assert await demo_billing.get_low_balance_alert(account) == usd(500)
    assert await demo_billing.set_low_balance_alert(
        account, usd(1500), actor=ACTOR, now=now
    ) == usd(1500)
    facts = await demo_billing.low_balance_facts(account_ids=[account])
    assert [(f.balance, f.level) for f in facts] == [(usd(1250), usd(1500))]
    assert await demo_billing.set_low_balance_alert(account, None, actor=ACTOR, now=now) is None
    assert await demo_billing.low_balance_facts(account_ids=[account]) == ()
    details = [e.detail for e in await demo_billing.list_audit(limit=2)]
    assert details == ["1500 → off USD", "500 → 1500 USD"]
    alex, _ = await ids(demo_billing, ALEX)
    with pytest.raises(InvalidRequestError, match="prepaid"):
        await demo_billing.set_low_balance_alert(alex, usd(500), actor=ACTOR, now=now)


async def test_the_demo_has_marias_top_up_history_and_the_catalogue(
    demo_billing: SqlBillingClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    account, _ = await ids(demo_billing, MARIA)
    top_ups = await rows(
        sessions,
        PrepaidTransaction,
        PrepaidTransaction.account_id == account,
        PrepaidTransaction.kind == "top_up",
    )
    assert sorted(t.amount_minor for t in top_ups) == [1000, 1500, 2000]
    async with sessions() as session:
        total = await session.scalar(
            select(func.sum(PrepaidTransaction.amount_minor)).where(
                PrepaidTransaction.account_id == account
            )
        )
    assert total == 1250
