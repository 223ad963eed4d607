"""The alert scan's reads: set-based SELECTs over what the billing core already aggregates.

No loop over accounts: one statement each for bills, allowances and spending caps.

- `facts` without accounts, the full scan: the bills with an alert due today in their
  customer's zone (`dated`), the current allowances used to the lowest level anybody chose,
  the caps past their alert level; bills and allowances come with their account and the
  holder's number (a join and a correlated subquery, not a lookup per account).
- `facts` with accounts (an event's, or the customers who changed their settings): theirs,
  every open bill in the window.
- `changes`: only the rows written since a watermark (`updated_at`, stamped by the database on
  every INSERT and UPDATE, indexed), and the bills whose reminder falls on a day that just
  began in their customer's zone. `watermark_query` gives the moment to pass next time: every
  write a later read may not see yet is stamped at or after it, so a scan misses nothing and
  a scan of nothing reads nothing.

The bot decides which alerts are due (`bot.alerts`): customers' levels, quiet hours, channels.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Connection,
    Select,
    Table,
    and_,
    bindparam,
    func,
    or_,
    select,
    text,
    union,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from billing_client import types as dto
from billing_client.sql.cycles import bill_cycle
from billing_client.sql.models import (
    Account,
    Charge,
    DatabaseNow,
    Invoice,
    Line,
    UsageCounter,
    account_dto,
)

_ACCOUNTS: Table = Account.__table__  # type: ignore[assignment]
_LINES: Table = Line.__table__  # type: ignore[assignment]
_INVOICES: Table = Invoice.__table__  # type: ignore[assignment]
_COUNTERS: Table = UsageCounter.__table__  # type: ignore[assignment]
_CHARGES: Table = Charge.__table__  # type: ignore[assignment]
CHUNK = 5000  # accounts a lookup names at once (well under every driver's parameter limit)


@dataclass(frozen=True, slots=True)
class Window:
    """What a scan asks about: bills issued since or due until, allowances in their cycle on
    `today` (UTC: the bot applies each customer's own day) used to `floor` percent or more."""

    today: date
    issued_since: date
    due_until: date
    floor: int

    @property
    def invoices(self) -> dict[str, date]:
        return {"issued_since": self.issued_since, "due_until": self.due_until}

    @property
    def usage(self) -> dict[str, Any]:
        return {"today": self.today, "floor": self.floor}


_INVOICE_COLUMNS = (
    _INVOICES.c.id,
    _INVOICES.c.account_id,
    _INVOICES.c.number,
    _INVOICES.c.issued_on,
    _INVOICES.c.due_on,
    _INVOICES.c.currency,
    (_INVOICES.c.total_minor - _INVOICES.c.amount_paid_minor).label("due_minor"),
)
_OPEN = select(*_INVOICE_COLUMNS).where(
    _INVOICES.c.status == "open", _INVOICES.c.total_minor > _INVOICES.c.amount_paid_minor
)
_OPEN_INVOICES = _OPEN.where(
    or_(
        _INVOICES.c.issued_on >= bindparam("issued_since"),
        _INVOICES.c.due_on <= bindparam("due_until"),
    ),
)
_ALLOWANCE_COLUMNS = (
    _COUNTERS.c.line_id,
    _LINES.c.account_id,
    _LINES.c.msisdn,
    _COUNTERS.c.kind,
    _COUNTERS.c.unit,
    _COUNTERS.c.used,
    _COUNTERS.c.allowance,
    _COUNTERS.c.cycle_start,
    _COUNTERS.c.cycle_end,
)
_ALLOWANCES = (
    select(*_ALLOWANCE_COLUMNS)
    .join(_LINES, _LINES.c.id == _COUNTERS.c.line_id)
    .where(
        _COUNTERS.c.allowance > 0,
        _COUNTERS.c.cycle_start <= bindparam("today"),
        _COUNTERS.c.cycle_end >= bindparam("today"),
        _COUNTERS.c.used * 100 >= _COUNTERS.c.allowance * bindparam("floor"),
    )
)
_UNBILLED = func.coalesce(func.sum(_CHARGES.c.amount_minor), 0)
_CAPS = (
    select(
        _ACCOUNTS.c.id,
        _ACCOUNTS.c.currency,
        _ACCOUNTS.c.bill_limit_minor,
        func.coalesce(_ACCOUNTS.c.bill_limit_alert_percent, 100).label("alert_percent"),
        _ACCOUNTS.c.bill_limit_action,
        _ACCOUNTS.c.bill_limit_consent_until,
        _ACCOUNTS.c.bill_cycle_day,
        _UNBILLED.label("unbilled_minor"),
    )
    .join(_CHARGES, and_(_CHARGES.c.account_id == _ACCOUNTS.c.id, _CHARGES.c.invoice_id.is_(None)))
    .where(_ACCOUNTS.c.bill_limit_minor > 0)
    .group_by(
        _ACCOUNTS.c.id,
        _ACCOUNTS.c.currency,
        _ACCOUNTS.c.bill_limit_minor,
        _ACCOUNTS.c.bill_limit_alert_percent,
        _ACCOUNTS.c.bill_limit_action,
        _ACCOUNTS.c.bill_limit_consent_until,
        _ACCOUNTS.c.bill_cycle_day,
    )
    .having(
        _ACCOUNTS.c.bill_limit_minor * func.coalesce(_ACCOUNTS.c.bill_limit_alert_percent, 100)
        <= _UNBILLED * 100
    )
)


# --- everything (a full scan): each fact with its account and the holder's number ---
class _Unindexed(FunctionElement[Any]):
    """`+column` on SQLite, which keeps its planner off the column's indexes: a full scan
    reads most of the table, and walking two indexes and their rows (its plan for an OR of
    two indexed ranges) takes eight times a plain scan. The column itself elsewhere."""

    inherit_cache = True

    def __init__(self, column: ColumnElement[Any]) -> None:
        super().__init__(column)
        self.type = column.type


@compiles(_Unindexed)
def _column(element: _Unindexed, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.clauses, **kw)


@compiles(_Unindexed, "sqlite")
def _unary_plus(element: _Unindexed, compiler: SQLCompiler, **kw: Any) -> str:
    return "+" + compiler.process(element.clauses, **kw)


_FIRST_LINE = (
    select(_LINES.c.msisdn)
    .where(_LINES.c.account_id == _ACCOUNTS.c.id)
    .order_by(_LINES.c.id)
    .limit(1)
    .correlate(_ACCOUNTS)
)
_HOLDER_PHONE = func.coalesce(  # the holder's own line, else the account's first
    _FIRST_LINE.where(_LINES.c.holder_name == _ACCOUNTS.c.name).scalar_subquery(),
    _FIRST_LINE.scalar_subquery(),
)
_ACCOUNT_COLUMNS = (
    _ACCOUNTS.c.name.label("a_name"),
    _ACCOUNTS.c.email.label("a_email"),
    _ACCOUNTS.c.locale.label("a_locale"),
    _ACCOUNTS.c.timezone.label("a_timezone"),
    _ACCOUNTS.c.currency.label("a_currency"),
    _ACCOUNTS.c.billing_type.label("a_billing_type"),
    _HOLDER_PHONE.label("a_phone"),
)
_EVERY_OPEN = (
    select(*_INVOICE_COLUMNS, *_ACCOUNT_COLUMNS)
    .join(_ACCOUNTS, _ACCOUNTS.c.id == _INVOICES.c.account_id)
    .where(_INVOICES.c.status == "open", _INVOICES.c.total_minor > _INVOICES.c.amount_paid_minor)
)
_EVERY_OPEN_INVOICE = _EVERY_OPEN.where(
    or_(
        _Unindexed(_INVOICES.c.issued_on) >= bindparam("issued_since"),
        _INVOICES.c.due_on <= bindparam("due_until"),
    ),
)
_EVERY_ALLOWANCE = _ALLOWANCES.add_columns(*_ACCOUNT_COLUMNS).join(
    _ACCOUNTS, _ACCOUNTS.c.id == _LINES.c.account_id
)
_ONLY: BindParameter[int] = bindparam("only", expanding=True)  # an event's accounts
_SOME_INVOICES = _OPEN_INVOICES.where(_INVOICES.c.account_id.in_(_ONLY))
_SOME_ALLOWANCES = _ALLOWANCES.where(_LINES.c.account_id.in_(_ONLY))
_SOME_CAPS = _CAPS.where(_ACCOUNTS.c.id.in_(_ONLY))
# --- what changed (`changes`) ---
_WRITTEN_INVOICES = select(*_INVOICE_COLUMNS, _INVOICES.c.status).where(
    _INVOICES.c.updated_at >= bindparam("since")
)
_WRITTEN_ALLOWANCES = _ALLOWANCES.where(_COUNTERS.c.updated_at >= bindparam("since"))
_WRITTEN_CAPS = union(  # accounts whose charges or cap changed
    select(_CHARGES.c.account_id).where(_CHARGES.c.updated_at >= bindparam("since")),
    select(_ACCOUNTS.c.id).where(_ACCOUNTS.c.updated_at >= bindparam("since")),
)
# PostgreSQL stamps a row with its transaction's start (`now()`): a transaction still running
# may commit rows stamped as early as it began.
_PG_WATERMARK = text(
    "SELECT least(clock_timestamp(), (SELECT min(xact_start) FROM pg_stat_activity"
    " WHERE datname = current_database() AND pid <> pg_backend_pid()))"
)
_ACCOUNTS_BY_ID = select(
    _ACCOUNTS.c.id,
    _ACCOUNTS.c.name,
    _ACCOUNTS.c.email,
    _ACCOUNTS.c.locale,
    _ACCOUNTS.c.timezone,
    _ACCOUNTS.c.currency,
    _ACCOUNTS.c.billing_type,
).where(_ACCOUNTS.c.id.in_(bindparam("ids", expanding=True)))
_LINES_BY_ACCOUNT = (
    select(_LINES.c.account_id, _LINES.c.msisdn, _LINES.c.holder_name)
    .where(_LINES.c.account_id.in_(bindparam("ids", expanding=True)))
    .order_by(_LINES.c.account_id, _LINES.c.id)
)


def facts(
    connection: Connection,
    window: Window,
    *,
    accounts: Sequence[int] | None = None,
    dated: Mapping[str, dto.BillDays] | None = None,
) -> dto.AlertFacts:
    """The scan's facts in `window`; only `accounts`' when given. With `dated`, the bills are
    those of its zones' accounts issued or due on their days, not every open bill in the
    window (a full scan asks for the bills with an alert due today)."""
    if accounts is None:
        return _everything(connection, window, dated)
    invoices: list[dto.InvoiceFact] = []
    usage: list[dto.UsageFact] = []
    limits: list[dto.LimitFact] = []
    run = connection.execute
    for chunk in _chunks(accounts):  # an IN list each, under every driver's parameter limit
        only = {"only": chunk}
        invoices += map(_invoice, run(_SOME_INVOICES, {**window.invoices, **only}))
        usage += map(_usage, run(_SOME_ALLOWANCES, {**window.usage, **only}))
        limits += (_limit(row, window.today) for row in run(_SOME_CAPS, only))
    return _with_accounts(connection, tuple(invoices), tuple(usage), tuple(limits))


def _everything(
    connection: Connection, window: Window, dated: Mapping[str, dto.BillDays] | None
) -> dto.AlertFacts:
    """Every fact in `window` (or `dated`'s bills): three passes, bills and allowances read
    with their accounts."""
    with _without_jit(connection):
        if dated is None:
            invoice_rows = connection.execute(_EVERY_OPEN_INVOICE, window.invoices).all()
        else:
            invoice_rows = _dated(connection, dated)
        usage_rows = connection.execute(_EVERY_ALLOWANCE, window.usage).all()
        limits = tuple(_limit(row, window.today) for row in connection.execute(_CAPS))
    accounts: dict[int, dto.Account] = {}
    phones: dict[int, str] = {}
    # Hundreds of thousands of rows: read by position (a named column costs ten times more).
    for row in invoice_rows:
        _remember(accounts, phones, row[1], row[len(_INVOICE_COLUMNS) :])
    for row in usage_rows:
        _remember(accounts, phones, row[1], row[len(_ALLOWANCE_COLUMNS) :])
    capped = sorted({f.account_id for f in limits} - accounts.keys())
    more, more_phones = _accounts(connection, capped)
    return dto.AlertFacts(
        tuple(_invoice(row) for row in invoice_rows),
        tuple(_usage(row) for row in usage_rows),
        limits,
        {**accounts, **more},
        {**phones, **more_phones},
    )


@contextmanager
def _without_jit(connection: Connection) -> Iterator[None]:
    """PostgreSQL: no JIT compilation of the full scan's statements. Their estimates (a
    subquery per row) pass `jit_above_cost`, and compiling one took 0.8 s of its 1 s on a
    million lines. The session's setting is put back afterwards."""
    if connection.dialect.name != "postgresql":
        yield
        return
    connection.exec_driver_sql("SET jit = off")
    try:
        yield
    finally:
        connection.exec_driver_sql("RESET jit")


def _remember(
    accounts: dict[int, dto.Account],
    phones: dict[int, str],
    account_id: int,
    columns: Sequence[Any],
) -> None:
    """The account a fact was read with (`_ACCOUNT_COLUMNS`), as `account_dto` makes it."""
    if account_id in accounts:
        return
    name, email, locale, timezone, currency, billing_type, phone = columns
    kind: dto.BillingType = "prepaid" if billing_type == "prepaid" else "postpaid"
    accounts[account_id] = dto.Account(account_id, name, email, locale, timezone, currency, kind)
    if phone is not None:
        phones[account_id] = phone


def watermark_query(dialect: str) -> Select[Any] | Any:
    """The database's moment from which `changes` must read to miss nothing written after
    this: SQLite's clock, asked while the write lock is held (no write is half done, every
    later one is stamped later); PostgreSQL's clock, or the start of the oldest transaction
    still running on this database if earlier (its rows carry that stamp)."""
    return _PG_WATERMARK if dialect == "postgresql" else select(DatabaseNow())


def changes(
    connection: Connection,
    window: Window,
    since: datetime,
    dated: Mapping[str, dto.BillDays],
) -> dto.AlertFacts:
    """The facts in `window` of rows written at or after `since` — allowances, bills (those
    no longer open in `closed`), accounts whose unbilled charges or cap changed — and the open
    bills of the accounts in `dated`'s time zones issued or due on one of their days."""
    written = {"since": since}
    usage_rows = connection.execute(_WRITTEN_ALLOWANCES, {**window.usage, **written})
    usage = tuple(_usage(row) for row in usage_rows)
    invoices: dict[int, dto.InvoiceFact] = {}
    closed: set[tuple[int, str]] = set()
    for row in connection.execute(_WRITTEN_INVOICES, written):
        if row.status != "open" or row.due_minor <= 0:
            closed.add((row.account_id, row.number))
        elif row.issued_on >= window.issued_since or row.due_on <= window.due_until:
            invoices[row.id] = _invoice(row)
    for row in _dated(connection, dated):
        invoices.setdefault(row.id, _invoice(row))
    capped = sorted(set(connection.scalars(_WRITTEN_CAPS, written)))
    limits = tuple(
        _limit(row, window.today)
        for chunk in _chunks(capped)
        for row in connection.execute(_SOME_CAPS, {"only": chunk})
    )
    return _with_accounts(connection, tuple(invoices.values()), usage, limits, closed)


def _dated(connection: Connection, dated: Mapping[str, dto.BillDays]) -> Sequence[Any]:
    """The open bills of each zone's accounts issued or due on one of its days, with their
    accounts (`_ACCOUNT_COLUMNS`): one SELECT, a condition for each set of days the zones
    share (at any moment the world's zones are on at most three dates)."""
    zones_by_days: dict[tuple[frozenset[date], frozenset[date]], list[str]] = defaultdict(list)
    for zone, (issued, due) in dated.items():
        if issued or due:
            zones_by_days[frozenset(issued), frozenset(due)].append(zone)
    if not zones_by_days:
        return ()
    on_their_days = [
        and_(
            _ACCOUNTS.c.timezone.in_(sorted(zones)),
            or_(_INVOICES.c.issued_on.in_(sorted(issued)), _INVOICES.c.due_on.in_(sorted(due))),
        )
        for (issued, due), zones in zones_by_days.items()
    ]
    query = _EVERY_OPEN.where(or_(*on_their_days))
    return connection.execute(query).all()


def _with_accounts(
    connection: Connection,
    invoices: tuple[dto.InvoiceFact, ...],
    usage: tuple[dto.UsageFact, ...],
    limits: tuple[dto.LimitFact, ...],
    closed: Collection[tuple[int, str]] = (),
) -> dto.AlertFacts:
    """The facts with the accounts they name and the holders' numbers."""
    named = {
        *(f.account_id for f in invoices),
        *(f.account_id for f in usage),
        *(f.account_id for f in limits),
    }
    found, phones = _accounts(connection, sorted(named))
    return dto.AlertFacts(invoices, usage, limits, found, phones, closed=frozenset(closed))


def _accounts(
    connection: Connection, ids: Sequence[int]
) -> tuple[dict[int, dto.Account], dict[int, str]]:
    accounts: dict[int, dto.Account] = {}
    phones: dict[int, str] = {}
    for chunk in _chunks(ids):
        for row in connection.execute(_ACCOUNTS_BY_ID, {"ids": chunk}).all():
            accounts[row.id] = account_dto(row)
        owned: set[int] = set()
        for line in connection.execute(_LINES_BY_ACCOUNT, {"ids": chunk}).all():
            account = accounts.get(line.account_id)
            if (
                account is not None
                and line.holder_name == account.name
                and line.account_id not in owned
            ):
                phones[line.account_id] = line.msisdn  # the holder's own line wins
                owned.add(line.account_id)
            elif line.account_id not in phones:
                phones[line.account_id] = line.msisdn  # else the account's first line
    return accounts, phones


def _chunks(ids: Sequence[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), CHUNK):
        yield list(ids[start : start + CHUNK])


def _invoice(row: Sequence[Any]) -> dto.InvoiceFact:
    """A row that starts with `_INVOICE_COLUMNS`."""
    invoice_id, account_id, number, issued_on, due_on, currency, due_minor = row[:7]
    amount = dto.Money(int(due_minor), currency)
    return dto.InvoiceFact(account_id, invoice_id, number, issued_on, due_on, amount)


def _usage(row: Sequence[Any]) -> dto.UsageFact:
    """A row that starts with `_ALLOWANCE_COLUMNS`."""
    line_id, account_id, msisdn, kind, unit, used, allowance, start, end = row[:9]
    return dto.UsageFact(
        account_id, line_id, msisdn, kind, unit, int(used), int(allowance), start, end
    )


def _limit(row: Any, today: date) -> dto.LimitFact:
    currency = row.currency
    cycle_start, cycle_end = bill_cycle(today, int(row.bill_cycle_day))
    return dto.LimitFact(
        row.id,
        dto.Money(int(row.bill_limit_minor), currency),
        dto.Money(int(row.unbilled_minor), currency),
        int(row.alert_percent),
        bar=row.bill_limit_action == "bar",
        consent_until=row.bill_limit_consent_until,
        cycle_start=cycle_start,
        cycle_end=cycle_end,
    )
