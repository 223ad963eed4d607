"""Demo data (DESIGN.md §6, a contract) and generated customers for benchmarks.

Every date is relative to `now` in the customer's own time zone, so "due in 10 days" stays true
whenever the seed runs. Invoices are built from their items at a 7 % tax rate rounded half up,
so items + tax always add up to the printed total.
"""

from __future__ import annotations

import asyncio
import random
import unicodedata
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

import phonenumbers
from sqlalchemy import delete, func, insert, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from tqdm import tqdm

from billing_client.demo import DEMO_CUSTOMERS
from billing_client.sql.client import hash_pin
from billing_client.sql.database import WRITE_INTENT
from billing_client.sql.field_seed import seed_field_service
from billing_client.sql.models import (
    Account,
    Base,
    Charge,
    ContactAddress,
    Invoice,
    InvoiceItem,
    Line,
    Payment,
    Plan,
    PrepaidTransaction,
    UsageCounter,
)
from billing_client.sql.plan_seed import ensure_add_ons

TAX_RATE = Decimal("0.0700")
MB_PER_GB = 1024  # usage is counted in MB; 41.5 GB = 42 496 MB
PAYMENT_TERMS = timedelta(days=21)
ONE = Decimal(1)


@dataclass(frozen=True, slots=True)
class PlanSpec:
    code: str
    name: str
    billing_type: str
    monthly_price_minor: int
    data_mb: int | None
    voice_min: int | None
    sms: int | None
    lines_included: int = 1


PLANS: tuple[PlanSpec, ...] = (
    PlanSpec("unlimited-50", "Unlimited 50", "postpaid", 5500, 50 * MB_PER_GB, None, None),
    PlanSpec("family-2x20", "Family 2×20", "postpaid", 9000, 20 * MB_PER_GB, None, None, 2),
    PlanSpec("prepaid-flex", "Prepaid Flex", "prepaid", 1500, 5 * MB_PER_GB, 200, None),
    PlanSpec("essentials-10", "Essentials 10", "postpaid", 3500, 10 * MB_PER_GB, 1000, None),
    PlanSpec("unlimited-100", "Unlimited 100", "postpaid", 7500, 100 * MB_PER_GB, None, None),
    # To change to (plans.py): Sam's family tiers, María's prepaid bundles (0014).
    PlanSpec("family-2x40", "Family 2×40", "postpaid", 12000, 40 * MB_PER_GB, None, None, 2),
    PlanSpec("family-2x10", "Family 2×10", "postpaid", 7000, 10 * MB_PER_GB, None, None, 2),
    PlanSpec("prepaid-max", "Prepaid Max", "prepaid", 2500, 15 * MB_PER_GB, 500, None),
    PlanSpec("prepaid-lite", "Prepaid Lite", "prepaid", 1000, 2 * MB_PER_GB, 100, None),
)


# --- shared helpers ---------------------------------------------------------------------------
def add_months(day: date, months: int) -> date:
    """The same day `months` later (or earlier), clamped to the end of shorter months."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    for candidate in (day.day, 30, 29, 28):
        try:
            return date(year, month + 1, candidate)
        except ValueError:
            continue
    raise AssertionError("unreachable: every month has 28 days")


def tax_minor(subtotal_minor: int, rate: Decimal = TAX_RATE) -> int:
    """Tax on a subtotal, rounded half up to the minor unit."""
    return int((Decimal(subtotal_minor) * rate).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def iccid(serial: int) -> str:
    """A 19-digit ICCID (89 = telecom, 01 = US) with its Luhn check digit."""
    body = f"8901555{serial:011d}"
    return body + str(_luhn_digit(body))


def _luhn_digit(digits: str) -> int:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char) * (2 if position % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return (10 - total % 10) % 10


def _local_today(now: datetime, timezone: str) -> date:
    return now.astimezone(ZoneInfo(timezone)).date()


def _at_local(day: date, timezone: str, hour: int = 12) -> datetime:
    """Midday (by default) of a local calendar day, as aware UTC."""
    return datetime.combine(day, time(hour), ZoneInfo(timezone)).astimezone(UTC)


async def ensure_plans(session: AsyncSession) -> dict[str, Plan]:
    """The plan catalogue by code, inserting the plans that are missing."""
    existing = {plan.code: plan for plan in await session.scalars(select(Plan))}
    for spec in PLANS:
        if spec.code not in existing:
            plan = Plan(currency="USD", **asdict(spec))
            session.add(plan)
            existing[spec.code] = plan
    await session.flush()
    return existing


# --- demo customers ---------------------------------------------------------------------------
DEMO_PHONES = (*(customer.phone for customer in DEMO_CUSTOMERS), "+12025550103")  # + Jordan
DEMO_EMAILS = ("alex.rivera@example.com", "sam.lee@example.com", "maria.garcia@example.com")


async def seed_demo(
    sessions: async_sessionmaker[AsyncSession], *, now: datetime, reset: bool = False
) -> bool:
    """Create the §6 demo customers; False (and nothing written) if they exist and not reset."""
    # Hash before taking the write lock: argon2 takes ~90 ms a PIN.
    hashes = dict(await asyncio.to_thread(_demo_pin_hashes))
    async with sessions() as session, session.begin():
        await session.connection(execution_options=WRITE_INTENT)
        demo_ids = await _demo_account_ids(session)
        if demo_ids and not reset:
            return False
        await session.execute(delete(Account).where(Account.id.in_(demo_ids)))
        plans = await ensure_plans(session)
        await ensure_add_ons(session)  # data and roaming add-ons (plan_seed.py)
        for build in (_seed_alex, _seed_sam, _seed_maria):
            await build(session, plans, hashes, now)
        await seed_field_service(session, now)  # addresses, an outage, technician slots
    return True


@cache
def _demo_pin_hashes() -> tuple[tuple[str, str], ...]:
    """(phone, argon2 hash) of each demo PIN, hashed once per process (reseeding is common)."""
    return tuple((customer.phone, hash_pin(customer.pin)) for customer in DEMO_CUSTOMERS)


async def _demo_account_ids(session: AsyncSession) -> list[int]:
    by_line = select(Line.account_id).where(Line.msisdn.in_(DEMO_PHONES))
    query = select(Account.id).where(or_(Account.email.in_(DEMO_EMAILS), Account.id.in_(by_line)))
    return list(await session.scalars(query))


def _demo_account(name: str, email: str, locale: str, tz: str, kind: str, **extra: Any) -> Account:
    return Account(
        name=name,
        email=email,
        locale=locale,
        timezone=tz,
        currency="USD",
        billing_type=kind,
        failed_pin_attempts=0,
        **extra,
    )


async def _add_account(session: AsyncSession, account: Account, phone: str, now: datetime) -> None:
    account.created_at = now - timedelta(days=400)
    session.add(account)
    await session.flush()
    for channel, address in (("sms", phone), ("whatsapp", phone), ("email", account.email)):
        session.add(ContactAddress(account_id=account.id, channel=channel, address=address))


async def _add_line(
    session: AsyncSession, account: Account, plan: Plan, msisdn: str, holder: str
) -> Line:
    line = Line(
        account_id=account.id,
        msisdn=msisdn,
        iccid=iccid(int(msisdn[-4:])),
        plan_id=plan.id,
        holder_name=holder,
        status="active",
        activated_at=account.created_at,
    )
    session.add(line)
    await session.flush()
    return line


def _add_usage(
    session: AsyncSession, line: Line, plan: Plan, cycle: tuple[date, date], used: Sequence[int]
) -> None:
    """Data (MB), voice (min) and SMS counters of one line for one cycle."""
    kinds = (
        ("data", "MB", plan.data_mb),
        ("voice", "min", plan.voice_min),
        ("sms", "sms", plan.sms),
    )
    for (kind, unit, allowance), amount in zip(kinds, used, strict=True):
        session.add(
            UsageCounter(
                line_id=line.id,
                kind=kind,
                unit=unit,
                used=amount,
                allowance=allowance,
                cycle_start=cycle[0],
                cycle_end=cycle[1],
            )
        )


_DemoItem = tuple[Line, str, str, Decimal, int]  # line, kind, description, quantity, net minor


@dataclass(slots=True)
class _DemoInvoice:
    issued_on: date
    items: list[_DemoItem]
    paid: bool


def _fee(line: Line, plan: Plan) -> _DemoItem:
    return (line, "recurring", f"{plan.name} monthly plan", Decimal(1), plan.monthly_price_minor)


async def _add_invoice(session: AsyncSession, account: Account, spec: _DemoInvoice) -> Invoice:
    subtotal = sum(amount for *_, amount in spec.items)
    tax = tax_minor(subtotal)
    invoice = Invoice(
        account_id=account.id,
        number=f"INV-{spec.issued_on:%Y%m}-{account.id:06d}",
        status="paid" if spec.paid else "open",
        issued_on=spec.issued_on,
        due_on=spec.issued_on + PAYMENT_TERMS,
        period_start=add_months(spec.issued_on, -1),
        period_end=spec.issued_on - timedelta(days=1),
        currency=account.currency,
        subtotal_minor=subtotal,
        tax_minor=tax,
        total_minor=subtotal + tax,
        amount_paid_minor=subtotal + tax if spec.paid else 0,
        tax_rate=TAX_RATE,
    )
    session.add(invoice)
    await session.flush()
    for position, item in enumerate(spec.items, start=1):
        session.add(_demo_item(invoice, position, item))
    if spec.paid:
        _pay_demo_invoice(session, account, invoice)
    return invoice


def _demo_item(invoice: Invoice, position: int, item: _DemoItem) -> InvoiceItem:
    line, kind, description, quantity, amount = item
    return InvoiceItem(
        invoice_id=invoice.id,
        line_id=line.id,
        position=position,
        kind=kind,
        description=description,
        quantity=quantity,
        amount_minor=amount,
    )


def _pay_demo_invoice(session: AsyncSession, account: Account, invoice: Invoice) -> None:
    paid_at = _at_local(invoice.due_on - timedelta(days=3), account.timezone)
    invoice.paid_at = paid_at
    session.add(
        Payment(
            account_id=account.id,
            invoice_id=invoice.id,
            amount_minor=invoice.total_minor,
            currency=invoice.currency,
            provider="demo",
            provider_reference=f"demo-{invoice.number}",
            received_at=paid_at,
        )
    )


def _unbilled(
    line: Line, kind: str, description: str, usage: str, minor: int, at: datetime
) -> Charge:
    """A rated, not yet invoiced charge; `usage` is quantity and unit, e.g. "30 min"."""
    quantity, unit = usage.split()
    return Charge(
        account_id=line.account_id,
        line_id=line.id,
        kind=kind,
        description=f"{description} ({usage})",
        quantity=Decimal(quantity),
        unit=unit,
        amount_minor=minor,
        currency="USD",
        rated_at=at,
    )


async def _seed_alex(
    session: AsyncSession, plans: dict[str, Plan], hashes: dict[str, str], now: datetime
) -> None:
    """Postpaid, open $64.20 due in 10 days, two paid bills, 41.5 GB of 50 used, $4.50 unbilled."""
    tz, phone = "America/New_York", "+12025550101"
    today = _local_today(now, tz)
    cycle_start = today - timedelta(days=11)  # the open bill was issued when this cycle began
    account = _demo_account(
        "Alex Rivera", DEMO_EMAILS[0], "en_US", tz, "postpaid", pin_hash=hashes[phone]
    )
    account.bill_cycle_day = cycle_start.day
    await _add_account(session, account, phone, now)
    plan = plans["unlimited-50"]
    line = await _add_line(session, account, plan, phone, "Alex Rivera")
    fee = _fee(line, plan)
    calls: _DemoItem = (line, "international", "International calls", Decimal(38), 500)
    assistance: _DemoItem = (line, "usage", "Directory assistance", Decimal(2), 200)
    bills = (
        _DemoInvoice(add_months(cycle_start, -2), [fee], paid=True),  # 55.00 + 3.85 = 58.85
        _DemoInvoice(add_months(cycle_start, -1), [fee, assistance], paid=True),  # 57 + 3.99
        # 60.00 + 4.20 = 64.20, due cycle_start + 21 days = today + 10
        _DemoInvoice(cycle_start, [fee, calls], paid=False),
    )
    for bill in bills:
        await _add_invoice(session, account, bill)
    _add_usage(session, line, plan, _cycle(cycle_start), (int(41.5 * MB_PER_GB), 312, 87))
    at = now - timedelta(days=2)
    session.add(_unbilled(line, "international", "Calls to Mexico", "30 min", 450, at))


async def _seed_sam(
    session: AsyncSession, plans: dict[str, Plan], hashes: dict[str, str], now: datetime
) -> None:
    """Postpaid family plan, two lines, $118.45 overdue by 5 days, $150 limit alerting at 80 %."""
    tz, phone = "America/Chicago", "+12025550102"
    today = _local_today(now, tz)
    cycle_start = today - timedelta(days=26)  # issued 26 days ago, due 21 days later
    account = _demo_account(
        "Sam Lee",
        DEMO_EMAILS[1],
        "en_US",
        tz,
        "postpaid",
        pin_hash=hashes[phone],
        bill_limit_minor=15000,
        bill_limit_alert_percent=80,
    )
    account.bill_cycle_day = cycle_start.day
    await _add_account(session, account, phone, now)
    plan = plans["family-2x20"]
    sam = await _add_line(session, account, plan, phone, "Sam Lee")
    jordan = await _add_line(session, account, plan, "+12025550103", "Jordan Lee")
    fee = _fee(sam, plan)
    roaming: _DemoItem = (jordan, "roaming", "Roaming data, Canada (GB)", Decimal("1.5"), 1500)
    calls: _DemoItem = (sam, "international", "International calls", Decimal(57), 570)
    bills = (
        _DemoInvoice(add_months(cycle_start, -1), [fee], paid=True),  # 90.00 + 6.30 = 96.30
        # 110.70 + 7.75 = 118.45, due cycle_start + 21 days = today - 5
        _DemoInvoice(cycle_start, [fee, roaming, calls], paid=False),
    )
    for bill in bills:
        await _add_invoice(session, account, bill)
    cycle = _cycle(cycle_start)
    _add_usage(session, sam, plan, cycle, (12595, 410, 230))  # 12.3 GB of 20
    _add_usage(session, jordan, plan, cycle, (19046, 95, 1204))  # 18.6 GB of 20
    at = now - timedelta(days=1)
    session.add(_unbilled(jordan, "roaming", "Roaming data, Canada", "300 MB", 600, at))


async def _seed_maria(
    session: AsyncSession, plans: dict[str, Plan], hashes: dict[str, str], now: datetime
) -> None:
    """Prepaid in Spanish, $12.50 on the ledger, no invoices, told when under $5."""
    tz, phone = "Europe/Madrid", "+12025550104"
    today = _local_today(now, tz)
    bundle_start = today - timedelta(days=20)
    account = _demo_account(
        "María García",
        DEMO_EMAILS[2],
        "es_ES",
        tz,
        "prepaid",
        pin_hash=hashes[phone],
        low_balance_alert_minor=500,
    )
    account.bill_cycle_day = bundle_start.day
    await _add_account(session, account, phone, now)
    plan = plans["prepaid-flex"]
    line = await _add_line(session, account, plan, phone, "María García")
    started = _at_local(bundle_start, tz)
    before = _at_local(bundle_start - timedelta(days=30), tz)  # her top-up history (0014)
    ledger = (  # 15.00 − 15.00 + 20.00 − 15.00 + 10.00 − 2.50 = 12.50
        ("top_up", "Top-up", 1500, before),
        ("bundle", "Prepaid Flex 30-day bundle", -1500, before),
        ("top_up", "Top-up", 2000, started),
        ("bundle", "Prepaid Flex 30-day bundle", -1500, started),
        ("top_up", "Top-up", 1000, now - timedelta(days=6)),
        ("usage", "International call to Mexico (5 min)", -250, now - timedelta(days=3)),
    )
    for kind, description, minor, at in ledger:
        session.add(
            PrepaidTransaction(
                account_id=account.id,
                kind=kind,
                description=description,
                amount_minor=minor,
                currency="USD",
                at=at,
            )
        )
    cycle = (bundle_start, bundle_start + timedelta(days=29))
    _add_usage(session, line, plan, cycle, (1229, 45, 12))  # 1.2 GB of 5


def _cycle(start: date) -> tuple[date, date]:
    """A monthly cycle starting on `start`; the end is inclusive."""
    return start, add_months(start, 1) - timedelta(days=1)


# --- generated customers ----------------------------------------------------------------------
INSERT_BATCH = 5_000
CUSTOMERS_PER_TRANSACTION = 5_000
PIN_POOL_SIZE = 4  # hashing is ~90 ms a PIN; benchmarks need realistic rows, not PINs
_FIRST_NAMES = (  # noqa: SIM905 (a word list reads better as one string)
    "James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara "
    "Richard Susan Joseph Jessica Thomas Sarah Charles Karen Daniel Nancy Matthew Lisa "
    "Anthony Betty Mark Sandra Aisha Wei Mohammed Priya Olga Kenji José María Lucía Andrés "
    "Sofía Zoë"
).split()
_LAST_NAMES = (  # noqa: SIM905 (a word list reads better as one string)
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez "
    "Lopez Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson "
    "White Harris Clark Lewis Robinson Walker Young Allen King Wright Nguyen Kim Patel Chen "
    "Müller Núñez Ortiz"
).split()
_LOCALES = (  # locale, time zone, weight
    ("en_US", "America/New_York", 35),
    ("en_US", "America/Chicago", 20),
    ("en_US", "America/Denver", 8),
    ("en_US", "America/Los_Angeles", 20),
    ("en_US", "America/Phoenix", 4),
    ("es_US", "America/Los_Angeles", 8),
    ("es_ES", "Europe/Madrid", 5),
)
_PLAN_WEIGHTS = (  # code, weight
    ("prepaid-flex", 25),
    ("essentials-10", 26),
    ("unlimited-50", 26),
    ("unlimited-100", 11),
    ("family-2x20", 12),
)
_TABLES = tuple(  # insertion order: parents first
    Base.metadata.tables[model.__tablename__]
    for model in (
        Account,
        ContactAddress,
        Line,
        UsageCounter,
        Invoice,
        InvoiceItem,
        Payment,
        Charge,
        PrepaidTransaction,
    )
)
_ItemRow = tuple[int, str, str, Decimal, int]  # line id, kind, description, quantity, net minor


def generated_pins(rng_seed: int = 42) -> tuple[str, ...]:
    """The PIN pool of generated customers: account N has PIN `pins[N % len(pins)]`."""
    rng = random.Random(f"pins-{rng_seed}")
    return tuple(f"{rng.randrange(10_000):04d}" for _ in range(PIN_POOL_SIZE))


@cache
def _area_codes() -> tuple[int, ...]:
    """US area codes whose 555 numbers phonenumbers accepts, except the demo's 202."""
    return tuple(
        npa
        for npa in range(201, 1000)
        if npa != 202 and phonenumbers.is_valid_number(phonenumbers.parse(f"+1{npa}5550100"))
    )


def generated_msisdn(serial: int) -> str:
    """A valid E.164 number in a US 555 exchange, unique per serial (about 4.5 million).

    555 numbers are reserved or unassigned in the NANP, so a generated customer is never a
    real person; 555-1212 (directory assistance) is skipped.
    """
    codes = _area_codes()
    block, subscriber = divmod(serial, 9_999)
    subscriber += subscriber >= 1212
    return f"+1{codes[block % len(codes)]}555{subscriber:04d}"


@dataclass(slots=True)
class _Rows:
    """One transaction's rows by table; ids are handed out here, so no RETURNING is needed."""

    next_id: dict[str, int]
    by_table: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))

    def add(self, table: str, **values: Any) -> int:
        row_id = self.next_id[table]
        self.next_id[table] = row_id + 1
        self.by_table[table].append({"id": row_id, **values})
        return row_id


@dataclass(frozen=True, slots=True)
class _Context:
    now: datetime
    plans: dict[str, Plan]
    pin_hashes: tuple[str, ...]
    today: dict[str, date]  # by time zone


@dataclass(frozen=True, slots=True)
class _Profile:
    """Who one generated customer is, before any row is written."""

    first: str
    last: str
    locale: str
    tz: str
    plan: Plan
    cycle_day: int

    @property
    def name(self) -> str:
        return f"{self.first} {self.last}"

    @property
    def prepaid(self) -> bool:
        return self.plan.billing_type == "prepaid"


async def seed_generated(
    sessions: async_sessionmaker[AsyncSession],
    size: int,
    *,
    now: datetime,
    rng_seed: int = 42,
    progress: bool = True,
) -> int:
    """Add `size` realistic customers with bulk Core inserts; returns how many were added.

    Deterministic for a given database state and seed. PINs come from `generated_pins`:
    argon2-hashing 100k PINs would take over an hour, so a small pool is hashed once.
    """
    if size < 1:
        raise ValueError("size must be a positive number of customers")
    hashes = await asyncio.to_thread(lambda: tuple(hash_pin(p) for p in generated_pins(rng_seed)))
    context, next_id = await _prepare(sessions, now, hashes)
    rng = random.Random(rng_seed)
    with tqdm(total=size, unit="customer", disable=not progress, desc="customers") as bar:
        for count in _chunks(size, CUSTOMERS_PER_TRANSACTION):
            rows = _Rows(next_id)
            for _ in range(count):
                _generate_customer(rows, rng, context)
            await _insert_all(sessions, rows)
            bar.update(count)
    await _sync_sequences(sessions)
    return size


def _chunks(total: int, size: int) -> Iterator[int]:
    for start in range(0, total, size):
        yield min(size, total - start)


async def _prepare(
    sessions: async_sessionmaker[AsyncSession], now: datetime, hashes: tuple[str, ...]
) -> tuple[_Context, dict[str, int]]:
    async with sessions() as session, session.begin():
        await session.connection(execution_options=WRITE_INTENT)
        plans = await ensure_plans(session)
        next_id = {}
        for table in _TABLES:
            highest = await session.scalar(select(func.max(table.c.id)))
            next_id[table.name] = (highest or 0) + 1
    today = {tz: _local_today(now, tz) for _, tz, _ in _LOCALES}
    return _Context(now, plans, hashes, today), next_id


async def _insert_all(sessions: async_sessionmaker[AsyncSession], rows: _Rows) -> None:
    async with sessions() as session, session.begin():
        connection = await session.connection(execution_options=WRITE_INTENT)
        for table in _TABLES:
            values = rows.by_table.get(table.name, [])
            for start in range(0, len(values), INSERT_BATCH):
                await connection.execute(insert(table), values[start : start + INSERT_BATCH])


async def _sync_sequences(sessions: async_sessionmaker[AsyncSession]) -> None:
    """PostgreSQL: move each id sequence past the ids assigned here."""
    async with sessions() as session, session.begin():
        connection = await session.connection()
        if connection.dialect.name != "postgresql":
            return
        for table in _TABLES:
            await connection.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                    f"coalesce(max(id), 0) + 1, false) FROM {table.name}"
                )
            )


def _generate_customer(rows: _Rows, rng: random.Random, context: _Context) -> None:
    profile = _pick_profile(rng, context)
    account_id = _gen_account(rows, rng, context, profile)
    cycle_start = _last_cycle_day(context.today[profile.tz], profile.cycle_day)
    line_ids = [
        _gen_line(rows, rng, context, account_id, profile.plan, holder)
        for holder in _holders(rng, profile)
    ]
    first_msisdn = rows.by_table["lines"][-len(line_ids)]["msisdn"]
    rows.add("contact_addresses", account_id=account_id, channel="sms", address=first_msisdn)
    today = context.today[profile.tz]
    for line_id in line_ids:
        _gen_usage(rows, rng, line_id, profile.plan, cycle_start, today)
    if profile.prepaid:
        _gen_ledger(rows, rng, context, account_id, profile.plan)
        return
    terms = timedelta(days=rng.choices((14, 21, 28, 30), weights=(20, 50, 15, 15))[0])
    for months_ago in (2, 1, 0):
        issued = add_months(cycle_start, -months_ago)
        paid = _paid(rng, months_ago, issued + terms, today)
        items = _invoice_items(rng, profile.plan, line_ids)
        _gen_invoice(rows, account_id, profile.tz, issued, items, paid, terms)
    _gen_unbilled(rows, rng, context, account_id, line_ids)


def _pick_profile(rng: random.Random, context: _Context) -> _Profile:
    locale, tz, _ = rng.choices(_LOCALES, weights=[weight for *_, weight in _LOCALES])[0]
    code = rng.choices(_PLAN_WEIGHTS, weights=[weight for _, weight in _PLAN_WEIGHTS])[0][0]
    return _Profile(
        first=rng.choice(_FIRST_NAMES),
        last=rng.choice(_LAST_NAMES),
        locale=locale,
        tz=tz,
        plan=context.plans[code],
        cycle_day=rng.randint(1, 28),
    )


def _holders(rng: random.Random, profile: _Profile) -> list[str]:
    """Line holders: the customer, then family members (a family plan has two lines)."""
    extra = profile.plan.lines_included - 1
    if extra == 0 and not profile.prepaid:
        extra = rng.choices((0, 1, 2), weights=(85, 11, 4))[0]
    return [profile.name] + [f"{rng.choice(_FIRST_NAMES)} {profile.last}" for _ in range(extra)]


def _last_cycle_day(today: date, cycle_day: int) -> date:
    """The most recent day (today or earlier) on which a monthly cycle started."""
    start = today.replace(day=cycle_day)
    return start if start <= today else add_months(start, -1)


def _paid(rng: random.Random, months_ago: int, due: date, today: date) -> bool:
    """Whether a bill is paid already: most pay by the due date, some before; a few leave
    last month's bill open too (overdue by weeks: the weekly overdue reminders)."""
    if months_ago > 1:
        return True
    if months_ago == 1:
        return rng.random() >= 0.03
    return rng.random() < (0.85 if due < today else 0.4)


def _email(name: str, account_id: int) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return f"{ascii_name.lower().replace(' ', '.')}.{account_id}@example.com"


def _gen_account(rows: _Rows, rng: random.Random, context: _Context, profile: _Profile) -> int:
    account_id = rows.next_id["accounts"]
    # About one postpaid account in five sets a spending cap ($50 to $200).
    capped = not profile.prepaid and rng.random() < 0.2
    limit = rng.choice((5000, 7500, 10000, 15000, 20000)) if capped else None
    return rows.add(
        "accounts",
        name=profile.name,
        email=_email(profile.name, account_id),
        locale=profile.locale,
        timezone=profile.tz,
        currency="USD",
        billing_type=profile.plan.billing_type,
        bill_cycle_day=profile.cycle_day,
        pin_hash=context.pin_hashes[account_id % len(context.pin_hashes)],
        failed_pin_attempts=0,
        pin_locked_until=None,
        bill_limit_minor=limit,
        bill_limit_alert_percent=80 if limit else None,
        created_at=context.now - timedelta(days=rng.randint(60, 3000)),
    )


def _gen_line(
    rows: _Rows, rng: random.Random, context: _Context, account_id: int, plan: Plan, holder: str
) -> int:
    line_id = rows.next_id["lines"]
    return rows.add(
        "lines",
        account_id=account_id,
        msisdn=generated_msisdn(line_id),
        iccid=iccid(1_000_000 + line_id),
        plan_id=plan.id,
        holder_name=holder,
        status="active",
        barred_reason=None,
        barred_at=None,
        activated_at=context.now - timedelta(days=rng.randint(30, 2000)),
    )


def _gen_usage(
    rows: _Rows, rng: random.Random, line_id: int, plan: Plan, start: date, today: date
) -> None:
    end = add_months(start, 1) - timedelta(days=1)
    elapsed = ((today - start).days + 1) / ((end - start).days + 1)  # of the cycle, so far
    for kind, unit, allowance, unlimited in (  # unlimited: what such a line typically uses
        ("data", "MB", plan.data_mb, 50 * MB_PER_GB),
        ("voice", "min", plan.voice_min, 600),
        ("sms", "sms", plan.sms, 400),
    ):
        typical = allowance or unlimited
        rows.add(
            "usage_counters",
            line_id=line_id,
            kind=kind,
            unit=unit,
            used=int(typical * _share_used(rng, elapsed)),
            allowance=allowance,
            cycle_start=start,
            cycle_end=end,
        )


def _share_used(rng: random.Random, elapsed: float) -> float:
    """How much of an allowance a line has used `elapsed` of the way through its cycle: each
    line its own pace (a median line would use half of it by the cycle's end), capped at
    110 %. On any day about 15 % of allowances are past 50 %, 4 % past 80 % and 2 % used up."""
    pace = rng.lognormvariate(-0.7, 0.5)
    return min(pace * elapsed, 1.1)


def _invoice_items(rng: random.Random, plan: Plan, line_ids: list[int]) -> list[_ItemRow]:
    fee = plan.monthly_price_minor
    items: list[_ItemRow] = [(line_ids[0], "recurring", f"{plan.name} monthly plan", ONE, fee)]
    for line_id in line_ids[plan.lines_included :]:
        items.append((line_id, "recurring", "Additional line", ONE, 2000))
    if rng.random() < 0.3:
        minutes = rng.randint(5, 90)
        line_id = rng.choice(line_ids)
        items.append(
            (line_id, "international", "International calls", Decimal(minutes), minutes * 15)
        )
    return items


def _gen_invoice(
    rows: _Rows,
    account_id: int,
    tz: str,
    issued: date,
    items: list[_ItemRow],
    paid: bool,
    terms: timedelta = PAYMENT_TERMS,
) -> None:
    subtotal = sum(item[-1] for item in items)
    total = subtotal + tax_minor(subtotal)
    due = issued + terms
    paid_at = _at_local(due - timedelta(days=2), tz) if paid else None
    invoice_id = rows.add(
        "invoices",
        account_id=account_id,
        number=f"INV-{issued:%Y%m}-{account_id:06d}",
        status="paid" if paid else "open",
        issued_on=issued,
        due_on=due,
        period_start=add_months(issued, -1),
        period_end=issued - timedelta(days=1),
        currency="USD",
        subtotal_minor=subtotal,
        tax_minor=total - subtotal,
        total_minor=total,
        amount_paid_minor=total if paid else 0,
        tax_rate=TAX_RATE,
        paid_at=paid_at,
        voided_at=None,
    )
    for position, item in enumerate(items, start=1):
        _gen_item(rows, invoice_id, position, item)
    if paid_at is not None:
        _gen_payment(rows, account_id, invoice_id, total, paid_at)


def _gen_item(rows: _Rows, invoice_id: int, position: int, item: _ItemRow) -> None:
    line_id, kind, description, quantity, amount = item
    rows.add(
        "invoice_items",
        invoice_id=invoice_id,
        line_id=line_id,
        position=position,
        kind=kind,
        description=description,
        quantity=quantity,
        amount_minor=amount,
    )


def _gen_payment(
    rows: _Rows, account_id: int, invoice_id: int, amount: int, paid_at: datetime
) -> None:
    rows.add(
        "payments",
        account_id=account_id,
        invoice_id=invoice_id,
        payment_link_id=None,
        amount_minor=amount,
        currency="USD",
        provider="generated",
        provider_reference=f"gen-{invoice_id}",
        received_at=paid_at,
    )


def _gen_unbilled(
    rows: _Rows, rng: random.Random, context: _Context, account_id: int, line_ids: list[int]
) -> None:
    """Half the accounts have charges not billed yet: calls abroad, and now and then roaming
    data (a median 1.1 GB at 2 ¢ a MB), so 2–3 % of the capped accounts are past 80 % of
    their cap and 1–2 % past it."""
    for _ in range(rng.choices((0, 1, 2, 3, 4), weights=(50, 25, 13, 7, 5))[0]):
        if rng.random() < 0.25:
            kind, what, unit = "roaming", "Roaming data", "MB"
            quantity = max(1, int(rng.lognormvariate(7.0, 0.8)))
            amount = quantity * 2
        else:
            kind, what, unit = "international", "International calls", "min"
            quantity = rng.randint(3, 60)
            amount = quantity * 15
        rows.add(
            "charges",
            account_id=account_id,
            line_id=rng.choice(line_ids),
            invoice_id=None,
            kind=kind,
            description=f"{what} ({quantity} {unit})",
            quantity=Decimal(quantity),
            unit=unit,
            amount_minor=amount,
            currency="USD",
            rated_at=context.now - timedelta(hours=rng.randint(1, 600)),
            source_id=None,
        )


def _gen_ledger(
    rows: _Rows, rng: random.Random, context: _Context, account_id: int, plan: Plan
) -> None:
    """Top-up, the month's bundle and some pay-as-you-go spend; never below zero."""
    top_up = rng.choice((1500, 2000, 2500, 3000, 5000))
    spent = rng.randint(0, (top_up - plan.monthly_price_minor) // 50) * 50
    for kind, description, amount, days_ago in (
        ("top_up", "Top-up", top_up, 25),
        ("bundle", f"{plan.name} 30-day bundle", -plan.monthly_price_minor, 25),
        ("usage", "Pay-as-you-go usage", -spent, 5),
    ):
        if amount:
            rows.add(
                "prepaid_transactions",
                account_id=account_id,
                kind=kind,
                description=description,
                amount_minor=amount,
                currency="USD",
                at=context.now - timedelta(days=days_ago),
                idempotency_key=None,
            )
