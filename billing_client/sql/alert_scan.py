"""The alert scan's reads: set-based SELECTs over what the billing core already aggregates.

One statement each for invoices, allowances and spending caps (no loop over accounts), then the
accounts and holders' numbers of the accounts they name, in chunks. The bot decides which
alerts are due (`bot.alerts`): customers' levels, quiet hours, channels.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date
from typing import Any

from sqlalchemy import BindParameter, Connection, Table, and_, bindparam, func, or_, select

from billing_client import types as dto
from billing_client.sql.cycles import bill_cycle
from billing_client.sql.direct import rows
from billing_client.sql.models import Account, Charge, Invoice, Line, UsageCounter, account_dto

_ACCOUNTS: Table = Account.__table__  # type: ignore[assignment]
_LINES: Table = Line.__table__  # type: ignore[assignment]
_INVOICES: Table = Invoice.__table__  # type: ignore[assignment]
_COUNTERS: Table = UsageCounter.__table__  # type: ignore[assignment]
_CHARGES: Table = Charge.__table__  # type: ignore[assignment]
CHUNK = 5000  # accounts a lookup names at once (well under every driver's parameter limit)

_OPEN_INVOICES = select(
    _INVOICES.c.id,
    _INVOICES.c.account_id,
    _INVOICES.c.number,
    _INVOICES.c.issued_on,
    _INVOICES.c.due_on,
    _INVOICES.c.currency,
    (_INVOICES.c.total_minor - _INVOICES.c.amount_paid_minor).label("due_minor"),
).where(
    _INVOICES.c.status == "open",
    _INVOICES.c.total_minor > _INVOICES.c.amount_paid_minor,
    or_(
        _INVOICES.c.issued_on >= bindparam("issued_since"),
        _INVOICES.c.due_on <= bindparam("due_until"),
    ),
)
_ALLOWANCES = (
    select(
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
_ONLY: BindParameter[int] = bindparam("only", expanding=True)  # an event's accounts
_SOME_INVOICES = _OPEN_INVOICES.where(_INVOICES.c.account_id.in_(_ONLY))
_SOME_ALLOWANCES = _ALLOWANCES.where(_LINES.c.account_id.in_(_ONLY))
_SOME_CAPS = _CAPS.where(_ACCOUNTS.c.id.in_(_ONLY))
_ACCOUNTS_BY_ID = select(_ACCOUNTS).where(_ACCOUNTS.c.id.in_(bindparam("ids", expanding=True)))
_LINES_BY_ACCOUNT = (
    select(_LINES.c.account_id, _LINES.c.msisdn, _LINES.c.holder_name)
    .where(_LINES.c.account_id.in_(bindparam("ids", expanding=True)))
    .order_by(_LINES.c.account_id, _LINES.c.id)
)


def facts(
    connection: Connection,
    *,
    today: date,
    issued_since: date,
    due_until: date,
    floor: int,
    accounts: Sequence[int] | None = None,
) -> dto.AlertFacts:
    """The scan's facts as of `today` (UTC: the bot applies each customer's own day); only
    `accounts`' when given."""
    window = {"issued_since": issued_since, "due_until": due_until}
    usage_window = {"today": today, "floor": floor}
    if accounts is None:
        invoice_rows = rows(connection, _OPEN_INVOICES, window)
        usage_rows = rows(connection, _ALLOWANCES, usage_window)
        cap_rows = connection.execute(_CAPS).all()
    else:
        only = {"only": list(accounts)}
        invoice_rows = connection.execute(_SOME_INVOICES, {**window, **only}).all()
        usage_rows = connection.execute(_SOME_ALLOWANCES, {**usage_window, **only}).all()
        cap_rows = connection.execute(_SOME_CAPS, only).all()
    invoices = tuple(_invoice(row) for row in invoice_rows)
    usage = tuple(_usage(row) for row in usage_rows)
    limits = tuple(_limit(row, today) for row in cap_rows)
    named = {
        *(f.account_id for f in invoices),
        *(f.account_id for f in usage),
        *(f.account_id for f in limits),
    }
    found, phones = _accounts(connection, sorted(named))
    return dto.AlertFacts(invoices, usage, limits, found, phones)


def _accounts(
    connection: Connection, ids: Sequence[int]
) -> tuple[dict[int, dto.Account], dict[int, str]]:
    accounts: dict[int, dto.Account] = {}
    phones: dict[int, str] = {}
    for chunk in _chunks(ids):
        for row in connection.execute(_ACCOUNTS_BY_ID, {"ids": chunk}).all():
            accounts[row.id] = account_dto(row)
        owned: set[int] = set()
        for row in connection.execute(_LINES_BY_ACCOUNT, {"ids": chunk}).all():
            account = accounts.get(row.account_id)
            if (
                account is not None
                and row.holder_name == account.name
                and row.account_id not in owned
            ):
                phones[row.account_id] = row.msisdn  # the holder's own line wins
                owned.add(row.account_id)
            elif row.account_id not in phones:
                phones[row.account_id] = row.msisdn  # else the account's first line
    return accounts, phones


def _chunks(ids: Sequence[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), CHUNK):
        yield list(ids[start : start + CHUNK])


def _invoice(row: Any) -> dto.InvoiceFact:
    amount = dto.Money(int(row.due_minor), row.currency)
    return dto.InvoiceFact(row.account_id, row.id, row.number, row.issued_on, row.due_on, amount)


def _usage(row: Any) -> dto.UsageFact:
    return dto.UsageFact(
        row.account_id,
        row.line_id,
        row.msisdn,
        row.kind,
        row.unit,
        int(row.used),
        int(row.allowance),
        row.cycle_start,
        row.cycle_end,
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
