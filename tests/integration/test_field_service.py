"""The embedded core's field service on SQLite and PostgreSQL, over the demo data: outages at a
service address, equipment, roaming, technician slots, and visits booked exactly once — also
when the same booking, or two customers after the last place, arrive at the same moment."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from billing_client import AppointmentChange, InvalidRequestError, NewOutage, NotFoundError
from billing_client.sql.client import SqlBillingClient
from billing_client.sql.field_service import area_key
from billing_client.sql.models import Appointment, AuditLog, ServiceAddress, TechnicianSlot
from billing_client.sql.seed import seed_demo

ALEX, SAM, MARIA = "+12025550101", "+12025550102", "+12025550104"


async def _id(billing: SqlBillingClient, phone: str) -> int:
    account = await billing.find_account_by_msisdn(phone)
    assert account is not None
    return account.id


async def _book(
    billing: SqlBillingClient, account: int, slot: int, key: str, now: datetime
) -> AppointmentChange:
    return await billing.book_appointment(
        account, slot, reason="no signal", idempotency_key=key, actor="test", now=now
    )


async def _visits(sessions: async_sessionmaker[AsyncSession]) -> list[Appointment]:
    async with sessions() as session:
        return list(await session.scalars(select(Appointment).order_by(Appointment.id)))


# --- diagnostics ------------------------------------------------------------------------------
async def test_sam_has_the_demo_outage_at_his_address(
    demo_billing: SqlBillingClient, now: datetime
) -> None:
    status = await demo_billing.service_status(await _id(demo_billing, SAM), now=now)

    assert status.address is not None and status.address.postcode == "60614"
    (outage,) = status.outages
    assert outage.kind == "mobile" and outage.started_at < now
    assert outage.expected_end is not None and outage.expected_end > now
    assert status.roaming.keys() == {"+12025550103"}  # Jordan's roaming charge yesterday


async def test_alex_has_his_router_online_and_no_outage(
    demo_billing: SqlBillingClient, now: datetime
) -> None:
    status = await demo_billing.service_status(await _id(demo_billing, ALEX), now=now)

    assert status.outages == ()
    (router,) = status.equipment
    assert router.status == "online" and router.last_seen_at is not None
    assert now - router.last_seen_at < timedelta(minutes=10)


async def test_an_outage_matches_the_area_name_ignoring_case_and_spaces(
    demo_billing: SqlBillingClient, now: datetime
) -> None:
    alex = await _id(demo_billing, ALEX)
    outage = NewOutage("  midtown MANHATTAN ", "broadband", "Fibre cut on 5th Ave.")
    added = await demo_billing.add_outage(outage, actor="test", now=now)

    status = await demo_billing.service_status(alex, now=now)

    assert [o.id for o in status.outages] == [added.id]
    assert area_key(" Midtown-Manhattan ") == "midtownmanhattan"


async def test_a_cleared_outage_is_no_longer_shown(
    demo_billing: SqlBillingClient, now: datetime
) -> None:
    sam = await _id(demo_billing, SAM)
    (outage,) = (await demo_billing.service_status(sam, now=now)).outages

    cleared = await demo_billing.clear_outage(outage.id, actor="test", now=now)
    again = await demo_billing.clear_outage(outage.id, actor="test", now=now)

    assert cleared.cleared_at == now and cleared.created and not again.created
    assert (await demo_billing.service_status(sam, now=now)).outages == ()
    assert await demo_billing.list_outages(now=now) == []
    assert [o.id for o in await demo_billing.list_outages(now=now, active_only=False)] == [
        outage.id
    ]


async def test_an_outage_from_the_same_source_is_added_once(
    demo_billing: SqlBillingClient, now: datetime
) -> None:
    outage = NewOutage("60614", "broadband", "Cabinet fault.", source_id="evt_1")

    first, second = await asyncio.gather(
        demo_billing.add_outage(outage, actor="test", now=now),
        demo_billing.add_outage(outage, actor="test", now=now),
    )

    assert first.id == second.id and {first.created, second.created} == {True, False}
    assert len(await demo_billing.list_outages(now=now)) == 2  # with the demo one


@pytest.mark.parametrize(
    ("outage", "problem"),
    [
        (NewOutage(" - ", "mobile", "x"), "needs an area"),
        (NewOutage("60614", "satellite", "x"), "mobile or broadband"),  # type: ignore[arg-type]
        (NewOutage("60614", "mobile", "   "), "needs a message"),
        (NewOutage("60614", "mobile", "x" * 501), "needs a message"),
    ],
)
async def test_a_bad_outage_is_refused(
    demo_billing: SqlBillingClient, now: datetime, outage: NewOutage, problem: str
) -> None:
    with pytest.raises(InvalidRequestError, match=problem):
        await demo_billing.add_outage(outage, actor="test", now=now)


async def test_an_end_before_the_start_is_refused(
    demo_billing: SqlBillingClient, now: datetime
) -> None:
    outage = NewOutage("60614", "mobile", "x", expected_end=now - timedelta(minutes=1))
    with pytest.raises(InvalidRequestError, match="after the outage started"):
        await demo_billing.add_outage(outage, actor="test", now=now)


async def test_clearing_an_unknown_outage_is_not_found(
    demo_billing: SqlBillingClient, now: datetime
) -> None:
    with pytest.raises(NotFoundError):
        await demo_billing.clear_outage(999, actor="test", now=now)


# --- slots and visits -------------------------------------------------------------------------
async def test_slots_are_next_weeks_in_the_customers_area(
    demo_billing: SqlBillingClient, now: datetime
) -> None:
    slots = await demo_billing.technician_slots(await _id(demo_billing, SAM), now=now, limit=20)

    assert len(slots) == 10  # Monday to Friday, morning and afternoon
    assert {slot.area for slot in slots} == {"60614"}
    assert all(timedelta(days=2) < slot.starts_at - now < timedelta(days=11) for slot in slots)
    assert [s.starts_at for s in slots] == sorted(s.starts_at for s in slots)


async def test_booking_takes_a_place_and_a_replay_changes_nothing(
    demo_billing: SqlBillingClient, sessions: async_sessionmaker[AsyncSession], now: datetime
) -> None:
    sam = await _id(demo_billing, SAM)
    slot = (await demo_billing.technician_slots(sam, now=now))[0]

    first = await _book(demo_billing, sam, slot.id, "k1", now)
    replay = await _book(demo_billing, sam, slot.id, "k1", now)

    assert first.outcome == "booked" and replay.outcome == "replayed"
    assert first.appointment == replay.appointment
    assert first.appointment is not None and first.appointment.slot.free == slot.free - 1
    assert first.appointment.reference == f"V-{first.appointment.id:06d}"
    assert len(await _visits(sessions)) == 1
    assert await demo_billing.list_appointments(sam, now=now) == [first.appointment]
    async with sessions() as session:
        actions = await session.scalars(select(AuditLog.action))
        assert list(actions).count("appointment_booked") == 1


async def test_the_same_booking_confirmed_twice_at_once_books_one_visit(
    demo_billing: SqlBillingClient, sessions: async_sessionmaker[AsyncSession], now: datetime
) -> None:
    sam = await _id(demo_billing, SAM)
    slot = (await demo_billing.technician_slots(sam, now=now))[0]

    results = await asyncio.gather(
        *(_book(demo_billing, sam, slot.id, "k", now) for _ in range(4))
    )

    assert sorted(r.outcome for r in results) == ["booked", "replayed", "replayed", "replayed"]
    assert len(await _visits(sessions)) == 1


async def test_two_chats_booking_for_one_account_at_once_book_one_visit(
    demo_billing: SqlBillingClient, sessions: async_sessionmaker[AsyncSession], now: datetime
) -> None:
    sam = await _id(demo_billing, SAM)
    first, second = (await demo_billing.technician_slots(sam, now=now))[:2]

    results = await asyncio.gather(
        _book(demo_billing, sam, first.id, "web", now),
        _book(demo_billing, sam, second.id, "sms", now),
    )

    assert sorted(r.outcome for r in results) == ["already_booked", "booked"]
    assert len(await _visits(sessions)) == 1


async def test_two_customers_after_the_last_place_get_one_visit(
    demo_billing: SqlBillingClient, sessions: async_sessionmaker[AsyncSession], now: datetime
) -> None:
    sam, alex = await _id(demo_billing, SAM), await _id(demo_billing, ALEX)
    async with sessions() as session, session.begin():  # neighbours, one place left
        await session.execute(
            update(ServiceAddress)
            .where(ServiceAddress.account_id == alex)
            .values(postcode_key="60614")
        )
        slot = _slot("60614", now + timedelta(days=3), capacity=1)
        session.add(slot)
        await session.flush()
        slot_id = slot.id

    results = await asyncio.gather(
        _book(demo_billing, alex, slot_id, "alex", now),
        _book(demo_billing, sam, slot_id, "sam", now),
    )

    assert sorted(r.outcome for r in results) == ["booked", "slot_full"]
    async with sessions() as session:
        taken = await session.get(TechnicianSlot, slot_id)
        assert taken is not None and taken.booked == 1
    assert len(await _visits(sessions)) == 1


async def test_a_slot_in_another_area_or_too_soon_cannot_be_booked(
    demo_billing: SqlBillingClient, sessions: async_sessionmaker[AsyncSession], now: datetime
) -> None:
    sam, alex = await _id(demo_billing, SAM), await _id(demo_billing, ALEX)
    alex_slot = (await demo_billing.technician_slots(alex, now=now))[0]
    async with sessions() as session, session.begin():
        soon = _slot("60614", now + timedelta(hours=2), capacity=3)
        session.add(soon)
        await session.flush()
        soon_id = soon.id

    for slot_id in (alex_slot.id, soon_id):
        with pytest.raises(NotFoundError):
            await _book(demo_billing, sam, slot_id, f"k{slot_id}", now)
    assert soon_id not in {s.id for s in await demo_billing.technician_slots(sam, now=now)}


async def test_moving_a_visit_frees_the_old_place_and_takes_the_new(
    demo_billing: SqlBillingClient, now: datetime
) -> None:
    sam = await _id(demo_billing, SAM)
    first, second = (await demo_billing.technician_slots(sam, now=now))[:2]
    booked = await _book(demo_billing, sam, first.id, "k", now)
    assert booked.appointment is not None
    visit = booked.appointment.id

    moved = await demo_billing.reschedule_appointment(sam, visit, second.id, actor="t", now=now)
    again = await demo_billing.reschedule_appointment(sam, visit, second.id, actor="t", now=now)

    assert moved.outcome == "moved" and again.outcome == "unchanged"
    assert moved.previous is not None and moved.previous.id == first.id
    assert moved.previous.free == first.free
    assert moved.appointment is not None and moved.appointment.slot.free == second.free - 1


async def test_a_move_to_a_full_slot_leaves_the_visit_where_it_was(
    demo_billing: SqlBillingClient, sessions: async_sessionmaker[AsyncSession], now: datetime
) -> None:
    sam = await _id(demo_billing, SAM)
    first, second = (await demo_billing.technician_slots(sam, now=now))[:2]
    booked = await _book(demo_billing, sam, first.id, "k", now)
    assert booked.appointment is not None
    async with sessions() as session, session.begin():
        await session.execute(
            update(TechnicianSlot)
            .where(TechnicianSlot.id == second.id)
            .values(booked=TechnicianSlot.capacity)
        )

    change = await demo_billing.reschedule_appointment(
        sam, booked.appointment.id, second.id, actor="t", now=now
    )

    assert change.outcome == "slot_full"
    assert change.appointment is not None and change.appointment.slot.id == first.id


async def test_cancelling_frees_the_place_once(
    demo_billing: SqlBillingClient, now: datetime
) -> None:
    sam = await _id(demo_billing, SAM)
    slot = (await demo_billing.technician_slots(sam, now=now))[0]
    booked = await _book(demo_billing, sam, slot.id, "k", now)
    assert booked.appointment is not None

    results = await asyncio.gather(
        *(
            demo_billing.cancel_appointment(sam, booked.appointment.id, actor="t", now=now)
            for _ in range(2)
        )
    )

    assert sorted(r.outcome for r in results) == ["cancelled", "unchanged"]
    freed = (await demo_billing.technician_slots(sam, now=now))[0]
    assert freed.id == slot.id and freed.free == slot.free
    assert await demo_billing.list_appointments(sam, now=now) == []
    rebooked = await _book(demo_billing, sam, slot.id, "k2", now)  # one at a time, not one ever
    assert rebooked.outcome == "booked"


async def test_someone_elses_visit_cannot_be_moved_or_cancelled(
    demo_billing: SqlBillingClient, now: datetime
) -> None:
    sam, alex = await _id(demo_billing, SAM), await _id(demo_billing, ALEX)
    slot = (await demo_billing.technician_slots(sam, now=now))[0]
    booked = await _book(demo_billing, sam, slot.id, "k", now)
    assert booked.appointment is not None

    with pytest.raises(NotFoundError):
        await demo_billing.cancel_appointment(alex, booked.appointment.id, actor="t", now=now)
    with pytest.raises(NotFoundError):
        await demo_billing.reschedule_appointment(
            alex, booked.appointment.id, slot.id, actor="t", now=now
        )


async def test_an_account_without_an_address_has_no_slots(
    demo_billing: SqlBillingClient, sessions: async_sessionmaker[AsyncSession], now: datetime
) -> None:
    maria = await _id(demo_billing, MARIA)
    async with sessions() as session, session.begin():
        await session.execute(delete(ServiceAddress).where(ServiceAddress.account_id == maria))

    with pytest.raises(InvalidRequestError, match="no service address"):
        await demo_billing.technician_slots(maria, now=now)
    status = await demo_billing.service_status(maria, now=now)
    assert status.address is None and status.outages == ()


async def test_reseeding_keeps_one_set_of_demo_slots_and_outages(
    sessions: async_sessionmaker[AsyncSession], demo_billing: SqlBillingClient, now: datetime
) -> None:
    sam = await _id(demo_billing, SAM)
    slot = (await demo_billing.technician_slots(sam, now=now))[0]
    await _book(demo_billing, sam, slot.id, "k", now)

    await seed_demo(sessions, now=now, reset=True)

    assert len(await demo_billing.list_outages(now=now)) == 1
    sam = await _id(demo_billing, SAM)
    assert len(await demo_billing.technician_slots(sam, now=now, limit=50)) == 10
    assert await _visits(sessions) == []


def _slot(key: str, starts: datetime, *, capacity: int) -> TechnicianSlot:
    return TechnicianSlot(
        area=key,
        area_key=key,
        starts_at=starts,
        ends_at=starts + timedelta(hours=4),
        capacity=capacity,
        booked=0,
    )
