"""Rated usage into the embedded billing core (`billbot usage import`): one transaction a file.

Every row is checked before anything is written (its number is a line of ours, its charge fits
the account's currency, it did not happen in the future); one bad row and the file changes
nothing. A good file is applied in one transaction, so a failure midway leaves none of it:

- each row gets a `usage_records` row, unique on its `source_id`; only rows whose insert was
  new count (`INSERT … ON CONFLICT DO NOTHING RETURNING`), so a file imported twice, or two
  imports of it racing, count each row once;
- a new row adds its amount to the line's counter of that kind for the cycle holding the
  customer's local date of the usage; with no such counter, one is created for the account's
  bill cycle (the plan's allowance), kept clear of the line's other counters;
- a charged row adds a Charge (postpaid) or a debit to the prepaid ledger, keyed on the same
  `source_id`. A charge of zero adds nothing but the usage.

Statements go in batches (`CHUNK` rows a statement list), lines and counters are read with a
few IN queries, never one query a row.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Table, bindparam, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from tqdm import tqdm

from billing_client.sql.cycles import bill_cycle
from billing_client.sql.database import WRITE_INTENT
from billing_client.sql.models import (
    Account,
    AuditLog,
    Charge,
    Line,
    Plan,
    PrepaidTransaction,
    UsageCounter,
    UsageRecord,
)
from billing_client.types import Money
from billing_client.usage_csv import (
    Problem,
    UsageFile,
    UsageImportReport,
    UsageRow,
    canonical,
)

CHUNK = 5_000  # rows per batch of inserts, and per step of the progress bar
IN_CHUNK = 900  # values per IN (…) list: under SQLite's smallest variable limit (999)
FUTURE_TOLERANCE = timedelta(hours=1)  # clocks of the rating system and ours may differ a bit
COUNTER_UNITS = {"data": "MB", "voice": "min", "sms": "sms"}
_LABELS = {"data": "Data", "roaming_data": "Roaming data", "voice": "Voice", "sms": "SMS"}
_RECORDS: Table = UsageRecord.__table__  # type: ignore[assignment]
_COUNTERS: Table = UsageCounter.__table__  # type: ignore[assignment]
_CHARGES: Table = Charge.__table__  # type: ignore[assignment]
_PREPAID: Table = PrepaidTransaction.__table__  # type: ignore[assignment]
_AUDIT: Table = AuditLog.__table__  # type: ignore[assignment]

_LINES = (
    select(
        Line.id,
        Line.msisdn,
        Line.account_id,
        Account.currency,
        Account.billing_type,
        Account.timezone,
        Account.bill_cycle_day,
        Plan.data_mb,
        Plan.voice_min,
        Plan.sms,
    )
    .join(Account, Account.id == Line.account_id)
    .join(Plan, Plan.id == Line.plan_id)
    .where(Line.msisdn.in_(bindparam("p_values", expanding=True)))
)
_RECORDED = select(_RECORDS.c.source_id).where(
    _RECORDS.c.source_id.in_(bindparam("p_values", expanding=True))
)
_ADD_TO_COUNTER = (
    update(_COUNTERS)
    .where(_COUNTERS.c.id == bindparam("p_id"))
    .values(used=_COUNTERS.c.used + bindparam("p_delta"))
)


@dataclass(frozen=True, slots=True)
class _Line:
    """What applying a row needs to know about its line, account and plan."""

    id: int
    account_id: int
    currency: str
    prepaid: bool
    timezone: str
    bill_cycle_day: int
    allowances: dict[str, int | None]  # by counter kind; None = unlimited


@dataclass(frozen=True, slots=True)
class _Planned:
    """A checked row, ready to apply."""

    row: UsageRow
    line: _Line
    day: date  # the customer's local date of the usage: it picks the cycle
    charge_minor: int  # 0 = no charge


@dataclass(frozen=True, slots=True)
class _Cycle:
    id: int
    start: date
    end: date  # inclusive


async def import_usage_file(
    sessions: async_sessionmaker[AsyncSession],
    usage: UsageFile,
    *,
    now: datetime,
    dry_run: bool = False,
    progress: bool = False,
    actor: str = "usage-import",
) -> UsageImportReport:
    """Check a parsed file against the billing core and apply it (unless `dry_run`).

    With any problem (the parser's or ours) nothing is written and the report lists them all.
    `progress` shows a tqdm bar on stderr while applying.
    """
    async with sessions() as session, session.begin():
        options = {} if dry_run else WRITE_INTENT
        connection = await session.connection(execution_options=options)
        return await connection.run_sync(_import, usage, now, dry_run, progress, actor)


def _import(
    connection: Connection,
    usage: UsageFile,
    now: datetime,
    dry_run: bool,
    progress: bool,
    actor: str,
) -> UsageImportReport:
    lines = _lines_by_msisdn(connection, {row.msisdn for row in usage.rows})
    planned, problems = _plan(usage.rows, lines, now)
    if usage.problems or problems:
        return UsageImportReport.refused([*usage.problems, *problems], dry_run=dry_run)
    unique = _first_of_each(planned)
    if dry_run:
        new = _not_recorded(connection, unique)
    else:
        new = _apply(connection, unique, progress)
        if new:
            _audit(connection, new, len(planned), now, actor)
    accounts = frozenset(item.line.account_id for item in planned)
    return replace(_report(len(planned), new, dry_run=dry_run), accounts=accounts)


# --- checking ---------------------------------------------------------------------------------
def _lines_by_msisdn(connection: Connection, msisdns: Iterable[str]) -> dict[str, _Line]:
    found: dict[str, _Line] = {}
    for values in _chunks(sorted(msisdns), IN_CHUNK):
        for row in connection.execute(_LINES, {"p_values": values}):
            found[row.msisdn] = _Line(
                id=row.id,
                account_id=row.account_id,
                currency=row.currency,
                prepaid=row.billing_type == "prepaid",
                timezone=row.timezone,
                bill_cycle_day=row.bill_cycle_day,
                allowances={"data": row.data_mb, "voice": row.voice_min, "sms": row.sms},
            )
    return found


def _plan(
    rows: Iterable[UsageRow], lines: dict[str, _Line], now: datetime
) -> tuple[list[_Planned], list[Problem]]:
    planned: list[_Planned] = []
    problems: list[Problem] = []
    for row in rows:
        try:
            planned.append(_checked(row, lines.get(row.msisdn), now))
        except _Refused as refused:
            problems.append(Problem(row.line_number, str(refused)))
    return planned, problems


class _Refused(Exception):
    """Why the billing core refuses a row that parsed well."""


def _checked(row: UsageRow, line: _Line | None, now: datetime) -> _Planned:
    if line is None:
        raise _Refused(f"unknown number {row.msisdn}")
    if row.at > now + FUTURE_TOLERANCE:
        raise _Refused(f"date {row.at:%Y-%m-%d %H:%M} UTC is in the future")
    try:
        charge_minor = _charge_minor(row, line.currency)
    except ValueError:
        charge = canonical(row.charge or Decimal(0))
        raise _Refused(f"charge {charge} has more decimals than {line.currency} allows") from None
    day = row.at.astimezone(ZoneInfo(line.timezone)).date()
    return _Planned(row, line, day, charge_minor)


def _charge_minor(row: UsageRow, currency: str) -> int:
    """The charge in minor units (0 without one); ValueError when the currency has fewer
    decimals than the charge."""
    return 0 if row.charge is None else Money.from_decimal(row.charge, currency).minor


def _first_of_each(planned: Iterable[_Planned]) -> list[_Planned]:
    """The rows without their repeats (a row twice in one file is one record), in source id
    order: two imports of overlapping files then insert shared records in the same order and
    wait for each other instead of deadlocking (PostgreSQL)."""
    first: dict[str, _Planned] = {}
    for item in planned:
        first.setdefault(item.row.source_id, item)
    return [first[key] for key in sorted(first)]


def _not_recorded(connection: Connection, planned: Sequence[_Planned]) -> list[_Planned]:
    """The rows not imported before (a dry run's answer to what would be new)."""
    recorded: set[str] = set()
    for values in _chunks([item.row.source_id for item in planned], IN_CHUNK):
        recorded.update(connection.scalars(_RECORDED, {"p_values": values}))
    return [item for item in planned if item.row.source_id not in recorded]


# --- applying ---------------------------------------------------------------------------------
def _apply(connection: Connection, planned: Sequence[_Planned], progress: bool) -> list[_Planned]:
    """Record, charge and count the rows not imported before; those rows."""
    new: list[_Planned] = []
    with tqdm(total=len(planned), unit="row", desc="usage", disable=not progress) as bar:
        for chunk in _chunks(planned, CHUNK):
            recorded = _record(connection, chunk)
            fresh = [item for item in chunk if item.row.source_id in recorded]
            _charge(connection, fresh)
            new.extend(fresh)
            bar.update(len(chunk))
    _count(connection, new)
    return new


def _record(connection: Connection, chunk: Sequence[_Planned]) -> set[str]:
    """Insert the chunk's usage records; the source ids that were new."""
    statement = (
        _insert(connection, _RECORDS)
        .on_conflict_do_nothing(index_elements=["source_id"])
        .returning(_RECORDS.c.source_id)
    )
    values = [
        {
            "source_id": item.row.source_id,
            "line_id": item.line.id,
            "kind": item.row.kind,
            "quantity": item.row.amount,
            "at": item.row.at,
        }
        for item in chunk
    ]
    return set(connection.scalars(statement, values))


def _charge(connection: Connection, fresh: Sequence[_Planned]) -> None:
    """Charges (postpaid) and ledger debits (prepaid) of the charged rows."""
    charged = [item for item in fresh if item.charge_minor]
    postpaid = [_charge_values(item) for item in charged if not item.line.prepaid]
    prepaid = [_debit_values(item) for item in charged if item.line.prepaid]
    if postpaid:
        statement = _insert(connection, _CHARGES).on_conflict_do_nothing(
            index_elements=["source_id"]
        )
        connection.execute(statement, postpaid)
    if prepaid:
        statement = _insert(connection, _PREPAID).on_conflict_do_nothing(
            index_elements=["idempotency_key"]
        )
        connection.execute(statement, prepaid)


def _description(row: UsageRow) -> str:
    """E.g. "Data 250 MB", "Roaming data 1.5 GB", "Voice 12 min"."""
    return f"{_LABELS[row.kind]} {canonical(row.quantity)} {row.unit}"


def _charge_values(item: _Planned) -> dict[str, Any]:
    row = item.row
    return {
        "account_id": item.line.account_id,
        "line_id": item.line.id,
        "invoice_id": None,
        "kind": "roaming" if row.kind == "roaming_data" else "usage",
        "description": _description(row),
        "quantity": row.quantity,
        "unit": row.unit,
        "amount_minor": item.charge_minor,
        "currency": item.line.currency,
        "rated_at": row.at,
        "source_id": row.source_id,
    }


def _debit_values(item: _Planned) -> dict[str, Any]:
    row = item.row
    return {
        "account_id": item.line.account_id,
        "kind": "usage",
        "description": _description(row),
        "amount_minor": -item.charge_minor,
        "currency": item.line.currency,
        "at": row.at,
        "idempotency_key": f"usage:{row.source_id}",
    }


# --- counters ---------------------------------------------------------------------------------
_Key = tuple[int, str]  # line id, counter kind
_NewCycle = tuple[int, str, date, date]  # line id, counter kind, start, end


def _count(connection: Connection, new: Sequence[_Planned]) -> None:
    """Add the new rows' amounts to their counters, creating the missing ones."""
    if not new:
        return
    existing = _existing_cycles(connection, new)
    added: Counter[int] = Counter()  # counter id → amount
    created: Counter[_NewCycle] = Counter()
    allowances: dict[_NewCycle, int | None] = {}
    for item in new:
        key = (item.line.id, item.row.counter_kind)
        cycle = _containing(existing[key], item.day)
        if cycle is not None:
            added[cycle.id] += item.row.amount
            continue
        start, end = _new_cycle(item.day, item.line.bill_cycle_day, existing[key])
        created[(*key, start, end)] += item.row.amount
        allowances[(*key, start, end)] = item.line.allowances[item.row.counter_kind]
    if added:  # in id order: two imports touching the same counters never deadlock
        values = [{"p_id": key, "p_delta": delta} for key, delta in sorted(added.items())]
        connection.execute(_ADD_TO_COUNTER, values)
    if created:
        _create_counters(connection, created, allowances)


def _existing_cycles(connection: Connection, new: Sequence[_Planned]) -> dict[_Key, list[_Cycle]]:
    """The counters of the new rows' lines around their dates (a cycle is at most a month)."""
    first = min(item.day for item in new) - timedelta(days=31)
    last = max(item.day for item in new) + timedelta(days=31)
    query = (
        select(
            _COUNTERS.c.id,
            _COUNTERS.c.line_id,
            _COUNTERS.c.kind,
            _COUNTERS.c.cycle_start,
            _COUNTERS.c.cycle_end,
        )
        .where(_COUNTERS.c.line_id.in_(bindparam("p_values", expanding=True)))
        .where(_COUNTERS.c.cycle_end >= first, _COUNTERS.c.cycle_start <= last)
    )
    cycles: dict[_Key, list[_Cycle]] = defaultdict(list)
    for values in _chunks(sorted({item.line.id for item in new}), IN_CHUNK):
        for row in connection.execute(query, {"p_values": values}):
            cycles[(row.line_id, row.kind)].append(_Cycle(row.id, row.cycle_start, row.cycle_end))
    return cycles


def _containing(cycles: Iterable[_Cycle], day: date) -> _Cycle | None:
    return next((cycle for cycle in cycles if cycle.start <= day <= cycle.end), None)


def _new_cycle(day: date, cycle_day: int, others: Iterable[_Cycle]) -> tuple[date, date]:
    """The bill cycle holding `day`, cut short where it would overlap another counter of the
    line (its cycle day changed, or a prepaid bundle's 30 days): a day stays in one counter."""
    start, end = bill_cycle(day, cycle_day)
    for other in others:
        if other.end < day:
            start = max(start, other.end + timedelta(days=1))
        elif other.start > day:
            end = min(end, other.start - timedelta(days=1))
    return start, end


def _create_counters(
    connection: Connection,
    created: Counter[_NewCycle],
    allowances: dict[_NewCycle, int | None],
) -> None:
    """Insert the new cycles' counters; one a concurrent import created meanwhile is added to."""
    statement = _insert(connection, _COUNTERS)
    statement = statement.on_conflict_do_update(
        index_elements=["line_id", "kind", "cycle_start"],
        set_={  # ON CONFLICT's SET skips the column's onupdate: stamp it for the alert scan
            "used": _COUNTERS.c.used + statement.excluded.used,
            "updated_at": statement.excluded.updated_at,
        },
    )
    values = [
        {
            "line_id": line_id,
            "kind": kind,
            "unit": COUNTER_UNITS[kind],
            "used": amount,
            "allowance": allowances[(line_id, kind, start, end)],
            "cycle_start": start,
            "cycle_end": end,
        }
        for (line_id, kind, start, end), amount in sorted(created.items())
    ]
    connection.execute(statement, values)


# --- report and audit -------------------------------------------------------------------------
def _report(rows: int, new: Sequence[_Planned], *, dry_run: bool) -> UsageImportReport:
    amounts: Counter[str] = Counter()
    charges: Counter[str] = Counter()
    for item in new:
        amounts[item.row.counter_kind] += item.row.amount
        charges[item.line.currency] += item.charge_minor
    return UsageImportReport(
        dry_run=dry_run,
        rows=rows,
        imported=len(new),
        lines=len({item.line.id for item in new}),
        data_mb=amounts["data"],
        voice_min=amounts["voice"],
        sms=amounts["sms"],
        charges=tuple(Money(minor, cur) for cur, minor in sorted(charges.items()) if minor),
    )


def _audit(
    connection: Connection, new: Sequence[_Planned], rows: int, now: datetime, actor: str
) -> None:
    """One audit entry per import; its id is a digest of the new rows, the same for the same
    file's rows whatever their order."""
    digest = hashlib.sha256("".join(sorted(item.row.source_id for item in new)).encode())
    detail = f"{len(new)} new of {rows} rows, {len({item.line.id for item in new})} lines"
    entry = {
        "at": now,
        "actor": actor[:80],
        "action": "usage_imported",
        "entity": "usage",
        "entity_id": digest.hexdigest()[:16],
        "detail": detail,
    }
    connection.execute(insert(_AUDIT), entry)


# --- small helpers ----------------------------------------------------------------------------
def _insert(connection: Connection, table: Table) -> Any:
    """The backend's INSERT, which has ON CONFLICT (both share its API)."""
    if connection.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def _chunks(items: Sequence[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])
