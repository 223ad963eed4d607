"""The add-on catalogue of the demo (data and roaming add-ons), inserted when missing.

The plans customers change between are in `seed.PLANS` (an upgrade and a downgrade for each
demo customer). Every add-on is one-off, so a demo purchase never needs a billing run.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from billing_client.sql.models import AddOn

MB_PER_GB = 1024


@dataclass(frozen=True, slots=True)
class AddOnSpec:
    code: str
    name: str
    kind: str
    price_minor: int
    data_mb: int | None = None
    roaming_days: int | None = None
    billing_type: str = "any"
    recurring: bool = False


ADD_ONS: tuple[AddOnSpec, ...] = (
    AddOnSpec("data-1gb", "Data 1 GB", "data", 500, data_mb=1 * MB_PER_GB),
    AddOnSpec("data-5gb", "Data 5 GB", "data", 1500, data_mb=5 * MB_PER_GB),
    AddOnSpec("roam-day", "Roaming day pass", "roaming", 1000, roaming_days=1),
    AddOnSpec("roam-week", "Roaming week pass", "roaming", 3500, roaming_days=7),
)


async def ensure_add_ons(session: AsyncSession, currency: str = "USD") -> dict[str, AddOn]:
    """The add-on catalogue by code, inserting the add-ons that are missing."""
    existing = {add_on.code: add_on for add_on in await session.scalars(select(AddOn))}
    for spec in ADD_ONS:
        if spec.code not in existing:
            add_on = AddOn(currency=currency, offered=True, **asdict(spec))
            session.add(add_on)
            existing[spec.code] = add_on
    await session.flush()
    return existing
