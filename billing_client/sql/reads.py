"""The reads every customer turn makes — who is writing, what they owe — as one function each.

They run on a plain `Connection` through `Transactions` (one thread hop or one greenlet per
transaction, statements built once at import), not through the ORM session: a "balance" turn
makes these two reads and nothing else of the billing core. Rows become the ORM classes'
transient instances so the models' own logic (`to_dto`, `summary`) stays the only copy.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Table, bindparam, func, select

from billing_client import types as dto
from billing_client.errors import NotFoundError
from billing_client.sql.models import (
    Account,
    Charge,
    ContactAddress,
    Invoice,
    Line,
    PrepaidTransaction,
)

_ACCOUNTS: Table = Account.__table__  # type: ignore[assignment]
_LINES: Table = Line.__table__  # type: ignore[assignment]
_CONTACTS: Table = ContactAddress.__table__  # type: ignore[assignment]
_INVOICES: Table = Invoice.__table__  # type: ignore[assignment]
_CHARGES: Table = Charge.__table__  # type: ignore[assignment]
_PREPAID: Table = PrepaidTransaction.__table__  # type: ignore[assignment]

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
# The account with its two sums in one statement: one round trip instead of three.
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
_ACCOUNT_WITH_SUMS = select(
    _ACCOUNTS, _UNBILLED_MINOR.label("unbilled_minor"), _PREPAID_MINOR.label("prepaid_minor")
).where(_ACCOUNTS.c.id == bindparam("p_account_id"))
_OPEN_INVOICES = (
    select(_INVOICES)
    .where(
        _INVOICES.c.account_id == bindparam("p_account_id"),
        _INVOICES.c.status == "open",
        _INVOICES.c.total_minor > _INVOICES.c.amount_paid_minor,
    )
    .order_by(_INVOICES.c.due_on, _INVOICES.c.id)
)


def account_by_msisdn(connection: Connection, msisdn: str) -> dto.Account | None:
    """The account owning the line, or else the contact address, with this E.164 number."""
    key = {"p_msisdn": msisdn}
    row = connection.execute(_BY_LINE, key).first() or connection.execute(_BY_CONTACT, key).first()
    return None if row is None else _instance(Account, row).to_dto()


def balance(connection: Connection, account_id: int, now: datetime) -> dto.Balance:
    """Open invoices, unbilled charges and (prepaid) the ledger balance; see get_balance."""
    key = {"p_account_id": account_id}
    row = connection.execute(_ACCOUNT_WITH_SUMS, key).first()
    if row is None:
        raise NotFoundError(f"account {account_id}")
    account = _instance(Account, row)
    today = local_today(account, now)
    rows = connection.execute(_OPEN_INVOICES, key)
    open_invoices = [_instance(Invoice, invoice).summary(today) for invoice in rows]
    prepaid = None
    if account.billing_type == "prepaid":
        prepaid = money(account, int(row.prepaid_minor or 0))
    return dto.Balance(
        account=account.to_dto(),
        amount_due=money(account, sum(inv.amount_due.minor for inv in open_invoices)),
        open_invoices=tuple(open_invoices),
        next_due_on=open_invoices[0].due_on if open_invoices else None,
        overdue=any(inv.status == "overdue" for inv in open_invoices),
        unbilled=money(account, int(row.unbilled_minor or 0)),
        prepaid_balance=prepaid,
        bill_limit=bill_limit(account),
    )


def local_today(account: Account, now: datetime) -> date:
    """The calendar day it is for the customer: due dates are local dates."""
    return now.astimezone(ZoneInfo(account.timezone)).date()


def money(account: Account, minor: int) -> dto.Money:
    return dto.Money(minor, account.currency)


def bill_limit(account: Account) -> dto.Money | None:
    if account.bill_limit_minor is None:
        return None
    return money(account, account.bill_limit_minor)


def _instance(model: Any, row: Any) -> Any:
    """A transient (session-less) instance of `model` holding the row's columns."""
    columns = model.__table__.columns.keys()
    return model(**{name: row._mapping[name] for name in columns})
