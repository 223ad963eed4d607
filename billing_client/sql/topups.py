"""Prepaid top-ups in the embedded core: a pay link for a fixed amount (no invoice), and the
level under which the customer is told their balance is low.

Paying a top-up link credits the balance once: the link is paid at most once (one payment per
link), and the ledger row is keyed by the provider's reference (`SqlBillingClient.pay_link`).
Functions run in the caller's transaction, on the locked account (client.py).
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from billing_client import types as dto
from billing_client.errors import InvalidRequestError
from billing_client.sql.audit import audit
from billing_client.sql.models import Account, PaymentLink

# In the account's currency, major units: what one top-up may be, and the low-balance level.
TOP_UP_MIN, TOP_UP_MAX = Decimal(5), Decimal(100)
LEVEL_MAX = Decimal(100)


def top_up_limits(currency: str) -> tuple[dto.Money, dto.Money]:
    """The smallest and largest top-up in `currency`."""
    money = dto.Money.from_decimal
    return money(TOP_UP_MIN, currency), money(TOP_UP_MAX, currency)


def create_link(
    session: AsyncSession, account: Account, amount: dto.Money, now: datetime, ttl_seconds: int
) -> dto.PaymentLink:
    """A link that tops the balance up by `amount` when paid (audited)."""
    _check_amount(account, amount)
    if ttl_seconds <= 0:
        raise InvalidRequestError("a payment link needs a positive lifetime")
    link = PaymentLink(
        id=secrets.token_urlsafe(24),
        account_id=account.id,
        invoice_id=None,
        amount_minor=amount.minor,
        currency=amount.currency,
        created_at=now,
        expires_at=now + timedelta(seconds=ttl_seconds),
        status="active",
    )
    session.add(link)
    detail = f"top-up {amount.minor} {amount.currency}"
    audit(session, now, "billing", "payment_link_created", "account", account.id, detail)
    return link.to_dto(now)


def low_balance_level(account: Account) -> dto.Money | None:
    minor = account.low_balance_alert_minor
    return None if minor is None else dto.Money(minor, account.currency)


def set_level(
    session: AsyncSession, account: Account, level: dto.Money | None, actor: str, now: datetime
) -> dto.Money | None:
    """Set or (None) turn off the low-balance level; audited when it changes."""
    if account.billing_type != "prepaid":
        raise InvalidRequestError("low-balance warnings are for prepaid accounts")
    if level is not None:
        _check_level(account, level)
    before = account.low_balance_alert_minor
    account.low_balance_alert_minor = None if level is None else level.minor
    if before != account.low_balance_alert_minor:
        detail = f"{_shown(before)} → {_shown(account.low_balance_alert_minor)} {account.currency}"
        audit(session, now, actor, "low_balance_level_set", "account", account.id, detail)
    return low_balance_level(account)


def _check_amount(account: Account, amount: dto.Money) -> None:
    if account.billing_type != "prepaid":
        raise InvalidRequestError("only prepaid accounts are topped up; postpaid pays its bill")
    if amount.currency != account.currency:
        raise InvalidRequestError(f"this account is in {account.currency}")
    low, high = top_up_limits(account.currency)
    if not low <= amount <= high:
        raise InvalidRequestError(f"a top-up is from {low.amount} to {high.amount}")


def _check_level(account: Account, level: dto.Money) -> None:
    if level.currency != account.currency:
        raise InvalidRequestError(f"this account is in {account.currency}")
    if not 0 < level.minor <= dto.Money.from_decimal(LEVEL_MAX, account.currency).minor:
        raise InvalidRequestError(f"the level must be more than zero and at most {LEVEL_MAX}")


def _shown(minor: int | None) -> str:
    return "off" if minor is None else str(minor)
