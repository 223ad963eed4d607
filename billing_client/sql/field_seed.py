"""Demo field service (issue 9): service addresses, an outage at Sam's address now, Alex's
router online, technician slots next week in each demo customer's area.

Dates are relative to the seed's `now` in each customer's zone, so "next week" stays true
whenever it runs. Outages and slots belong to no account: they carry a "demo:" source id, and
reseeding deletes those before adding them again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from billing_client.sql.field_service import area_key
from billing_client.sql.models import (
    Account,
    Appointment,
    Equipment,
    Outage,
    ServiceAddress,
    TechnicianSlot,
)

DEMO_SOURCE = "demo:"
# Each weekday next week: a morning and an afternoon window (local hours), this many visits.
WINDOWS = ((8, 12), (13, 17))
SLOT_CAPACITY = 2


@dataclass(frozen=True, slots=True)
class _Site:
    email: str
    timezone: str
    street: str
    postcode: str
    area: str


SITES = (
    _Site(
        "alex.rivera@example.com",
        "America/New_York",
        "350 Fifth Avenue, Apt 12B, New York, NY",
        "10118",
        "Midtown Manhattan",
    ),
    _Site(
        "sam.lee@example.com",
        "America/Chicago",
        "2430 N Lincoln Ave, Chicago, IL",
        "60614",
        "Lincoln Park",
    ),
    _Site(
        "maria.garcia@example.com",
        "Europe/Madrid",
        "Calle de Alcalá 48, 3º izq., Madrid",
        "28014",
        "Madrid Centro",
    ),
)
SAM_OUTAGE = (
    "A mobile mast serving Lincoln Park is down: calls, texts and data may fail. "
    "Engineers are on site."
)


async def seed_field_service(session: AsyncSession, now: datetime) -> None:
    """Add the demo field data for the demo accounts present (run after they are created)."""
    await _forget_demo_rows(session)
    accounts = await _accounts_by_email(session)
    for site in SITES:
        account_id = accounts.get(site.email)
        if account_id is not None:
            session.add(_address(account_id, site))
        _add_slots(session, site, now)
    if (alex := accounts.get(SITES[0].email)) is not None:
        session.add(
            Equipment(
                account_id=alex,
                kind="router",
                label="Fibre router",
                status="online",
                last_seen_at=now - timedelta(minutes=4),
            )
        )
    session.add(_sam_outage(now))
    await session.flush()


async def _forget_demo_rows(session: AsyncSession) -> None:
    demo_slots = select(TechnicianSlot.id).where(TechnicianSlot.source_id.startswith(DEMO_SOURCE))
    await session.execute(delete(Appointment).where(Appointment.slot_id.in_(demo_slots)))
    await session.execute(
        delete(TechnicianSlot).where(TechnicianSlot.source_id.startswith(DEMO_SOURCE))
    )
    await session.execute(delete(Outage).where(Outage.source_id.startswith(DEMO_SOURCE)))


async def _accounts_by_email(session: AsyncSession) -> dict[str, int]:
    emails = [site.email for site in SITES]
    query = select(Account.email, Account.id).where(Account.email.in_(emails))
    rows = await session.execute(query)
    return {email: account_id for email, account_id in rows}


def _address(account_id: int, site: _Site) -> ServiceAddress:
    return ServiceAddress(
        account_id=account_id,
        street=site.street,
        postcode=site.postcode,
        area=site.area,
        postcode_key=area_key(site.postcode),
        area_key=area_key(site.area),
    )


def _add_slots(session: AsyncSession, site: _Site, now: datetime) -> None:
    """Monday to Friday of next week in the site's zone, both windows, by postcode."""
    zone = ZoneInfo(site.timezone)
    today = now.astimezone(zone).date()
    monday = today + timedelta(days=7 - today.weekday())
    for day in (monday + timedelta(days=offset) for offset in range(5)):
        for start, end in WINDOWS:
            session.add(
                TechnicianSlot(
                    area=site.postcode,
                    area_key=area_key(site.postcode),
                    starts_at=_at(day, start, zone),
                    ends_at=_at(day, end, zone),
                    capacity=SLOT_CAPACITY,
                    booked=0,
                    source_id=f"{DEMO_SOURCE}slot:{site.postcode}:{day}:{start}",
                )
            )


def _sam_outage(now: datetime) -> Outage:
    """Started two hours ago, expected back in four (on the hour)."""
    end = (now + timedelta(hours=4)).replace(minute=0, second=0, microsecond=0)
    return Outage(
        area=SITES[1].postcode,
        area_key=area_key(SITES[1].postcode),
        kind="mobile",
        message=SAM_OUTAGE,
        started_at=now - timedelta(hours=2),
        expected_end_at=end,
        created_by="demo",
        source_id=f"{DEMO_SOURCE}outage:{SITES[1].postcode}",
    )


def _at(day: date, hour: int, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(hour), zone).astimezone(UTC)
