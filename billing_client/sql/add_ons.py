"""Add-ons in the embedded core: what a line can add now, and buying one — once, audited, in
the caller's transaction on the locked account (client.py).

Every add-on sold here is one-off: a data add-on adds its MB to the line's allowance until the
end of the cycle (its usage counter grows at once); a roaming add-on lasts its days from today.
Postpaid pays with a one-off `Charge` (source "add_on:<id>") on the next bill, prepaid from the
balance (refused with the shortfall when it is lower). Recurring add-ons are modelled
(`AddOn.recurring`) but not sold here: renewing them each cycle is the billing run's job, which
this core does not have. Lines whose data is unlimited are not offered data add-ons.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from billing_client import types as dto
from billing_client.errors import (
    BillingUnavailableError,
    ConflictError,
    InvalidRequestError,
    PriceChangedError,
)
from billing_client.sql.audit import audit
from billing_client.sql.models import Account, AddOn, Line, LineAddOn
from billing_client.sql.plans import (
    Request,
    line_cycle,
    owned_line,
    pay,
    prepaid_balance,
    set_allowances,
    usage_counter,
)
from billing_client.sql.reads import local_today


async def options(
    session: AsyncSession, account: Account, line_id: int, now: datetime
) -> dto.AddOnOptions:
    today = local_today(account.timezone, now)
    line = await owned_line(session, account, line_id, lock=False)
    cycle = await line_cycle(session, account, line.id, today)
    return dto.AddOnOptions(
        line=line.to_dto(),
        offers=tuple(_offer_dto(add_on) for add_on in await _add_ons(session, account, line)),
        active=tuple(await _active(session, line.id, today)),
        cycle_end=cycle[1],
        prepaid_balance=await prepaid_balance(session, account),
    )


async def buy(
    session: AsyncSession, account: Account, request: Request, now: datetime
) -> dto.AddOnPurchase:
    """Buy the add-on for the line (see the module docstring)."""
    earlier = await _purchase_by_key(session, request.key)
    if earlier is not None:
        return await _replayed_purchase(session, account, earlier, request)
    line = await owned_line(session, account, request.line_id)
    if line.status != "active":
        raise InvalidRequestError("add-ons can only be added to an active line")
    add_on = await _add_on(session, account, line, request.code)
    if add_on.price_minor != request.expected_minor:
        raise PriceChangedError(f"{add_on.code} now costs {add_on.price_minor}")
    today = local_today(account.timezone, now)
    cycle = await line_cycle(session, account, line.id, today)
    row = _new_purchase(line, add_on, request, _period(add_on, cycle, today), now)
    session.add(row)
    await session.flush()
    price = dto.Money(add_on.price_minor, add_on.currency)
    await pay(session, account, line, f"add_on:{row.id}", f"{add_on.name} add-on", price, now)
    if add_on.kind == "data":
        await set_allowances(session, line, line.plan, today)
    detail = f"{row.reference} {add_on.code} {add_on.price_minor} {add_on.currency}"
    audit(session, now, request.actor, "add_on_bought", "line", line.id, detail)
    return await _purchase_dto(session, account, row, add_on, line, created=True)


async def replayed_purchase(
    session: AsyncSession, account_id: int, request: Request
) -> dto.AddOnPurchase:
    """After a lost race (IntegrityError): the purchase the winner recorded."""
    account = await session.get(Account, account_id)
    row = await _purchase_by_key(session, request.key)
    if account is None or row is None:
        raise BillingUnavailableError("add-on conflict could not be resolved")
    return await _replayed_purchase(session, account, row, request)


async def _replayed_purchase(
    session: AsyncSession, account: Account, row: LineAddOn, request: Request
) -> dto.AddOnPurchase:
    if row.line_id != request.line_id or row.add_on.code != request.code:
        raise ConflictError("this idempotency key was used for another add-on")
    line = await owned_line(session, account, row.line_id)
    return await _purchase_dto(session, account, row, row.add_on, line, created=False)


async def _purchase_dto(
    session: AsyncSession,
    account: Account,
    row: LineAddOn,
    add_on: AddOn,
    line: Line,
    *,
    created: bool,
) -> dto.AddOnPurchase:
    allowance = None
    if add_on.kind == "data":
        counter = await usage_counter(session, line.id, "data", row.starts_on)
        allowance = None if counter is None else counter.allowance
    return dto.AddOnPurchase(
        reference=row.reference,
        line=line.to_dto(),
        add_on=_offer_dto(add_on),
        price=dto.Money(row.price_minor, row.currency),
        paid_from="balance" if account.billing_type == "prepaid" else "bill",
        starts_on=row.starts_on,
        ends_on=row.ends_on,
        created=created,
        data_allowance_mb=allowance,
        prepaid_balance=await prepaid_balance(session, account),
    )


def _new_purchase(
    line: Line, add_on: AddOn, request: Request, period: tuple[date, date], now: datetime
) -> LineAddOn:
    return LineAddOn(
        line_id=line.id,
        add_on_id=add_on.id,
        price_minor=add_on.price_minor,
        currency=add_on.currency,
        starts_on=period[0],
        ends_on=period[1],
        bought_at=now,
        actor=request.actor[:80],
        idempotency_key=request.key,
    )


def _period(add_on: AddOn, cycle: tuple[date, date], today: date) -> tuple[date, date]:
    """Data: today to the end of the cycle. Roaming: its days from today."""
    if add_on.kind == "roaming":
        return today, today + timedelta(days=max(add_on.roaming_days or 1, 1) - 1)
    return today, cycle[1]


async def _add_on(session: AsyncSession, account: Account, line: Line, code: str) -> AddOn:
    for add_on in await _add_ons(session, account, line):
        if add_on.code == code:
            return add_on
    raise InvalidRequestError(f"add-on {code[:40]!r} is not offered for this line")


async def _add_ons(session: AsyncSession, account: Account, line: Line) -> Sequence[AddOn]:
    """What the line can buy: one-off add-ons for its billing type and currency; no extra
    data for a line whose data is unlimited already."""
    query = (
        select(AddOn)
        .where(AddOn.offered.is_(True), AddOn.recurring.is_(False))
        .where(AddOn.billing_type.in_((account.billing_type, "any")))
        .where(AddOn.currency == account.currency)
        .order_by(AddOn.kind, AddOn.price_minor, AddOn.id)
    )
    if line.plan.data_mb is None:
        query = query.where(AddOn.kind != "data")
    return (await session.scalars(query)).all()


async def _active(session: AsyncSession, line_id: int, today: date) -> list[dto.ActiveAddOn]:
    query = (
        select(LineAddOn)
        .options(joinedload(LineAddOn.add_on))
        .where(LineAddOn.line_id == line_id)
        .where(LineAddOn.starts_on <= today, LineAddOn.ends_on >= today)
        .order_by(LineAddOn.id)
    )
    return [
        dto.ActiveAddOn(
            row.reference,
            row.add_on.name,
            "roaming" if row.add_on.kind == "roaming" else "data",
            row.starts_on,
            row.ends_on,
        )
        for row in await session.scalars(query)
    ]


def _offer_dto(add_on: AddOn) -> dto.AddOnOffer:
    return dto.AddOnOffer(
        code=add_on.code,
        name=add_on.name,
        kind="roaming" if add_on.kind == "roaming" else "data",
        price=dto.Money(add_on.price_minor, add_on.currency),
        recurring=add_on.recurring,
        data_mb=add_on.data_mb,
        roaming_days=add_on.roaming_days,
    )


async def _purchase_by_key(session: AsyncSession, key: str) -> LineAddOn | None:
    query = select(LineAddOn).options(joinedload(LineAddOn.add_on))
    return await session.scalar(query.where(LineAddOn.idempotency_key == key))
