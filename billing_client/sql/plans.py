"""Plan changes in the embedded core: what a line can move to, what it costs, and the change
itself — once, audited, inside the caller's transaction (client.py locks the account first, so
two confirmations of the same change queue up and the second finds the first). Also the line,
cycle, allowance and paying helpers `add_ons` shares.

**Upgrade or downgrade.** A plan's line price is its monthly price over the lines it includes
(a family plan of 2 lines at $90.00 costs $45.00 a line). Moving to a higher line price is an
upgrade: it takes effect today, and the difference is charged for the rest of the cycle. Any
other move (cheaper, or the same price) takes effect on the first day of the next cycle, free;
until then the line keeps its plan, and the change waits in `plan_changes` as "pending".

**Proration.** charge = difference × days_left / days_in_cycle, where days_left counts today
(the new plan is used today) up to the cycle's last day, rounded half up to the minor unit —
once, on the total, in integer arithmetic, so it is exact and at most half a cent from the true
share. Postpaid: a one-off `Charge` on the next bill (before tax; tax is added per invoice).
Prepaid: a debit on the ledger, refused when the balance is short.

The cycle is the line's current allowance cycle (its usage counters: a prepaid bundle runs 30
days) or, without counters, the account's monthly bill cycle.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from billing_client import types as dto
from billing_client.errors import (
    BillingUnavailableError,
    ConflictError,
    InsufficientBalanceError,
    InvalidRequestError,
    NotFoundError,
    PriceChangedError,
)
from billing_client.sql.audit import audit
from billing_client.sql.cycles import bill_cycle
from billing_client.sql.models import (
    Account,
    AddOn,
    Charge,
    Line,
    LineAddOn,
    Plan,
    PlanChange,
    PrepaidTransaction,
    UsageCounter,
)
from billing_client.sql.reads import local_today

ONE_OFF = "one_off"  # the Charge kind of prorated upgrades and add-ons


@dataclass(frozen=True, slots=True)
class Request:
    """A confirmed change or purchase: the line, the plan or add-on code, what the customer
    was told it costs (minor units) and the request's idempotency key."""

    line_id: int
    code: str
    expected_minor: int
    key: str
    actor: str


# --- prices -----------------------------------------------------------------------------------
def prorate(difference_minor: int, days_left: int, days_in_cycle: int) -> int:
    """difference × days_left / days_in_cycle, rounded half up to the minor unit (exact).

    >>> prorate(2000, 20, 31)  # $20.00 for 20 of 31 days: 1290.32… → $12.90
    1290
    >>> prorate(1500, 1, 30)  # 50.0 exactly
    50
    >>> prorate(1, 1, 2)  # half a cent rounds up
    1
    """
    if difference_minor < 0 or not 0 < days_left <= days_in_cycle:
        raise ValueError("prorate a non-negative difference over part of a cycle")
    return (2 * difference_minor * days_left + days_in_cycle) // (2 * days_in_cycle)


def line_price(plan: Plan) -> int:
    """What one line of the plan costs a month (the seed keeps family prices divisible)."""
    return plan.monthly_price_minor // max(plan.lines_included, 1)


def plan_info(plan: Plan) -> dto.PlanInfo:
    return dto.PlanInfo(
        code=plan.code,
        name=plan.name,
        monthly_price=dto.Money(plan.monthly_price_minor, plan.currency),
        line_price=dto.Money(line_price(plan), plan.currency),
        lines_included=plan.lines_included,
        data_mb=plan.data_mb,
        voice_min=plan.voice_min,
        sms=plan.sms,
    )


def offer(plan: Plan, current: Plan, cycle: tuple[date, date], today: date) -> dto.PlanOffer:
    """Moving from `current` to `plan` today: an upgrade now and its charge, or the next cycle."""
    start, end = cycle
    days_in_cycle, days_left = (end - start).days + 1, (end - today).days + 1
    difference = line_price(plan) - line_price(current)
    upgrade = difference > 0
    charge = prorate(difference, days_left, days_in_cycle) if upgrade else 0
    return dto.PlanOffer(
        plan=plan_info(plan),
        direction="upgrade" if upgrade else "downgrade",
        effective_on=today if upgrade else end + timedelta(days=1),
        charge=dto.Money(charge, plan.currency),
        days_left=days_left,
        days_in_cycle=days_in_cycle,
    )


# --- plan changes -----------------------------------------------------------------------------
async def options(
    session: AsyncSession, account: Account, line_id: int, now: datetime
) -> dto.PlanOptions:
    today = local_today(account.timezone, now)
    await apply_due(session, now, account_id=account.id)
    line = await owned_line(session, account, line_id)
    cycle = await line_cycle(session, account, line.id, today)
    plans = await _candidates(session, account, line.plan)
    pending = await _pending(session, line.id)
    return dto.PlanOptions(
        line=line.to_dto(),
        current=plan_info(line.plan),
        cycle_start=cycle[0],
        cycle_end=cycle[1],
        offers=tuple(offer(plan, line.plan, cycle, today) for plan in plans),
        pending=None if pending is None else _pending_dto(pending),
        prepaid_balance=await prepaid_balance(session, account),
    )


async def change(
    session: AsyncSession, account: Account, request: Request, now: datetime
) -> dto.PlanChangeResult:
    """Apply an upgrade now or schedule a downgrade (see the module docstring)."""
    earlier = await _change_by_key(session, request.key)
    if earlier is not None:
        return await _replayed(session, account, earlier, request.line_id)
    await apply_due(session, now, account_id=account.id)
    line = await owned_line(session, account, request.line_id)
    if line.status == "terminated":
        raise InvalidRequestError("this line is terminated")
    done = await _already_done(session, account, line, request.code)
    if done is not None:  # a concurrent confirmation (another key) made this change first
        return done
    target = await _target(session, account, line, request.code)
    today = local_today(account.timezone, now)
    quote = offer(target, line.plan, await line_cycle(session, account, line.id, today), today)
    if quote.charge.minor != request.expected_minor:
        raise PriceChangedError(f"the change now costs {quote.charge.minor}, not what was shown")
    await _cancel_pending(session, line, request.actor, now)
    row = _new_change(line, target, quote, request, now)
    session.add(row)
    await session.flush()
    if quote.direction == "upgrade":
        await _upgrade(session, account, line, target, row, quote, now)
    else:
        detail = f"{row.reference} {line.plan.code} → {target.code} from {row.effective_on}"
        audit(session, now, request.actor, "plan_change_scheduled", "line", line.id, detail)
    return await _result(session, account, row, line, created=True)


async def replayed_change(
    session: AsyncSession, account_id: int, request: Request
) -> dto.PlanChangeResult:
    """After a lost race (IntegrityError): the change the winner recorded."""
    account = await session.get(Account, account_id)
    row = await _change_by_key(session, request.key) or await _pending(session, request.line_id)
    if account is None or row is None:
        raise BillingUnavailableError("plan change conflict could not be resolved")
    return await _replayed(session, account, row, request.line_id)


async def apply_due(session: AsyncSession, now: datetime, *, account_id: int | None = None) -> int:
    """Apply the pending changes whose first day has come where the customer lives."""
    query = (
        select(PlanChange, Account.timezone)
        .join(Line, Line.id == PlanChange.line_id)
        .join(Account, Account.id == Line.account_id)
        .where(PlanChange.status == "pending")
        .order_by(PlanChange.id)
    )
    if account_id is not None:
        query = query.where(Line.account_id == account_id)
    applied = 0
    for row, timezone in (await session.execute(query.with_for_update(of=PlanChange))).all():
        if row.effective_on <= local_today(timezone, now):
            await _apply_pending(session, row, now)
            applied += 1
    return applied


async def _apply_pending(session: AsyncSession, row: PlanChange, now: datetime) -> None:
    line = await _line(session, row.line_id)
    target = await session.get_one(Plan, row.to_plan_id)
    line.plan_id, line.plan = target.id, target
    row.status, row.applied_at = "applied", now
    await set_allowances(session, line, target, row.effective_on)
    detail = f"{row.reference} now on {target.code}"
    audit(session, now, "billing", "plan_change_applied", "line", line.id, detail)


async def _upgrade(
    session: AsyncSession,
    account: Account,
    line: Line,
    target: Plan,
    row: PlanChange,
    quote: dto.PlanOffer,
    now: datetime,
) -> None:
    days = f"{quote.days_left}/{quote.days_in_cycle} days"
    description = f"Plan change to {target.name} ({days})"
    await pay(session, account, line, f"plan_change:{row.id}", description, quote.charge, now)
    before = line.plan.code
    line.plan_id, line.plan = target.id, target
    row.status, row.applied_at = "applied", now
    await set_allowances(session, line, target, quote.effective_on)
    detail = f"{row.reference} {before} → {target.code}, {quote.charge.minor} {row.currency}"
    audit(session, now, row.actor, "plan_changed", "line", line.id, detail)


async def _cancel_pending(session: AsyncSession, line: Line, actor: str, now: datetime) -> None:
    """A new choice replaces the change waiting for the next cycle."""
    pending = await _pending(session, line.id)
    if pending is None:
        return
    pending.status, pending.cancelled_at = "cancelled", now
    audit(session, now, actor, "plan_change_cancelled", "line", line.id, pending.reference)
    await session.flush()  # before the new row: one pending change per line


async def _already_done(
    session: AsyncSession, account: Account, line: Line, code: str
) -> dto.PlanChangeResult | None:
    """The change to `code` that is already in place or pending for the line, if any."""
    query = (
        select(PlanChange)
        .join(Plan, Plan.id == PlanChange.to_plan_id)
        .where(PlanChange.line_id == line.id, Plan.code == code)
        .where(PlanChange.status != "cancelled")
        .order_by(PlanChange.id.desc())
        .limit(1)
    )
    row = await session.scalar(query)
    in_place = row is not None and row.status == "applied" and line.plan.code == code
    if row is None or not (in_place or row.status == "pending"):
        return None
    return await _result(session, account, row, line, created=False)


async def _replayed(
    session: AsyncSession, account: Account, row: PlanChange, line_id: int
) -> dto.PlanChangeResult:
    if row.line_id != line_id:
        raise ConflictError("this idempotency key was used to change another line's plan")
    line = await owned_line(session, account, line_id)
    return await _result(session, account, row, line, created=False)


async def _result(
    session: AsyncSession, account: Account, row: PlanChange, line: Line, *, created: bool
) -> dto.PlanChangeResult:
    query = select(Plan.id, Plan.name).where(Plan.id.in_({row.from_plan_id, row.to_plan_id}))
    names = {plan_id: name for plan_id, name in (await session.execute(query)).all()}
    return dto.PlanChangeResult(
        reference=row.reference,
        line=line.to_dto(),
        from_plan=names[row.from_plan_id],
        to_plan=names[row.to_plan_id],
        direction="upgrade" if row.direction == "upgrade" else "downgrade",
        effective_on=row.effective_on,
        charge=dto.Money(row.charge_minor, row.currency),
        created=created,
        prepaid_balance=await prepaid_balance(session, account),
    )


def _new_change(
    line: Line, target: Plan, quote: dto.PlanOffer, request: Request, now: datetime
) -> PlanChange:
    return PlanChange(
        line_id=line.id,
        from_plan_id=line.plan_id,
        to_plan_id=target.id,
        direction=quote.direction,
        status="pending",
        effective_on=quote.effective_on,
        charge_minor=quote.charge.minor,
        currency=quote.charge.currency,
        requested_at=now,
        actor=request.actor[:80],
        idempotency_key=request.key,
    )


async def _target(session: AsyncSession, account: Account, line: Line, code: str) -> Plan:
    for plan in await _candidates(session, account, line.plan):
        if plan.code == code:
            return plan
    raise InvalidRequestError(f"plan {code[:40]!r} is not offered for this line")


async def _candidates(session: AsyncSession, account: Account, current: Plan) -> Sequence[Plan]:
    """Offered plans of the account's billing type and currency a line of `current` can take:
    a family line moves between family tiers (the same number of lines), cheapest first."""
    query = (
        select(Plan)
        .where(Plan.offered.is_(True), Plan.id != current.id)
        .where(Plan.billing_type == account.billing_type, Plan.currency == account.currency)
        .where(Plan.lines_included == current.lines_included)
        .order_by(Plan.monthly_price_minor, Plan.id)
    )
    return (await session.scalars(query)).all()


async def _pending(session: AsyncSession, line_id: int) -> PlanChange | None:
    query = select(PlanChange).where(PlanChange.line_id == line_id, PlanChange.status == "pending")
    return await session.scalar(query.options(joinedload(PlanChange.to_plan)))


def _pending_dto(row: PlanChange) -> dto.PendingPlanChange:
    return dto.PendingPlanChange(row.reference, row.to_plan.name, row.effective_on)


async def _change_by_key(session: AsyncSession, key: str) -> PlanChange | None:
    query = select(PlanChange).where(PlanChange.idempotency_key == key)
    return await session.scalar(query.options(joinedload(PlanChange.to_plan)))


# --- shared: lines, cycles, allowances, paying --------------------------------------------------
async def owned_line(
    session: AsyncSession, account: Account, line_id: int, *, lock: bool = True
) -> Line:
    """The account's line with its plan (locked); someone else's line is "not found"."""
    line = await _line(session, line_id, lock=lock)
    if line.account_id != account.id:
        raise NotFoundError(f"line {line_id} not found for account {account.id}")
    return line


async def _line(session: AsyncSession, line_id: int, *, lock: bool = True) -> Line:
    query = select(Line).options(joinedload(Line.plan, innerjoin=True)).where(Line.id == line_id)
    line = await session.scalar(query.with_for_update(of=Line) if lock else query)
    if line is None:
        raise NotFoundError(f"line {line_id} not found")
    return line


async def line_cycle(
    session: AsyncSession, account: Account, line_id: int, day: date
) -> tuple[date, date]:
    """The line's allowance cycle holding `day`; else the account's bill cycle."""
    query = (
        select(UsageCounter.cycle_start, UsageCounter.cycle_end)
        .where(UsageCounter.line_id == line_id)
        .where(UsageCounter.cycle_start <= day, UsageCounter.cycle_end >= day)
        .order_by(UsageCounter.cycle_start.desc())
        .limit(1)
    )
    found = (await session.execute(query)).first()
    return (found[0], found[1]) if found else bill_cycle(day, account.bill_cycle_day)


async def usage_counter(
    session: AsyncSession, line_id: int, kind: str, day: date
) -> UsageCounter | None:
    query = (
        select(UsageCounter)
        .where(UsageCounter.line_id == line_id, UsageCounter.kind == kind)
        .where(UsageCounter.cycle_start <= day, UsageCounter.cycle_end >= day)
    )
    return await session.scalar(query)


async def set_allowances(session: AsyncSession, line: Line, plan: Plan, day: date) -> None:
    """The line's counters of the cycle holding `day`: the plan's allowances, plus the data
    add-ons bought in that cycle. A data counter is created if the cycle has none yet."""
    account = await session.get_one(Account, line.account_id)
    cycle = await line_cycle(session, account, line.id, day)
    extra = await _add_on_mb(session, line.id, cycle)
    allowances = {"data": plan.data_mb, "voice": plan.voice_min, "sms": plan.sms}
    for kind, allowance in allowances.items():
        counter = await usage_counter(session, line.id, kind, day)
        total = None if allowance is None else allowance + (extra if kind == "data" else 0)
        if counter is not None:
            counter.allowance = total
        elif kind == "data" and extra:
            session.add(_newcounter(line.id, total, cycle))
    await session.flush()


def _newcounter(line_id: int, allowance: int | None, cycle: tuple[date, date]) -> UsageCounter:
    return UsageCounter(
        line_id=line_id,
        kind="data",
        unit="MB",
        used=0,
        allowance=allowance,
        cycle_start=cycle[0],
        cycle_end=cycle[1],
    )


async def _add_on_mb(session: AsyncSession, line_id: int, cycle: tuple[date, date]) -> int:
    query = (
        select(func.coalesce(func.sum(AddOn.data_mb), 0))
        .join(LineAddOn, LineAddOn.add_on_id == AddOn.id)
        .where(LineAddOn.line_id == line_id, AddOn.kind == "data")
        .where(LineAddOn.starts_on >= cycle[0], LineAddOn.starts_on <= cycle[1])
    )
    return int(await session.scalar(query) or 0)


async def prepaid_balance(session: AsyncSession, account: Account) -> dto.Money | None:
    if account.billing_type != "prepaid":
        return None
    query = select(func.coalesce(func.sum(PrepaidTransaction.amount_minor), 0)).where(
        PrepaidTransaction.account_id == account.id
    )
    return dto.Money(int(await session.scalar(query) or 0), account.currency)


async def pay(
    session: AsyncSession,
    account: Account,
    line: Line,
    source: str,
    description: str,
    price: dto.Money,
    now: datetime,
) -> None:
    """A one-off charge on the next bill (postpaid) or a debit from the balance (prepaid, which
    must cover it). Nothing for a zero price. `source` makes either row unique."""
    if price.minor <= 0:
        return
    balance = await prepaid_balance(session, account)
    if balance is None:
        session.add(_charge(line, source, description, price, now))
        return
    if balance < price:
        raise InsufficientBalanceError(balance, price)
    kind = source.partition(":")[0]
    session.add(
        PrepaidTransaction(
            account_id=account.id,
            kind=kind,
            description=description[:200],
            amount_minor=-price.minor,
            currency=price.currency,
            at=now,
            idempotency_key=source,
        )
    )


def _charge(line: Line, source: str, description: str, price: dto.Money, now: datetime) -> Charge:
    return Charge(
        account_id=line.account_id,
        line_id=line.id,
        kind=ONE_OFF,
        description=description[:200],
        quantity=Decimal(1),
        unit="each",
        amount_minor=price.minor,
        currency=price.currency,
        rated_at=now,
        source_id=source,
    )
