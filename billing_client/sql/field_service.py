"""Field service in the embedded core: service addresses, outages, equipment, technician slots
and visits. Functions over the caller's session (client.py owns the transactions and retries).

A visit is booked exactly once: the account's row is locked first (FOR UPDATE on PostgreSQL;
the write transaction holds SQLite's lock), then the request's idempotency key and the
account's other booked visit are looked up, so two copies of one confirmation wait for each
other and the second finds the first one's visit. A place in a slot is taken by one
conditional UPDATE (`booked < capacity`): two customers after the last place cannot both get
it, and the CHECK constraint on the table backs that up.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Select, func, select, union_all, update
from sqlalchemy.ext.asyncio import AsyncSession

from billing_client import types as dto
from billing_client.errors import ConflictError, InvalidRequestError, NotFoundError
from billing_client.sql.audit import audit
from billing_client.sql.models import (
    Account,
    Appointment,
    Charge,
    Equipment,
    Line,
    Outage,
    ServiceAddress,
    TechnicianSlot,
    UsageRecord,
)

LEAD_TIME = timedelta(hours=12)  # a slot starting sooner is not offered any more
ROAMING_WINDOW = timedelta(days=3)  # roaming use this recent is worth mentioning
KINDS = ("mobile", "broadband")
MAX_MESSAGE = 500


def area_key(text: str) -> str:
    """The form areas match on: lowercase letters and digits only ("SW1A 1AA" → "sw1a1aa")."""
    return "".join(char for char in text.casefold() if char.isalnum())[:60]


# --- diagnostics ------------------------------------------------------------------------------
async def service_status(
    session: AsyncSession, account_id: int, now: datetime
) -> dto.ServiceStatus:
    address = await _address(session, account_id)
    outages = await _outages_at(session, address, now) if address is not None else []
    return dto.ServiceStatus(
        account_id=account_id,
        address=None if address is None else _address_dto(address),
        outages=tuple(_outage_dto(outage) for outage in outages),
        equipment=tuple(await _equipment(session, account_id)),
        roaming=await _roaming(session, account_id, now),
    )


async def _outages_at(
    session: AsyncSession, address: ServiceAddress, now: datetime
) -> list[Outage]:
    keys = {address.postcode_key, address.area_key} - {""}
    rows = await session.scalars(
        select(Outage)
        .where(Outage.area_key.in_(keys), Outage.cleared_at.is_(None))
        .where(Outage.started_at <= now)
        .order_by(Outage.started_at, Outage.id)
    )
    return list(rows)


async def _equipment(session: AsyncSession, account_id: int) -> list[dto.Equipment]:
    rows = await session.scalars(
        select(Equipment).where(Equipment.account_id == account_id).order_by(Equipment.id)
    )
    return [
        dto.Equipment(row.kind, row.label, _equipment_status(row.status), row.last_seen_at)
        for row in rows
    ]


async def _roaming(session: AsyncSession, account_id: int, now: datetime) -> dict[str, datetime]:
    """Each line's latest roaming charge or roaming data record of the last few days."""
    since = now - ROAMING_WINDOW
    charges = (
        select(Charge.line_id.label("line_id"), Charge.rated_at.label("at"))
        .where(Charge.account_id == account_id, Charge.kind == "roaming")
        .where(Charge.rated_at >= since, Charge.rated_at <= now)
    )
    records = (
        select(UsageRecord.line_id.label("line_id"), UsageRecord.at.label("at"))
        .join(Line, Line.id == UsageRecord.line_id)
        .where(Line.account_id == account_id, UsageRecord.kind == "roaming_data")
        .where(UsageRecord.at >= since, UsageRecord.at <= now)
    )
    uses = union_all(charges, records).subquery()
    rows = await session.execute(
        select(Line.msisdn, func.max(uses.c.at))
        .join(uses, uses.c.line_id == Line.id)
        .group_by(Line.msisdn)
    )
    return {msisdn: at for msisdn, at in rows if at is not None}


# --- outages (the operator's) ---------------------------------------------------------------
async def list_outages(
    session: AsyncSession, now: datetime, *, active_only: bool
) -> list[dto.Outage]:
    query = select(Outage).order_by(Outage.started_at.desc(), Outage.id.desc())
    if active_only:
        query = query.where(Outage.cleared_at.is_(None))
    return [_outage_dto(row) for row in await session.scalars(query)]


async def add_outage(
    session: AsyncSession, outage: dto.NewOutage, *, actor: str, now: datetime
) -> dto.Outage:
    started = outage.started_at or now
    _check_outage(outage, started)
    earlier = await outage_by_source(session, outage.source_id)
    if earlier is not None:
        return earlier
    row = Outage(
        area=outage.area.strip(),
        area_key=area_key(outage.area),
        kind=outage.kind,
        message=outage.message.strip(),
        started_at=started,
        expected_end_at=outage.expected_end,
        created_by=actor[:80],
        source_id=outage.source_id,
    )
    session.add(row)
    await session.flush()
    audit(session, now, actor, "outage_added", "outage", row.id, f"{row.kind} {row.area}")
    return _outage_dto(row)


async def outage_by_source(session: AsyncSession, source_id: str | None) -> dto.Outage | None:
    """The outage added before from this source (created=False), if any."""
    if source_id is None:
        return None
    row = await session.scalar(select(Outage).where(Outage.source_id == source_id))
    return None if row is None else _outage_dto(row, created=False)


def _check_outage(outage: dto.NewOutage, started: datetime) -> None:
    if not area_key(outage.area) or len(outage.area.strip()) > 60:
        raise InvalidRequestError("an outage needs an area: a postcode or an area name")
    if outage.kind not in KINDS:
        raise InvalidRequestError("an outage's kind is mobile or broadband")
    if not outage.message.strip() or len(outage.message.strip()) > MAX_MESSAGE:
        raise InvalidRequestError(f"an outage needs a message of 1 to {MAX_MESSAGE} characters")
    if outage.expected_end is not None and outage.expected_end <= started:
        raise InvalidRequestError("the expected end must be after the outage started")


async def clear_outage(
    session: AsyncSession, outage_id: int, *, actor: str, now: datetime
) -> dto.Outage:
    row = await session.scalar(select(Outage).where(Outage.id == outage_id).with_for_update())
    if row is None:
        raise NotFoundError(f"no outage {outage_id}")
    if row.cleared_at is not None:
        return _outage_dto(row, created=False)
    row.cleared_at = now
    audit(session, now, actor, "outage_cleared", "outage", row.id, f"{row.kind} {row.area}")
    return _outage_dto(row)


# --- technician slots and visits ----------------------------------------------------------------
async def free_slots(
    session: AsyncSession, account_id: int, now: datetime, limit: int
) -> list[dto.TechnicianSlot]:
    address = await _address(session, account_id)
    if address is None:
        raise InvalidRequestError("this account has no service address")
    rows = await session.scalars(
        _in_area(select(TechnicianSlot), address, now)
        .where(TechnicianSlot.booked < TechnicianSlot.capacity)
        .order_by(TechnicianSlot.starts_at, TechnicianSlot.id)
        .limit(limit)
    )
    return [_slot_dto(row) for row in rows]


async def upcoming(session: AsyncSession, account_id: int, now: datetime) -> list[dto.Appointment]:
    rows = await session.execute(
        select(Appointment, TechnicianSlot)
        .join(TechnicianSlot, TechnicianSlot.id == Appointment.slot_id)
        .where(Appointment.account_id == account_id, Appointment.status == "booked")
        .where(TechnicianSlot.ends_at > now)
        .order_by(TechnicianSlot.starts_at, Appointment.id)
    )
    return [_appointment_dto(visit, slot) for visit, slot in rows]


async def book(
    session: AsyncSession,
    account_id: int,
    slot_id: int,
    *,
    reason: str,
    key: str,
    actor: str,
    now: datetime,
) -> dto.AppointmentChange:
    await _locked_account(session, account_id)
    earlier = await session.scalar(select(Appointment).where(Appointment.idempotency_key == key))
    if earlier is not None:
        return await replayed_booking(session, earlier, account_id)
    booked = await upcoming(session, account_id, now)
    if booked:
        return dto.AppointmentChange("already_booked", booked[0])
    slot = await _bookable_slot(session, account_id, slot_id, now)
    if not await _take_place(session, slot):
        return dto.AppointmentChange("slot_full", None)
    visit = Appointment(
        account_id=account_id,
        slot_id=slot.id,
        reason=(" ".join(reason.split()) or "Technician visit")[:200],
        status="booked",
        idempotency_key=key,
        created_at=now,
        updated_at=now,
    )
    session.add(visit)
    await session.flush()
    audit(session, now, actor, "appointment_booked", "appointment", visit.id, _when(slot))
    return dto.AppointmentChange("booked", _appointment_dto(visit, slot))


async def by_key(session: AsyncSession, key: str) -> Appointment | None:
    return await session.scalar(select(Appointment).where(Appointment.idempotency_key == key))


async def replayed_booking(
    session: AsyncSession, earlier: Appointment, account_id: int
) -> dto.AppointmentChange:
    """The visit this key booked before, as that request's answer."""
    if earlier.account_id != account_id:
        raise ConflictError("this idempotency key was used for another account's visit")
    slot = await _slot(session, earlier.slot_id)
    return dto.AppointmentChange("replayed", _appointment_dto(earlier, slot))


async def reschedule(
    session: AsyncSession,
    account_id: int,
    appointment_id: int,
    slot_id: int,
    *,
    actor: str,
    now: datetime,
) -> dto.AppointmentChange:
    await _locked_account(session, account_id)
    visit, current = await _own_booked(session, account_id, appointment_id)
    if visit.slot_id == slot_id:
        return dto.AppointmentChange("unchanged", _appointment_dto(visit, current))
    slot = await _bookable_slot(session, account_id, slot_id, now)
    if not await _take_place(session, slot):
        return dto.AppointmentChange("slot_full", _appointment_dto(visit, current))
    await _free_place(session, current)
    visit.slot_id, visit.updated_at = slot.id, now
    detail = f"{_when(current)} → {_when(slot)}"
    audit(session, now, actor, "appointment_moved", "appointment", visit.id, detail)
    return dto.AppointmentChange(
        "moved", _appointment_dto(visit, slot), previous=_slot_dto(current)
    )


async def cancel(
    session: AsyncSession, account_id: int, appointment_id: int, *, actor: str, now: datetime
) -> dto.AppointmentChange:
    await _locked_account(session, account_id)
    visit = await session.get(Appointment, appointment_id)
    if visit is None or visit.account_id != account_id:
        raise NotFoundError(f"no visit {appointment_id} on this account")
    slot = await _slot(session, visit.slot_id)
    if visit.status == "cancelled":
        return dto.AppointmentChange("unchanged", _appointment_dto(visit, slot))
    visit.status, visit.cancelled_at, visit.updated_at = "cancelled", now, now
    await _free_place(session, slot)
    audit(session, now, actor, "appointment_cancelled", "appointment", visit.id, _when(slot))
    return dto.AppointmentChange("cancelled", _appointment_dto(visit, slot))


async def _take_place(session: AsyncSession, slot: TechnicianSlot) -> bool:
    """One place in the slot, if one is free (one statement: concurrent bookings queue on the
    row and each sees the count the one before left)."""
    taken = await session.execute(
        update(TechnicianSlot)
        .where(TechnicianSlot.id == slot.id, TechnicianSlot.booked < TechnicianSlot.capacity)
        .values(booked=TechnicianSlot.booked + 1)
        .execution_options(synchronize_session=False)
    )
    await session.refresh(slot)
    return bool(getattr(taken, "rowcount", 0))


async def _free_place(session: AsyncSession, slot: TechnicianSlot) -> None:
    await session.execute(
        update(TechnicianSlot)
        .where(TechnicianSlot.id == slot.id, TechnicianSlot.booked > 0)
        .values(booked=TechnicianSlot.booked - 1)
        .execution_options(synchronize_session=False)
    )
    await session.refresh(slot)


async def _bookable_slot(
    session: AsyncSession, account_id: int, slot_id: int, now: datetime
) -> TechnicianSlot:
    """The slot, if it is in the account's area and not too soon; NotFoundError otherwise."""
    address = await _address(session, account_id)
    if address is None:
        raise InvalidRequestError("this account has no service address")
    query = _in_area(select(TechnicianSlot), address, now).where(TechnicianSlot.id == slot_id)
    slot = await session.scalar(query)
    if slot is None:
        raise NotFoundError(f"no slot {slot_id} for this account")
    return slot


def _in_area(
    query: Select[TechnicianSlot], address: ServiceAddress, now: datetime
) -> Select[TechnicianSlot]:
    """The slots at the address (its postcode or area) starting after the lead time."""
    keys = {address.postcode_key, address.area_key} - {""}
    return query.where(
        TechnicianSlot.area_key.in_(keys), TechnicianSlot.starts_at >= now + LEAD_TIME
    )


async def _own_booked(
    session: AsyncSession, account_id: int, appointment_id: int
) -> tuple[Appointment, TechnicianSlot]:
    visit = await session.get(Appointment, appointment_id)
    if visit is None or visit.account_id != account_id or visit.status != "booked":
        raise NotFoundError(f"no booked visit {appointment_id} on this account")
    return visit, await _slot(session, visit.slot_id)


# --- lookups and DTOs ---------------------------------------------------------------------------
async def _locked_account(session: AsyncSession, account_id: int) -> Account:
    query = select(Account).where(Account.id == account_id).with_for_update()
    account = await session.scalar(query)
    if account is None:
        raise NotFoundError(f"account {account_id} not found")
    return account


async def _address(session: AsyncSession, account_id: int) -> ServiceAddress | None:
    query = select(ServiceAddress).where(ServiceAddress.account_id == account_id)
    return await session.scalar(query)


async def _slot(session: AsyncSession, slot_id: int) -> TechnicianSlot:
    slot = await session.get(TechnicianSlot, slot_id)
    if slot is None:  # the foreign key keeps a visit's slot
        raise NotFoundError(f"no slot {slot_id}")
    return slot


def _when(slot: TechnicianSlot) -> str:
    return f"slot {slot.id} {slot.starts_at:%Y-%m-%d %H:%M}Z"


def _address_dto(row: ServiceAddress) -> dto.ServiceAddress:
    return dto.ServiceAddress(street=row.street, postcode=row.postcode, area=row.area)


def _outage_dto(row: Outage, *, created: bool = True) -> dto.Outage:
    return dto.Outage(
        id=row.id,
        area=row.area,
        kind="broadband" if row.kind == "broadband" else "mobile",
        message=row.message,
        started_at=row.started_at,
        expected_end=row.expected_end_at,
        cleared_at=row.cleared_at,
        created=created,
    )


def _slot_dto(row: TechnicianSlot) -> dto.TechnicianSlot:
    free = max(row.capacity - row.booked, 0)
    return dto.TechnicianSlot(row.id, row.area, row.starts_at, row.ends_at, free)


def _appointment_dto(visit: Appointment, slot: TechnicianSlot) -> dto.Appointment:
    return dto.Appointment(
        id=visit.id,
        reference=visit.reference,
        account_id=visit.account_id,
        slot=_slot_dto(slot),
        reason=visit.reason,
        status="cancelled" if visit.status == "cancelled" else "booked",
        created_at=visit.created_at,
    )


def _equipment_status(status: str) -> dto.EquipmentStatus:
    return "online" if status == "online" else "offline"
