"""The demo data is exactly DESIGN.md §6, relative to `now`; generated data is consistent."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import phonenumbers
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from billing_client import Account, Money
from billing_client.demo import DEMO_CUSTOMERS
from billing_client.sql.client import SqlBillingClient
from billing_client.sql.models import (
    Account as AccountRow,
)
from billing_client.sql.models import (
    Invoice,
    InvoiceItem,
    Line,
    Payment,
    PrepaidTransaction,
)
from billing_client.sql.seed import (
    generated_pins,
    seed_demo,
    seed_generated,
    tax_minor,
)


def usd(amount: str) -> Money:
    return Money.from_decimal(amount, "USD")


def local_today(now: datetime, tz: str) -> date:
    return now.astimezone(ZoneInfo(tz)).date()


async def account_of(billing: SqlBillingClient, phone: str) -> Account:
    account = await billing.find_account_by_msisdn(phone)
    assert account is not None, phone
    return account


async def count(sessions: async_sessionmaker[AsyncSession], query: object) -> int:
    async with sessions() as session:
        return int(await session.scalar(query) or 0)  # type: ignore[call-overload]


# --- Alex -------------------------------------------------------------------------------------
async def test_alex_owes_64_20_due_in_ten_days(
    demo_billing: SqlBillingClient, now: datetime
) -> None:
    alex = await account_of(demo_billing, "+12025550101")
    balance = await demo_billing.get_balance(alex.id, now=now)

    assert (alex.name, alex.email, alex.locale, alex.timezone) == (
        "Alex Rivera",
        "alex.rivera@example.com",
        "en_US",
        "America/New_York",
    )
    assert alex.billing_type == "postpaid"
    assert balance.amount_due == usd("64.20")
    assert balance.next_due_on == local_today(now, "America/New_York") + timedelta(days=10)
    assert not balance.overdue
    assert [invoice.status for invoice in balance.open_invoices] == ["open"]
    assert balance.unbilled == usd("4.50")
    assert balance.prepaid_balance is None


async def test_alex_has_two_earlier_paid_invoices(
    demo_billing: SqlBillingClient, now: datetime
) -> None:
    alex = await account_of(demo_billing, "+12025550101")

    invoices = await demo_billing.list_invoices(alex.id, now=now, limit=10)

    assert [invoice.status for invoice in invoices] == ["open", "paid", "paid"]
    assert invoices[0].total == usd("64.20")
    assert all(invoice.amount_due == usd("0") for invoice in invoices[1:])
    assert invoices[1].issued_on < invoices[0].issued_on


async def test_alex_open_invoice_items_and_tax_add_up_to_the_total(
    demo_billing: SqlBillingClient, now: datetime
) -> None:
    alex = await account_of(demo_billing, "+12025550101")
    (latest, *_) = await demo_billing.list_invoices(alex.id, now=now)

    detail = await demo_billing.get_invoice(latest.id, now=now)

    net = sum((item.amount for item in detail.items), usd("0"))
    assert net == detail.summary.subtotal
    assert detail.summary.tax.minor == tax_minor(net.minor, detail.tax_rate)
    assert net + detail.summary.tax == usd("64.20")
    assert detail.items[0].description == "Unlimited 50 monthly plan"
    assert detail.items[0].amount == usd("55.00")
    assert {item.msisdn for item in detail.items} == {"+12025550101"}


async def test_alex_has_used_41_5_of_50_gb_this_cycle(
    demo_billing: SqlBillingClient, now: datetime
) -> None:
    alex = await account_of(demo_billing, "+12025550101")
    (line,) = await demo_billing.list_lines(alex.id)

    data = (await demo_billing.get_usage(alex.id, now=now))[0]

    assert (line.plan_name, line.msisdn, line.status) == ("Unlimited 50", "+12025550101", "active")
    assert (data.kind, data.unit) == ("data", "MB")
    assert data.used / 1024 == 41.5
    assert data.allowance == 50 * 1024
    assert data.cycle_start <= local_today(now, alex.timezone) <= data.cycle_end


# --- Sam --------------------------------------------------------------------------------------
async def test_sam_has_one_overdue_invoice_of_118_45_due_five_days_ago(
    demo_billing: SqlBillingClient, now: datetime
) -> None:
    sam = await account_of(demo_billing, "+12025550102")

    balance = await demo_billing.get_balance(sam.id, now=now)

    assert balance.amount_due == usd("118.45")
    assert balance.overdue
    assert [invoice.status for invoice in balance.open_invoices] == ["overdue"]
    assert balance.next_due_on == local_today(now, "America/Chicago") - timedelta(days=5)
    assert balance.bill_limit == usd("150.00")


async def test_sam_has_two_lines_on_the_family_plan(demo_billing: SqlBillingClient) -> None:
    sam = await account_of(demo_billing, "+12025550102")

    lines = await demo_billing.list_lines(sam.id)

    assert [(line.msisdn, line.holder_name) for line in lines] == [
        ("+12025550102", "Sam Lee"),
        ("+12025550103", "Jordan Lee"),
    ]
    assert {line.plan_name for line in lines} == {"Family 2×20"}
    assert (sam.timezone, sam.email) == ("America/Chicago", "sam.lee@example.com")


async def test_sam_bill_limit_alerts_at_80_percent(
    demo_billing: SqlBillingClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    sam = await account_of(demo_billing, "+12025550102")
    async with sessions() as session:
        row = await session.get(AccountRow, sam.id)
    assert row is not None
    assert (row.bill_limit_minor, row.bill_limit_alert_percent) == (15000, 80)


# --- María ------------------------------------------------------------------------------------
async def test_maria_is_prepaid_with_12_50_and_no_open_invoice(
    demo_billing: SqlBillingClient, now: datetime
) -> None:
    maria = await account_of(demo_billing, "+12025550104")

    balance = await demo_billing.get_balance(maria.id, now=now)

    assert (maria.name, maria.locale, maria.timezone) == ("María García", "es_ES", "Europe/Madrid")
    assert maria.billing_type == "prepaid"
    assert balance.prepaid_balance == usd("12.50")
    assert balance.amount_due == usd("0")
    assert balance.open_invoices == ()
    assert await demo_billing.list_invoices(maria.id, now=now) == []


# --- seeding itself ---------------------------------------------------------------------------
async def test_demo_pins_are_stored_hashed_and_verify(
    demo_billing: SqlBillingClient, sessions: async_sessionmaker[AsyncSession], now: datetime
) -> None:
    for customer in DEMO_CUSTOMERS:
        account = await account_of(demo_billing, customer.phone)
        async with sessions() as session:
            row = await session.get(AccountRow, account.id)
        assert row is not None
        assert row.pin_hash.startswith("$argon2id$")
        assert customer.pin not in row.pin_hash
        await demo_billing.verify_pin(account.id, customer.pin, actor="test", now=now)


async def test_seeding_twice_keeps_one_copy_and_reset_recreates_it(
    sessions: async_sessionmaker[AsyncSession], now: datetime
) -> None:
    billing = SqlBillingClient(sessions)
    assert await seed_demo(sessions, now=now) is True
    alex = await account_of(billing, "+12025550101")
    await billing.record_payment(
        alex.id,
        (await billing.list_invoices(alex.id, now=now))[0].id,
        usd("10.00"),
        provider="test",
        provider_reference="p-1",
        now=now,
    )

    assert await seed_demo(sessions, now=now) is False
    assert await count(sessions, select(func.count()).select_from(AccountRow)) == 3

    assert await seed_demo(sessions, now=now, reset=True) is True
    assert await count(sessions, select(func.count()).select_from(AccountRow)) == 3
    alex = await account_of(billing, "+12025550101")
    assert (await billing.get_balance(alex.id, now=now)).amount_due == usd("64.20")


async def test_demo_dates_follow_the_day_it_runs(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    later = datetime.fromisoformat("2031-11-30T23:45:00+00:00")
    billing = SqlBillingClient(sessions)
    await seed_demo(sessions, now=later)

    alex = await account_of(billing, "+12025550101")
    balance = await billing.get_balance(alex.id, now=later)

    assert balance.next_due_on == local_today(later, "America/New_York") + timedelta(days=10)


# --- generated customers ----------------------------------------------------------------------
async def test_generated_customers_have_valid_unique_numbers(
    sessions: async_sessionmaker[AsyncSession], now: datetime
) -> None:
    await seed_demo(sessions, now=now)
    assert await seed_generated(sessions, 200, now=now, progress=False) == 200

    async with sessions() as session:
        msisdns = list(await session.scalars(select(Line.msisdn)))
        accounts = await session.scalar(select(func.count()).select_from(AccountRow))

    assert accounts == 203
    assert len(msisdns) == len(set(msisdns)) >= 204
    assert all(phonenumbers.is_valid_number(phonenumbers.parse(m)) for m in msisdns)


async def test_generated_invoices_add_up_and_paid_ones_have_payments(
    sessions: async_sessionmaker[AsyncSession], now: datetime
) -> None:
    await seed_generated(sessions, 200, now=now, progress=False)

    async with sessions() as session:
        invoices = list(await session.scalars(select(Invoice)))
        sums = await session.execute(
            select(InvoiceItem.invoice_id, func.sum(InvoiceItem.amount_minor)).group_by(
                InvoiceItem.invoice_id
            )
        )
        item_sums = {invoice_id: total for invoice_id, total in sums}
        paid_ids = set(await session.scalars(select(Payment.invoice_id)))

    assert invoices
    for invoice in invoices:
        assert item_sums[invoice.id] == invoice.subtotal_minor
        assert invoice.tax_minor == tax_minor(invoice.subtotal_minor)
        assert (invoice.status == "paid") == (invoice.id in paid_ids)


async def test_generated_customers_work_through_the_client(
    sessions: async_sessionmaker[AsyncSession], now: datetime
) -> None:
    await seed_generated(sessions, 200, now=now, progress=False)
    billing = SqlBillingClient(sessions)
    async with sessions() as session:
        line = await session.scalar(select(Line).order_by(Line.id.desc()).limit(1))
    assert line is not None

    account = await account_of(billing, line.msisdn)
    pin = generated_pins()[account.id % len(generated_pins())]
    await billing.verify_pin(account.id, pin, actor="test", now=now)
    balance = await billing.get_balance(account.id, now=now)
    assert balance.amount_due.minor >= 0
    assert await billing.get_usage(account.id, now=now)


async def test_generated_prepaid_balances_are_never_negative(
    sessions: async_sessionmaker[AsyncSession], now: datetime
) -> None:
    await seed_generated(sessions, 200, now=now, progress=False)

    async with sessions() as session:
        balances = list(
            await session.scalars(
                select(func.sum(PrepaidTransaction.amount_minor)).group_by(
                    PrepaidTransaction.account_id
                )
            )
        )

    assert balances
    assert min(balances) >= 0


async def test_generating_more_customers_later_adds_to_the_first_batch(
    sessions: async_sessionmaker[AsyncSession], now: datetime
) -> None:
    await seed_generated(sessions, 50, now=now, progress=False)
    await seed_generated(sessions, 50, now=now, rng_seed=7, progress=False)
    await seed_demo(sessions, now=now)  # ids from the database's own sequence still work

    assert await count(sessions, select(func.count()).select_from(AccountRow)) == 103


async def test_seed_generated_refuses_a_non_positive_size(
    sessions: async_sessionmaker[AsyncSession], now: datetime
) -> None:
    with pytest.raises(ValueError, match="positive"):
        await seed_generated(sessions, 0, now=now, progress=False)
