"""SIM changes, number transfers and the lock that guards both, in the embedded core. Functions
over the caller's session (client.py owns the transactions and retries).

The rules:
- a SIM order or a transfer of a number is refused while the account's lock is on, or while
  the line is barred as lost or stolen (that locks it by itself: whoever has the phone must
  not be able to move the number);
- at most one open SIM order per line; activating it swaps the line's ICCID, so the old SIM
  stops working at once (what "barred" means for a SIM that is no longer the line's);
- a transfer waits for the holder's approval (`approved`, after strong verification in chat)
  before the billing system may complete it; completing it ends the line here.
Writes lock the account row first (FOR UPDATE on PostgreSQL; SQLite's write transaction holds
its lock), so a lock turned on and an order placed at once are ordered. Every change is
audited.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from billing_client import security_types as sec
from billing_client.errors import InvalidRequestError, NotFoundError, SecurityLockedError
from billing_client.sql.audit import audit
from billing_client.sql.models import (
    Account,
    Barring,
    Line,
    PortOutRequest,
    SecurityLock,
    SimOrder,
)

LOST_STOLEN = "lost_stolen"
MAX_CARRIER = 80
ICCID_DIGITS = (18, 22)


# --- the lock ---------------------------------------------------------------------------------
async def lock_of(session: AsyncSession, account_id: int) -> sec.SecurityLock:
    """The account's lock and its lines barred as lost or stolen."""
    row = await session.get(SecurityLock, account_id)
    lost = await _lost_numbers(session, account_id)
    if row is None:
        return sec.SecurityLock(account_id, False, None, lost)
    return sec.SecurityLock(account_id, row.locked, row.changed_at, lost)


async def set_lock(
    session: AsyncSession, account_id: int, locked: bool, *, actor: str, now: datetime
) -> sec.SecurityLock:
    """Turn the lock on or off (audited); setting what it already is changes nothing."""
    await _locked_account(session, account_id)
    row = await session.get(SecurityLock, account_id)
    if row is not None and row.locked == locked:
        return _unchanged(await lock_of(session, account_id))
    if row is None and not locked:
        return _unchanged(await lock_of(session, account_id))
    if row is None:
        row = SecurityLock(account_id=account_id, locked=locked, changed_at=now, changed_by="")
        session.add(row)
    row.locked, row.changed_at, row.changed_by = locked, now, actor[:80]
    audit(session, now, actor, "lock_on" if locked else "lock_off", "account", account_id)
    await session.flush()
    return await lock_of(session, account_id)


# --- SIM orders -------------------------------------------------------------------------------
async def order_sim(
    session: AsyncSession,
    line_id: int,
    kind: sec.SimKind,
    *,
    key: str,
    actor: str,
    now: datetime,
) -> sec.SimOrder:
    """Order a replacement SIM or eSIM once; the line's open order (or this key's) answers
    created=False. SecurityLockedError while the lock or a lost-or-stolen bar forbids it."""
    earlier = await session.scalar(select(SimOrder).where(SimOrder.idempotency_key == key))
    if earlier is not None:
        return await _sim_dto(session, earlier, created=False)
    line = await _line(session, line_id)
    await _locked_account(session, line.account_id)
    await _refuse_if_locked(session, line)
    pending = await _open_order(session, line.id)
    if pending is not None:
        return await _sim_dto(session, pending, created=False)
    order = SimOrder(
        account_id=line.account_id,
        line_id=line.id,
        kind=kind,
        status="ordered",
        old_iccid=line.iccid,
        requested_by=actor[:80],
        idempotency_key=key,
        ordered_at=now,
        reason="",
    )
    session.add(order)
    await session.flush()
    audit(session, now, actor, "sim_ordered", "line", line.id, f"{order.reference} {kind}")
    return await _sim_dto(session, order)


async def activate_sim(
    session: AsyncSession, reference: str, *, iccid: str | None, actor: str, now: datetime
) -> sec.SimOrder:
    """The new SIM takes over the line: its ICCID replaces the old one, which stops working.
    Active already: created=False. A cancelled order, or a line locked since, is refused."""
    order = await _order(session, reference, locked=True)
    if order.status == "active":
        return await _sim_dto(session, order, created=False)
    if order.status == "cancelled":
        raise InvalidRequestError(f"SIM order {order.reference} was cancelled")
    line = await _line(session, order.line_id)
    await _refuse_if_locked(session, line)
    new_iccid = _checked_iccid(iccid) if iccid else _made_up_iccid(order)
    old_iccid, line.iccid = line.iccid, new_iccid
    order.status, order.new_iccid, order.activated_at = "active", new_iccid, now
    detail = (
        f"{order.reference}: new SIM …{new_iccid[-4:]} active, old SIM …{old_iccid[-4:]} barred"
    )
    audit(session, now, actor, "sim_activated", "line", line.id, detail)
    await session.flush()
    return await _sim_dto(session, order)


async def cancel_sim(
    session: AsyncSession, reference: str, *, reason: str, actor: str, now: datetime
) -> sec.SimOrder:
    """Cancel an open order (audited); one that is not open any more answers created=False."""
    order = await _order(session, reference, locked=True)
    if order.status != "ordered":
        return await _sim_dto(session, order, created=False)
    order.status, order.cancelled_at, order.reason = "cancelled", now, reason[:200]
    audit(session, now, actor, "sim_cancelled", "line", order.line_id, order.reference)
    await session.flush()
    return await _sim_dto(session, order)


async def sim_orders(session: AsyncSession, account_id: int) -> list[sec.SimOrder]:
    """The account's SIM orders, newest first."""
    orders = await session.scalars(
        select(SimOrder)
        .where(SimOrder.account_id == account_id)
        .order_by(SimOrder.ordered_at.desc(), SimOrder.id.desc())
    )
    return [await _sim_dto(session, order) for order in orders]


async def sim_order(session: AsyncSession, reference: str) -> sec.SimOrder:
    return await _sim_dto(session, await _order(session, reference))


# --- transfers (port-outs) --------------------------------------------------------------------
async def request_port_out(
    session: AsyncSession,
    msisdn: str,
    carrier: str,
    *,
    source_id: str,
    actor: str,
    now: datetime,
) -> sec.PortOut:
    """Record another provider's request for a number: `pending`, or `refused` at once when
    the lock or a lost-or-stolen bar forbids it. The same `source_id` again answers the first
    request with created=False. NotFoundError for a number with no line here."""
    carrier = " ".join(carrier.split())[:MAX_CARRIER]
    if not carrier or not source_id:
        raise InvalidRequestError("a transfer request needs the gaining provider and an id")
    earlier = await _port_by_source(session, source_id)
    if earlier is not None:
        return await _port_dto(session, earlier, created=False)
    line = await session.scalar(select(Line).where(Line.msisdn == msisdn))
    if line is None:
        raise NotFoundError(f"no line has the number {msisdn}")
    await _locked_account(session, line.account_id)
    why = (await lock_of(session, line.account_id)).why_locked(line.msisdn)
    request = PortOutRequest(
        account_id=line.account_id,
        line_id=line.id,
        carrier=carrier,
        status="refused" if why else "pending",
        source_id=source_id[:160],
        requested_at=now,
        decided_at=now if why else None,
        reason=why or "",
    )
    session.add(request)
    await session.flush()
    action = "port_out_refused" if why else "port_out_requested"
    audit(session, now, actor, action, "line", line.id, f"{request.reference} to {carrier}")
    return await _port_dto(session, request)


async def decide_port_out(
    session: AsyncSession,
    reference: str,
    status: sec.PortOutStatus,
    *,
    reason: str,
    actor: str,
    now: datetime,
) -> sec.PortOut:
    """Move a transfer on: `approved` (the holder, after strong verification), `cancelled`
    (the holder's "Not me" or the operator) or `completed` (the billing system, once
    approved: the line ends here). Already there: created=False."""
    request = await _port(session, reference, locked=True)
    if request.status == status:
        return await _port_dto(session, request, created=False)
    line = await _line(session, request.line_id)
    _check_move(request, status)
    if status in ("approved", "completed"):
        await _refuse_if_locked(session, line)
    if status == "completed":
        line.status = "terminated"
    request.status, request.decided_at, request.reason = status, now, reason[:200]
    audit(session, now, actor, f"port_out_{status}", "line", line.id, request.reference)
    await session.flush()
    return await _port_dto(session, request)


async def port_outs(
    session: AsyncSession, *, account_id: int | None = None, open_only: bool = False
) -> list[sec.PortOut]:
    """Transfer requests, newest first: one account's or everyone's, open ones or all."""
    query = select(PortOutRequest).order_by(
        PortOutRequest.requested_at.desc(), PortOutRequest.id.desc()
    )
    if account_id is not None:
        query = query.where(PortOutRequest.account_id == account_id)
    if open_only:
        query = query.where(PortOutRequest.status.in_(sec.OPEN_PORT_OUTS))
    return [await _port_dto(session, request) for request in await session.scalars(query)]


async def port_out(session: AsyncSession, reference: str) -> sec.PortOut:
    return await _port_dto(session, await _port(session, reference))


# --- helpers ----------------------------------------------------------------------------------
_MOVES: dict[str, tuple[str, ...]] = {
    "approved": ("pending",),
    "cancelled": ("pending", "approved"),
    "completed": ("approved",),
}


def _check_move(request: PortOutRequest, status: sec.PortOutStatus) -> None:
    if request.status not in _MOVES.get(status, ()):
        why = " (the holder has not approved it)" if request.status == "pending" else ""
        raise InvalidRequestError(
            f"transfer {request.reference} is {request.status}, it cannot be {status}{why}"
        )


async def _refuse_if_locked(session: AsyncSession, line: Line) -> None:
    why = (await lock_of(session, line.account_id)).why_locked(line.msisdn)
    if why is not None:
        raise SecurityLockedError(why, line.msisdn)


async def _lost_numbers(session: AsyncSession, account_id: int) -> tuple[str, ...]:
    numbers = await session.scalars(
        select(Line.msisdn)
        .join(Barring, Barring.line_id == Line.id)
        .where(Line.account_id == account_id, Barring.lifted_at.is_(None))
        .where(Barring.type == LOST_STOLEN)
        .order_by(Line.id)
    )
    return tuple(numbers)


async def _locked_account(session: AsyncSession, account_id: int) -> Account:
    account = await session.scalar(
        select(Account).where(Account.id == account_id).with_for_update()
    )
    if account is None:
        raise NotFoundError(f"account {account_id} not found")
    return account


async def _line(session: AsyncSession, line_id: int) -> Line:
    line = await session.get(Line, line_id)
    if line is None:
        raise NotFoundError(f"line {line_id} not found")
    return line


async def _open_order(session: AsyncSession, line_id: int) -> SimOrder | None:
    return await session.scalar(
        select(SimOrder).where(SimOrder.line_id == line_id, SimOrder.status == "ordered")
    )


async def _order(session: AsyncSession, reference: str, *, locked: bool = False) -> SimOrder:
    """The order; with `locked`, its account locked first and the order read again after it."""
    order = await session.get(SimOrder, _row_id(reference, "S"))
    if order is None:
        raise NotFoundError(f"no SIM order {reference}")
    if locked:
        await _locked_account(session, order.account_id)
        await session.refresh(order)  # a change committed while this one waited for the lock
    return order


async def _port(session: AsyncSession, reference: str, *, locked: bool = False) -> PortOutRequest:
    """The transfer; with `locked`, as `_order`."""
    request = await session.get(PortOutRequest, _row_id(reference, "PO"))
    if request is None:
        raise NotFoundError(f"no transfer request {reference}")
    if locked:
        await _locked_account(session, request.account_id)
        await session.refresh(request)
    return request


async def _port_by_source(session: AsyncSession, source_id: str) -> PortOutRequest | None:
    query = select(PortOutRequest).where(PortOutRequest.source_id == source_id[:160])
    return await session.scalar(query)


def _row_id(reference: str, prefix: str) -> int:
    """ "S-000012" (or "s-12", "12") → 12; NotFoundError for anything else."""
    raw = reference.strip().upper().removeprefix(f"{prefix}-")
    if not raw.isdigit() or len(raw) > 12:
        raise NotFoundError(f"no such reference {reference[:40]!r}")
    return int(raw)


def _checked_iccid(iccid: str) -> str:
    digits = "".join(iccid.split())
    low, high = ICCID_DIGITS
    if not digits.isdigit() or not low <= len(digits) <= high or not digits.startswith("89"):
        raise InvalidRequestError("an ICCID is 18 to 22 digits starting with 89")
    return digits


def _made_up_iccid(order: SimOrder) -> str:
    """A stand-in ICCID when the billing system gives none (the demo's activations)."""
    digest = int(hashlib.sha256(f"{order.id}:{order.old_iccid}".encode()).hexdigest(), 16)
    return f"8901{digest % 10**15:015d}"


def _unchanged(lock: sec.SecurityLock) -> sec.SecurityLock:
    return sec.SecurityLock(
        lock.account_id, lock.locked, lock.changed_at, lock.lost_lines, created=False
    )


async def _msisdn(session: AsyncSession, line_id: int) -> str:
    msisdn = await session.scalar(select(Line.msisdn).where(Line.id == line_id))
    return msisdn or ""


async def _sim_dto(
    session: AsyncSession, order: SimOrder, *, created: bool = True
) -> sec.SimOrder:
    return sec.SimOrder(
        id=order.id,
        reference=order.reference,
        account_id=order.account_id,
        line_id=order.line_id,
        msisdn=await _msisdn(session, order.line_id),
        kind="esim" if order.kind == "esim" else "sim",
        status=order.status,  # type: ignore[arg-type]  # the table's check constraint
        ordered_at=order.ordered_at,
        activated_at=order.activated_at,
        cancelled_at=order.cancelled_at,
        reason=order.reason,
        created=created,
    )


async def _port_dto(
    session: AsyncSession, request: PortOutRequest, *, created: bool = True
) -> sec.PortOut:
    return sec.PortOut(
        id=request.id,
        reference=request.reference,
        account_id=request.account_id,
        line_id=request.line_id,
        msisdn=await _msisdn(session, request.line_id),
        carrier=request.carrier,
        status=request.status,  # type: ignore[arg-type]  # the table's check constraint
        requested_at=request.requested_at,
        decided_at=request.decided_at,
        reason=request.reason,
        created=created,
    )
