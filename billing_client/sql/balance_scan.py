"""The low-balance read: prepaid accounts under the level their customer asked to be told at.

One grouped SELECT over the accounts that set a level (a partial index holds just those) and
their prepaid ledger; only some accounts' when an event names them.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import BindParameter, Connection, Table, and_, bindparam, func, select

from billing_client import types as dto
from billing_client.sql.models import Account, PrepaidTransaction

_ACCOUNTS: Table = Account.__table__  # type: ignore[assignment]
_LEDGER: Table = PrepaidTransaction.__table__  # type: ignore[assignment]
_TOP_UP = func.coalesce(func.max(_LEDGER.c.id).filter(_LEDGER.c.kind == "top_up"), 0)
_BALANCE = func.coalesce(func.sum(_LEDGER.c.amount_minor), 0)
_LOW = (
    select(
        _ACCOUNTS.c.id,
        _ACCOUNTS.c.currency,
        _ACCOUNTS.c.low_balance_alert_minor,
        _BALANCE.label("balance_minor"),
        _TOP_UP.label("top_up"),
    )
    .outerjoin(_LEDGER, _LEDGER.c.account_id == _ACCOUNTS.c.id)
    .where(
        and_(
            _ACCOUNTS.c.low_balance_alert_minor.is_not(None),
            _ACCOUNTS.c.billing_type == "prepaid",
        )
    )
    .group_by(_ACCOUNTS.c.id, _ACCOUNTS.c.currency, _ACCOUNTS.c.low_balance_alert_minor)
    .having(_ACCOUNTS.c.low_balance_alert_minor > _BALANCE)
)
_ONLY: BindParameter[int] = bindparam("only", expanding=True)
_SOME_LOW = _LOW.where(_ACCOUNTS.c.id.in_(_ONLY))


def low_balances(
    connection: Connection, accounts: Collection[int] | None = None
) -> tuple[dto.LowBalanceFact, ...]:
    if accounts is None:
        rows = connection.execute(_LOW).all()
    else:
        rows = connection.execute(_SOME_LOW, {"only": sorted(accounts)}).all()
    return tuple(_fact(row) for row in rows)


def _fact(row: Any) -> dto.LowBalanceFact:
    currency = row.currency
    return dto.LowBalanceFact(
        row.id,
        dto.Money(int(row.balance_minor), currency),
        dto.Money(int(row.low_balance_alert_minor), currency),
        int(row.top_up),
    )
