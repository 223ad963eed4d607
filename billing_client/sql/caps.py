"""Spending caps (bill-shock protection): set, change or remove the cap, consent to go on
past it, and the bar that enforces it when — and only when — the customer asked for one.

The cap bar is a `barrings` row of type "spend_cap" on each active line of the account. It
bars chargeable usage only: a lost-or-stolen or full bar replaces it (`SqlBillingClient`),
and nothing here ever lifts another type of bar. Its key names the line, the cycle and how
many cap bars the line had this cycle before, so two scans at once bar a line once, and a
line can be barred again after the customer raised the cap and then went past it.
Every change is audited; the functions run inside the caller's locked transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from billing_client import types as dto
from billing_client.errors import InvalidRequestError
from billing_client.sql.audit import audit
from billing_client.sql.cycles import bill_cycle
from billing_client.sql.models import Account, Barring, Charge, Line
from billing_client.sql.reads import local_today

CAP_BAR = "spend_cap"
CAP_REASON = "spending limit reached: chargeable usage barred"
ALERT_PERCENT = 80
MIN_ALERT_PERCENT = 50
ACTIONS = ("notice", "bar")


async def read(session: AsyncSession, account: Account, now: datetime) -> dto.BillLimit:
    """Where the account's cap stands this cycle."""
    today = local_today(account.timezone, now)
    start, end = bill_cycle(today, account.bill_cycle_day)
    unbilled = dto.Money(await unbilled_minor(session, account.id), account.currency)
    limit = account.bill_limit_minor
    return dto.BillLimit(
        account_id=account.id,
        limit=dto.Money(limit, account.currency) if limit else None,
        alert_percent=account.bill_limit_alert_percent or ALERT_PERCENT,
        action="bar" if account.bill_limit_action == "bar" else "notice",
        consent_until=account.bill_limit_consent_until,
        unbilled=unbilled,
        cycle_start=start,
        cycle_end=end,
        capped_lines=tuple(line.msisdn for line, _ in await _cap_bars(session, account.id)),
    )


async def set_limit(
    session: AsyncSession,
    account: Account,
    change: dto.LimitChange,
    *,
    actor: str,
    now: datetime,
) -> dto.BillLimit:
    """Set, change or remove the cap; a cap bar that no longer applies is lifted."""
    _check(change, account.currency)
    before = _describe(account)
    _apply(account, change)
    after = _describe(account)
    if after != before:
        action = "bill_limit_set" if account.bill_limit_minor else "bill_limit_removed"
        audit(session, now, actor, action, "account", account.id, f"{before} → {after}")
    limit = await read(session, account, now)
    if not (limit.reached and limit.action == "bar"):
        await _lift_cap_bars(session, account.id, actor=actor, now=now)
    return await read(session, account, now)


async def consent(
    session: AsyncSession, account: Account, *, actor: str, now: datetime
) -> dto.BillLimit:
    """CONTINUE: no cap bar for the rest of the cycle; lifts the cap bars there are."""
    if not account.bill_limit_minor:
        raise InvalidRequestError("this account has no spending limit")
    limit = await read(session, account, now)
    if account.bill_limit_consent_until != limit.cycle_end:
        account.bill_limit_consent_until = limit.cycle_end
        detail = f"no spending-limit bar until {limit.cycle_end.isoformat()}"
        audit(session, now, actor, "bill_limit_continue", "account", account.id, detail)
    await _lift_cap_bars(session, account.id, actor=actor, now=now)
    return await read(session, account, now)


async def bar_if_reached(
    session: AsyncSession, account: Account, *, actor: str, now: datetime
) -> dto.CapBarResult:
    """Bar chargeable usage on the account's active lines when the cap is reached, the customer
    chose barring and has not consented to go on this cycle; else nothing."""
    limit = await read(session, account, now)
    today = local_today(account.timezone, now)
    if not _bars(limit, today):
        return dto.CapBarResult(limit)
    barred = []
    for line in await _active_lines(session, account.id):
        await _cap_bar(session, line, limit.cycle_start, actor=actor, now=now)
        barred.append(line.to_dto())
    return dto.CapBarResult(await read(session, account, now), tuple(barred))


def _bars(limit: dto.BillLimit, today: date) -> bool:
    return limit.reached and limit.action == "bar" and not limit.consented_on(today)


# --- changes ----------------------------------------------------------------------------------
def _check(change: dto.LimitChange, currency: str) -> None:
    if change.limit is not None and change.limit.currency != currency:
        raise InvalidRequestError(f"the limit must be in the account's currency ({currency})")
    if change.limit is not None and change.limit.minor <= 0:
        raise InvalidRequestError("the limit must be more than zero")
    if change.action is not None and change.action not in ACTIONS:
        raise InvalidRequestError("the action must be 'notice' or 'bar'")
    percent = change.alert_percent
    if percent is not None and not MIN_ALERT_PERCENT <= percent <= 100:
        raise InvalidRequestError(f"the warning level must be {MIN_ALERT_PERCENT}–100 %")


def _apply(account: Account, change: dto.LimitChange) -> None:
    if change.remove:
        account.bill_limit_minor = None
        account.bill_limit_alert_percent = None
        account.bill_limit_action = None
        account.bill_limit_consent_until = None
        return
    if change.limit is not None:
        account.bill_limit_minor = change.limit.minor
        account.bill_limit_alert_percent = account.bill_limit_alert_percent or ALERT_PERCENT
    if change.action is not None:
        account.bill_limit_action = None if change.action == "notice" else change.action
    if change.alert_percent is not None:
        account.bill_limit_alert_percent = change.alert_percent


def _describe(account: Account) -> str:
    if not account.bill_limit_minor:
        return "no limit"
    amount = dto.Money(account.bill_limit_minor, account.currency).amount
    percent = account.bill_limit_alert_percent or ALERT_PERCENT
    action = "bar" if account.bill_limit_action == "bar" else "notice"
    return f"{amount} {account.currency}, warning at {percent} %, {action} at 100 %"


# --- the cap bar ------------------------------------------------------------------------------
async def _cap_bar(
    session: AsyncSession, line: Line, cycle_start: date, *, actor: str, now: datetime
) -> None:
    earlier = await _cap_bars_this_cycle(session, line.id, cycle_start)
    line.status, line.barred_reason, line.barred_at = "barred", CAP_REASON, now
    barring = Barring(
        line_id=line.id,
        type=CAP_BAR,
        reason=CAP_REASON,
        applied_by=actor[:80],
        applied_at=now,
        idempotency_key=f"{CAP_BAR}:{line.id}:{cycle_start.isoformat()}:{earlier}",
    )
    session.add(barring)
    await session.flush()
    audit(session, now, actor, "line_barred", "line", line.id, f"{barring.reference} {CAP_BAR}")


async def _lift_cap_bars(
    session: AsyncSession, account_id: int, *, actor: str, now: datetime
) -> None:
    for line, barring in await _cap_bars(session, account_id):
        barring.lifted_at = now
        line.status, line.barred_reason, line.barred_at = "active", None, None
        detail = f"{barring.reference} {CAP_BAR} lifted"
        audit(session, now, actor, "line_unbarred", "line", line.id, detail)


async def _cap_bars(session: AsyncSession, account_id: int) -> Sequence[tuple[Line, Barring]]:
    """The account's lines under an active cap bar, with the bar."""
    query = (
        select(Line, Barring)
        .join(Barring, Barring.line_id == Line.id)
        .where(Line.account_id == account_id, Barring.type == CAP_BAR)
        .where(Barring.lifted_at.is_(None))
        .order_by(Line.id)
    )
    return [(line, barring) for line, barring in (await session.execute(query)).all()]


async def _cap_bars_this_cycle(session: AsyncSession, line_id: int, cycle_start: date) -> int:
    prefix = f"{CAP_BAR}:{line_id}:{cycle_start.isoformat()}:"
    query = select(func.count()).where(Barring.idempotency_key.startswith(prefix))
    return int(await session.scalar(query) or 0)


async def _active_lines(session: AsyncSession, account_id: int) -> Sequence[Line]:
    """Lines in service with no bar of any kind (a lost-or-stolen bar stays as it is)."""
    query = (
        select(Line)
        .options(joinedload(Line.plan, innerjoin=True))
        .where(Line.account_id == account_id, Line.status == "active")
        .order_by(Line.id)
        .with_for_update(of=Line)
    )
    return (await session.scalars(query)).all()


async def unbilled_minor(session: AsyncSession, account_id: int) -> int:
    total = await session.scalar(
        select(func.coalesce(func.sum(Charge.amount_minor), 0)).where(
            Charge.account_id == account_id, Charge.invoice_id.is_(None)
        )
    )
    return int(total or 0)
