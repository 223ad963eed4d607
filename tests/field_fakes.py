"""An in-memory billing client with field service (outages, equipment, technician visits),
built on `FakeBillingClient` and following `billing_client/sql/field_service.py` by hand."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import datetime, timedelta

from billing_client import (
    Appointment,
    AppointmentChange,
    Equipment,
    InvalidRequestError,
    NotFoundError,
    Outage,
    ServiceAddress,
    ServiceStatus,
    TechnicianSlot,
    UsageCounter,
)
from tests.fakes import NOW, FakeBillingClient

LEAD_TIME = timedelta(hours=12)
SAM_ADDRESS = ServiceAddress("2430 N Lincoln Ave, Chicago, IL", "60614", "Lincoln Park")
MARIA_ADDRESS = ServiceAddress("Calle de Alcalá 48, Madrid", "28014", "Madrid Centro")


def slot(slot_id: int, days: int, hour: int, *, free: int = 2) -> TechnicianSlot:
    """A four-hour window `days` after NOW (a Saturday, 15:00 UTC) from `hour` UTC."""
    start = (NOW + timedelta(days=days)).replace(hour=hour, minute=0)
    return TechnicianSlot(slot_id, "60614", start, start + timedelta(hours=4), free)


class FakeFieldBilling(FakeBillingClient):
    """Sam (account 1) lives at 60614, María (2) in Madrid; each has slots next week."""

    def __init__(self) -> None:
        super().__init__()
        self.addresses = {1: SAM_ADDRESS, 2: MARIA_ADDRESS}
        self.outages: list[Outage] = []
        self.equipment: dict[int, list[Equipment]] = {}
        self.roaming: dict[str, datetime] = {}
        self.usage_override: list[UsageCounter] | None = None
        # Monday 14:00 and 19:00 UTC (8–12 and 13–17 in Chicago), Tuesday the same.
        self.slots = {
            s.id: s for s in (slot(1, 2, 14), slot(2, 2, 19), slot(3, 3, 14), slot(4, 3, 19))
        }
        self.visits: dict[int, Appointment] = {}
        self.keys: dict[str, int] = {}
        self._visit_ids = itertools.count(1)

    async def get_usage(self, account_id: int, *, now: datetime) -> list[UsageCounter]:
        if self.usage_override is not None:
            return self.usage_override
        return await super().get_usage(account_id, now=now)

    async def service_status(self, account_id: int, *, now: datetime) -> ServiceStatus:
        address = self.addresses.get(account_id)
        outages = tuple(
            o
            for o in self.outages
            if address is not None and o.area in (address.postcode, address.area) and o.active
        )
        return ServiceStatus(
            account_id,
            address,
            outages,
            tuple(self.equipment.get(account_id, ())),
            dict(self.roaming),
        )

    async def technician_slots(
        self, account_id: int, *, now: datetime, limit: int = 8
    ) -> list[TechnicianSlot]:
        if account_id not in self.addresses:
            raise InvalidRequestError("this account has no service address")
        free = [s for s in self.slots.values() if s.free > 0 and s.starts_at >= now + LEAD_TIME]
        return sorted(free, key=lambda s: s.starts_at)[:limit]

    async def list_appointments(self, account_id: int, *, now: datetime) -> list[Appointment]:
        return [
            v
            for v in self.visits.values()
            if v.account_id == account_id and v.status == "booked" and v.slot.ends_at > now
        ]

    async def book_appointment(
        self,
        account_id: int,
        slot_id: int,
        *,
        reason: str,
        idempotency_key: str,
        actor: str,
        now: datetime,
    ) -> AppointmentChange:
        if idempotency_key in self.keys:
            return AppointmentChange("replayed", self.visits[self.keys[idempotency_key]])
        booked = await self.list_appointments(account_id, now=now)
        if booked:
            return AppointmentChange("already_booked", booked[0])
        chosen = self._bookable(slot_id, now)
        if chosen.free <= 0:
            return AppointmentChange("slot_full", None)
        chosen = self._take(chosen)
        visit_id = next(self._visit_ids)
        visit = Appointment(
            visit_id, f"V-{visit_id:06d}", account_id, chosen, reason, "booked", now
        )
        self.visits[visit_id], self.keys[idempotency_key] = visit, visit_id
        return AppointmentChange("booked", visit)

    async def reschedule_appointment(
        self, account_id: int, appointment_id: int, slot_id: int, *, actor: str, now: datetime
    ) -> AppointmentChange:
        visit = self._own(account_id, appointment_id)
        if visit.slot.id == slot_id:
            return AppointmentChange("unchanged", visit)
        chosen = self._bookable(slot_id, now)
        if chosen.free <= 0:
            return AppointmentChange("slot_full", visit)
        previous = self._give_back(visit.slot.id)
        visit = replace(visit, slot=self._take(chosen))
        self.visits[visit.id] = visit
        return AppointmentChange("moved", visit, previous=previous)

    async def cancel_appointment(
        self, account_id: int, appointment_id: int, *, actor: str, now: datetime
    ) -> AppointmentChange:
        visit = self._own(account_id, appointment_id)
        if visit.status == "cancelled":
            return AppointmentChange("unchanged", visit)
        self._give_back(visit.slot.id)
        visit = replace(visit, status="cancelled")
        self.visits[visit.id] = visit
        return AppointmentChange("cancelled", visit)

    # --- helpers --------------------------------------------------------------------------------
    def _bookable(self, slot_id: int, now: datetime) -> TechnicianSlot:
        chosen = self.slots.get(slot_id)
        if chosen is None or chosen.starts_at < now + LEAD_TIME:
            raise NotFoundError(f"no slot {slot_id}")
        return chosen

    def _take(self, chosen: TechnicianSlot) -> TechnicianSlot:
        self.slots[chosen.id] = replace(chosen, free=chosen.free - 1)
        return self.slots[chosen.id]

    def _give_back(self, slot_id: int) -> TechnicianSlot:
        self.slots[slot_id] = replace(self.slots[slot_id], free=self.slots[slot_id].free + 1)
        return self.slots[slot_id]

    def _own(self, account_id: int, appointment_id: int) -> Appointment:
        visit = self.visits.get(appointment_id)
        if visit is None or visit.account_id != account_id:
            raise NotFoundError(f"no visit {appointment_id}")
        return visit
