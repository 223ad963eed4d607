"""Importing rated usage into the SQL billing core, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Sequence
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from billing_client import Money, UsageCounter
from billing_client.sql.client import SqlBillingClient
from billing_client.sql.database import create_engine, session_factory
from billing_client.sql.models import (
    AuditLog,
    Charge,
    Line,
    PrepaidTransaction,
    UsageRecord,
)
from billing_client.sql.models import UsageCounter as CounterRow
from billing_client.sql.seed import seed_generated
from billing_client.sql.usage_import import import_usage_file
from billing_client.usage_csv import COLUMNS, UsageImportReport, parse_usage_csv
from bot.bootstrap import import_usage
from bot.clock import FakeClock
from bot.settings import Settings

ALEX, SAM, MARIA = "+12025550101", "+12025550102", "+12025550104"
UNKNOWN = "+12025550199"
Sessions = async_sessionmaker[AsyncSession]


def csv_lines(*rows: str) -> list[str]:
    return [",".join(COLUMNS), *rows]


def iso(at: datetime) -> str:
    return at.isoformat()


async def run(
    sessions: Sessions, now: datetime, *rows: str, dry_run: bool = False
) -> UsageImportReport:
    usage = parse_usage_csv(csv_lines(*rows))
    return await import_usage_file(sessions, usage, now=now, dry_run=dry_run)


async def account_id(billing: SqlBillingClient, phone: str) -> int:
    account = await billing.find_account_by_msisdn(phone)
    assert account is not None
    return account.id


async def counter(billing: SqlBillingClient, phone: str, kind: str, now: datetime) -> UsageCounter:
    usage = await billing.get_usage(await account_id(billing, phone), now=now)
    (found,) = [c for c in usage if c.line_msisdn == phone and c.kind == kind]
    return found


async def count(sessions: Sessions, model: type[Any]) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def snapshot(sessions: Sessions) -> dict[str, list[tuple[Any, ...]]]:
    """Every row an import may write, for "nothing changed" checks."""
    tables: dict[str, Sequence[Any]] = {
        "counters": (CounterRow.id, CounterRow.used, CounterRow.cycle_start),
        "charges": (Charge.id, Charge.amount_minor, Charge.source_id),
        "prepaid": (PrepaidTransaction.id, PrepaidTransaction.amount_minor),
        "records": (UsageRecord.id, UsageRecord.source_id),
        "audit": (AuditLog.id,),
    }
    async with sessions() as session:
        return {
            name: [
                tuple(row) for row in await session.execute(select(*columns).order_by(columns[0]))
            ]
            for name, columns in tables.items()
        }


# --- applying ---------------------------------------------------------------------------------
async def test_alex_data_counter_grows_and_his_roaming_charge_is_unbilled(
    demo_billing: SqlBillingClient, sessions: Sessions, now: datetime
) -> None:
    alex = await account_id(demo_billing, ALEX)
    before = await counter(demo_billing, ALEX, "data", now)
    unbilled = (await demo_billing.get_balance(alex, now=now)).unbilled
    at = iso(now - timedelta(hours=3))

    report = await run(
        sessions, now, f"{ALEX},{at},data,250,MB,", f"{ALEX},{at},roaming_data,1.5,GB,7.50"
    )

    assert (report.imported, report.lines, report.data_mb) == (2, 1, 250 + 1536)
    assert report.charges == (Money(750, "USD"),)
    after = await counter(demo_billing, ALEX, "data", now)
    assert after.used == before.used + 250 + 1536
    assert (after.cycle_start, after.allowance) == (before.cycle_start, before.allowance)
    balance = await demo_billing.get_balance(alex, now=now)
    assert balance.unbilled == unbilled + Money(750, "USD")
    async with sessions() as session:
        charge = await session.scalar(select(Charge).where(Charge.source_id.is_not(None)))
    assert charge is not None
    assert (charge.kind, charge.description, charge.unit) == (
        "roaming",
        "Roaming data 1.5 GB",
        "GB",
    )
    assert (charge.amount_minor, charge.currency, charge.invoice_id) == (750, "USD", None)


async def test_maria_prepaid_is_debited_and_gets_no_charge(
    demo_billing: SqlBillingClient, sessions: Sessions, now: datetime
) -> None:
    maria = await account_id(demo_billing, MARIA)
    before = await counter(demo_billing, MARIA, "voice", now)
    at = iso(now - timedelta(hours=1))

    report = await run(sessions, now, f"{MARIA},{at},voice,12.5,min,1.25")

    assert report.voice_min == 13  # started minutes
    balance = await demo_billing.get_balance(maria, now=now)
    assert balance.prepaid_balance == Money(1125, "USD")  # 12.50 − 1.25
    assert balance.unbilled == Money(0, "USD")
    assert (await counter(demo_billing, MARIA, "voice", now)).used == before.used + 13
    async with sessions() as session:
        debit = await session.scalar(
            select(PrepaidTransaction).order_by(PrepaidTransaction.id.desc()).limit(1)
        )
    assert debit is not None
    assert (debit.kind, debit.description, debit.amount_minor) == ("usage", "Voice 12.5 min", -125)
    assert debit.idempotency_key is not None and debit.idempotency_key.startswith("usage:")


async def test_a_row_without_a_charge_counts_usage_only(
    demo_billing: SqlBillingClient, sessions: Sessions, now: datetime
) -> None:
    charges = await count(sessions, Charge)
    await run(sessions, now, f"{SAM},{iso(now)},sms,3,msg,", f"{SAM},{iso(now)},sms,4,msg,0.00")

    assert await count(sessions, Charge) == charges
    assert await count(sessions, UsageRecord) == 2
    assert (await counter(demo_billing, SAM, "sms", now)).used == 230 + 7


# --- idempotency ------------------------------------------------------------------------------
async def test_reimporting_the_same_file_changes_nothing(
    demo_billing: SqlBillingClient, sessions: Sessions, now: datetime
) -> None:
    at = now - timedelta(hours=2)
    rows = (f"{ALEX},{iso(at)},data,100,MB,0.50", f"{MARIA},{iso(at)},voice,3,min,0.30")
    await run(sessions, now, *rows)
    state = await snapshot(sessions)
    # The same records, spelt differently (another offset, trailing zeros).
    respelt = at.astimezone().isoformat()
    again = (f"{ALEX},{respelt},data,100.0,MB,0.5", f"{MARIA},{respelt},voice,3,min,0.300")

    report = await run(sessions, now, *again)

    assert (report.rows, report.imported, report.already_imported) == (2, 0, 2)
    assert (report.data_mb, report.charges) == (0, ())
    assert await snapshot(sessions) == state


async def test_a_row_twice_in_one_file_counts_once(
    demo_billing: SqlBillingClient, sessions: Sessions, now: datetime
) -> None:
    before = await counter(demo_billing, ALEX, "data", now)
    row = f"{ALEX},{iso(now)},data,10,MB,0.10"

    report = await run(sessions, now, row, row)

    assert (report.rows, report.imported, report.already_imported) == (2, 1, 1)
    assert (await counter(demo_billing, ALEX, "data", now)).used == before.used + 10


async def test_two_imports_of_one_file_at_once_count_it_once(
    demo_billing: SqlBillingClient, db_url: str, now: datetime
) -> None:
    before = await counter(demo_billing, ALEX, "data", now)
    rows = [f"{ALEX},{iso(now - timedelta(minutes=i))},data,1,MB,0.01" for i in range(200)]
    engines = [create_engine(db_url) for _ in range(2)]
    try:
        reports = await asyncio.gather(
            *(run(session_factory(engine), now, *rows) for engine in engines)
        )
    finally:
        for engine in engines:
            await engine.dispose()

    assert sorted(report.imported for report in reports) == [0, 200]
    assert (await counter(demo_billing, ALEX, "data", now)).used == before.used + 200


# --- bad files --------------------------------------------------------------------------------
async def test_a_file_with_one_bad_row_changes_nothing(
    demo_billing: SqlBillingClient, sessions: Sessions, now: datetime
) -> None:
    state = await snapshot(sessions)
    at = iso(now)

    report = await run(
        sessions,
        now,
        f"{ALEX},{at},data,100,MB,0.50",
        f"{UNKNOWN},{at},data,100,MB,0.50",
        f"{MARIA},{at},voice,3,min,0.30",
    )

    assert [str(problem) for problem in report.problems] == [f"line 3: unknown number {UNKNOWN}"]
    assert report.imported == 0
    assert await snapshot(sessions) == state


async def test_problems_of_the_file_and_of_the_database_are_reported_together(
    demo_billing: SqlBillingClient, sessions: Sessions, now: datetime
) -> None:
    report = await run(
        sessions,
        now,
        f"{ALEX},{iso(now)},data,100,MB,0.505",
        f"{ALEX},{iso(now)},video,100,MB,",
        f"{ALEX},{iso(now + timedelta(days=2))},data,1,MB,",
        f"{UNKNOWN},{iso(now)},data,1,MB,",
    )

    assert [str(problem) for problem in report.problems] == [
        "line 2: charge 0.505 has more decimals than USD allows",
        "line 3: bad kind 'video' (data, voice, sms or roaming_data)",
        f"line 4: date {now + timedelta(days=2):%Y-%m-%d %H:%M} UTC is in the future",
        f"line 5: unknown number {UNKNOWN}",
    ]
    assert await count(sessions, UsageRecord) == 0


async def test_a_dry_run_reports_and_writes_nothing(
    demo_billing: SqlBillingClient, sessions: Sessions, now: datetime
) -> None:
    await run(sessions, now, f"{ALEX},{iso(now)},data,1,MB,")
    state = await snapshot(sessions)

    report = await run(
        sessions,
        now,
        f"{ALEX},{iso(now)},data,1,MB,",
        f"{SAM},{iso(now)},voice,10,min,1.00",
        f"{MARIA},{iso(now)},sms,2,msg,0.20",
        dry_run=True,
    )

    assert report.dry_run
    assert (report.rows, report.imported, report.lines) == (3, 2, 2)
    assert (report.voice_min, report.sms, report.charges) == (10, 2, (Money(120, "USD"),))
    assert await snapshot(sessions) == state


# --- cycles -----------------------------------------------------------------------------------
async def test_a_row_for_an_earlier_cycle_creates_its_counter(
    demo_billing: SqlBillingClient, sessions: Sessions, now: datetime
) -> None:
    # Alex's cycles start on the 3rd (the demo's current one: 2025-03-03 to 2025-04-02).
    rows = (
        f"{ALEX},2025-01-20T12:00:00+00:00,data,2,GB,",
        f"{ALEX},2025-02-02T23:30:00-05:00,data,5,MB,",  # still 2 Feb in New York
        f"{ALEX},2025-01-20T12:00:00+00:00,voice,3,min,",
    )
    await run(sessions, now, *rows)

    async with sessions() as session:
        created = (
            await session.scalars(
                select(CounterRow)
                .join(Line)
                .where(Line.msisdn == ALEX, CounterRow.cycle_start == date(2025, 1, 3))
                .order_by(CounterRow.kind)
            )
        ).all()
    assert [(c.kind, c.unit, c.used, c.allowance, c.cycle_end) for c in created] == [
        ("data", "MB", 2048 + 5, 50 * 1024, date(2025, 2, 2)),
        ("voice", "min", 3, None, date(2025, 2, 2)),
    ]
    assert (await counter(demo_billing, ALEX, "data", now)).used == int(41.5 * 1024)


async def test_a_new_cycle_stops_where_an_existing_counter_begins_or_ends(
    demo_billing: SqlBillingClient, sessions: Sessions, now: datetime
) -> None:
    # María's 30-day bundle counter runs 2025-02-22 to 2025-03-23; her bill cycle day is 22.
    later = now + timedelta(days=15)
    await run(sessions, later, f"{MARIA},2025-03-25T12:00:00+00:00,data,7,MB,")

    async with sessions() as session:
        cycles = (
            await session.execute(
                select(CounterRow.cycle_start, CounterRow.cycle_end, CounterRow.used)
                .join(Line)
                .where(Line.msisdn == MARIA, CounterRow.kind == "data")
                .order_by(CounterRow.cycle_start)
            )
        ).all()
    assert [tuple(cycle) for cycle in cycles] == [
        (date(2025, 2, 22), date(2025, 3, 23), 1229),
        (date(2025, 3, 24), date(2025, 4, 21), 7),
    ]


# --- the composition root ---------------------------------------------------------------------
async def test_bootstrap_imports_with_its_clock(demo_db_url: str, now: datetime) -> None:
    settings = Settings(database_url=demo_db_url)
    usage = parse_usage_csv(csv_lines(f"{ALEX},{iso(now - timedelta(minutes=5))},data,1,GB,"))

    checked = await import_usage(settings, usage, dry_run=True, clock=FakeClock(now))
    applied = await import_usage(settings, usage, dry_run=False, clock=FakeClock(now))
    again = await import_usage(settings, usage, dry_run=False, clock=FakeClock(now))

    assert (checked.imported, applied.imported, again.imported) == (1, 1, 0)
    # The clock decides what "in the future" is.
    early = await import_usage(
        settings, usage, dry_run=True, clock=FakeClock(now - timedelta(days=1))
    )
    assert "is in the future" in early.problems[0].reason


# --- many rows (SQLite only: it is about bulk statements, not the backend) --------------------
@pytest.fixture
async def many_lines(
    demo_sqlite_url: str, now: datetime
) -> AsyncIterator[tuple[Sessions, list[str]]]:
    engine = create_engine(demo_sqlite_url)
    try:
        sessions = session_factory(engine)
        await seed_generated(sessions, 300, now=now, progress=False)
        async with sessions() as session:
            msisdns = list(await session.scalars(select(Line.msisdn)))
        yield sessions, msisdns
    finally:
        await engine.dispose()


async def test_a_hundred_thousand_rows_import_in_one_go(
    many_lines: tuple[Sessions, list[str]], now: datetime
) -> None:
    sessions, msisdns = many_lines
    rng = random.Random(7)
    kinds = (("data", "MB", "{q}"), ("voice", "min", "{q}"), ("sms", "msg", "1"))
    rows = []
    for n in range(100_000):
        kind, unit, quantity = kinds[n % 3]
        at = now - timedelta(seconds=n * 7)  # about 8 days back: two cycles for some lines
        charge = f"{rng.randint(1, 99) / 100:.2f}" if n % 4 == 0 else ""
        amount = quantity.format(q=n % 50 + 1)
        rows.append(f"{rng.choice(msisdns)},{iso(at)},{kind},{amount},{unit},{charge}")
    async with sessions() as session:
        used_before = await session.scalar(select(func.sum(CounterRow.used)))

    report = await run(sessions, now, *rows)

    assert report.problems == ()
    assert (report.rows, report.imported) == (100_000, 100_000)
    assert report.lines == len(msisdns)
    assert await count(sessions, UsageRecord) == 100_000
    async with sessions() as session:
        added = await session.scalar(select(func.sum(CounterRow.used))) - used_before
        recorded = await session.scalar(select(func.sum(UsageRecord.quantity)))
        charged = await session.scalar(
            select(func.sum(Charge.amount_minor)).where(Charge.source_id.is_not(None))
        )
        debited = await session.scalar(
            select(func.sum(PrepaidTransaction.amount_minor)).where(
                PrepaidTransaction.idempotency_key.like("usage:%")
            )
        )
    assert added == recorded == report.data_mb + report.voice_min + report.sms
    assert report.charges == (Money(charged - debited, "USD"),)
