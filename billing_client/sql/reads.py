"""The reads every customer turn makes — who is writing, what they owe — as one function each.

They run on a plain `Connection` through `Transactions` (no ORM session; on PostgreSQL straight
on asyncpg, `direct`), statements built once at import: a "balance" turn makes these two reads
and nothing else of the billing core. DTOs are built from the rows by the models' own functions
(`account_dto`, `invoice_summary`), so that logic keeps one copy.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Table, and_, bindparam, func, select

from billing_client import types as dto
from billing_client.errors import NotFoundError
from billing_client.sql.direct import rows
from billing_client.sql.models import (
    Account,
    Charge,
    ContactAddress,
    Invoice,
    Line,
    PrepaidTransaction,
    account_dto,
    invoice_summary,
)

_ACCOUNTS: Table = Account.__table__  # type: ignore[assignment]
_LINES: Table = Line.__table__  # type: ignore[assignment]
_CONTACTS: Table = ContactAddress.__table__  # type: ignore[assignment]
_INVOICES: Table = Invoice.__table__  # type: ignore[assignment]
_CHARGES: Table = Charge.__table__  # type: ignore[assignment]
_PREPAID: Table = PrepaidTransaction.__table__  # type: ignore[assignment]
_INVOICE = "invoice_"  # the prefix of the invoice columns' labels in `_BALANCE`

_BY_LINE = (
    select(_ACCOUNTS)
    .join(_LINES, _LINES.c.account_id == _ACCOUNTS.c.id)
    .where(_LINES.c.msisdn == bindparam("p_msisdn"))
    .limit(1)
)
_BY_CONTACT = (
    select(_ACCOUNTS)
    .join(_CONTACTS, _CONTACTS.c.account_id == _ACCOUNTS.c.id)
    .where(_CONTACTS.c.address == bindparam("p_msisdn"))
    .order_by(_CONTACTS.c.id)
    .limit(1)
)
_UNBILLED_MINOR = (
    select(func.coalesce(func.sum(_CHARGES.c.amount_minor), 0))
    .where(_CHARGES.c.account_id == _ACCOUNTS.c.id, _CHARGES.c.invoice_id.is_(None))
    .scalar_subquery()
)
_PREPAID_MINOR = (
    select(func.coalesce(func.sum(_PREPAID.c.amount_minor), 0))
    .where(_PREPAID.c.account_id == _ACCOUNTS.c.id)
    .scalar_subquery()
)
# The account, its two sums and its open invoices in one statement: one row per open invoice,
# or one row with empty invoice columns when nothing is open.
_OPEN = and_(
    _INVOICES.c.account_id == _ACCOUNTS.c.id,
    _INVOICES.c.status == "open",
    _INVOICES.c.total_minor > _INVOICES.c.amount_paid_minor,
)
_BALANCE = (
    select(
        _ACCOUNTS,
        _UNBILLED_MINOR.label("unbilled_minor"),
        _PREPAID_MINOR.label("prepaid_minor"),
        *(column.label(_INVOICE + column.key) for column in _INVOICES.c),
    )
    .select_from(_ACCOUNTS.outerjoin(_INVOICES, _OPEN))
    .where(_ACCOUNTS.c.id == bindparam("p_account_id"))
    .order_by(_INVOICES.c.due_on, _INVOICES.c.id)
)


def account_by_msisdn(connection: Connection, msisdn: str) -> dto.Account | None:
    """The account owning the line, or else the contact address, with this E.164 number."""
    key = {"p_msisdn": msisdn}
    found = rows(connection, _BY_LINE, key) or rows(connection, _BY_CONTACT, key)
    return account_dto(found[0]) if found else None


def balance(connection: Connection, account_id: int, now: datetime) -> dto.Balance:
    """Open invoices, unbilled charges and (prepaid) the ledger balance; see get_balance."""
    found = rows(connection, _BALANCE, {"p_account_id": account_id})
    if not found:
        raise NotFoundError(f"account {account_id}")
    row = found[0]
    today = local_today(row.timezone, now)
    open_invoices = [
        invoice_summary(_Prefixed(invoice, _INVOICE), today)
        for invoice in found
        if getattr(invoice, _INVOICE + "id") is not None
    ]
    currency = row.currency
    prepaid = None
    if row.billing_type == "prepaid":
        prepaid = dto.Money(int(row.prepaid_minor or 0), currency)
    limit = row.bill_limit_minor
    return dto.Balance(
        account=account_dto(row),
        amount_due=dto.Money(sum(inv.amount_due.minor for inv in open_invoices), currency),
        open_invoices=tuple(open_invoices),
        next_due_on=open_invoices[0].due_on if open_invoices else None,
        overdue=any(inv.status == "overdue" for inv in open_invoices),
        unbilled=dto.Money(int(row.unbilled_minor or 0), currency),
        prepaid_balance=prepaid,
        bill_limit=None if limit is None else dto.Money(limit, currency),
    )


def local_today(timezone: str, now: datetime) -> date:
    """The calendar day it is for the customer: due dates are local dates."""
    return now.astimezone(ZoneInfo(timezone)).date()


class _Prefixed:
    """A row's columns whose labels start with `prefix`, read without it."""

    __slots__ = ("_prefix", "_row")

    def __init__(self, row: Any, prefix: str) -> None:
        self._row, self._prefix = row, prefix

    def __getattr__(self, name: str) -> Any:
        return getattr(self._row, self._prefix + name)
