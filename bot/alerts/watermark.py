"""Where the periodic alert scan left off, and what it reads the next time (docs/alerts.md).

The scheduler's scan (`AlertService.run_once(incremental=True)`) reads only what may have made
an alert due since the previous scan:

- the billing rows written since the billing database's watermark (`AlertFacts.watermark`):
  allowances, bills, unbilled charges and caps;
- the open bills whose alert falls on a day that began since, in their customer's time zone
  (`dated`): a bill ready on its issue day, due in 3 or 1 days, overdue by 1, 8, 15 or 22;
- every fact of the accounts whose alert settings changed since (levels, kinds, channel).

It reads everything instead when there is no mark yet, when the clock went back (a scan
`--at` an earlier moment), and at the first scan of each UTC day: the catch-up for whatever
changes with time alone (a spending cap's new cycle, a counter whose cycle starts later) or
was written around the billing system (not through SQLAlchemy). Dedupe keys still make every
alert go once, whichever scan finds it.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from billing_client import AlertFacts
from billing_client.types import BillDays
from bot.alerts.planner import DUE_DAYS, OVERDUE_DAYS, READY_DAYS
from bot.alerts.preferences import DEFAULT_LEVELS
from bot.store.models import AlertScan, AlertSettings
from bot.store.sql import claim_write_lock, dialect_insert

SCAN = "alerts"
# A customer's settings are stamped with the saving request's `now`, taken before its commit:
# re-read the ones saved a little before the last scan too.
SETTINGS_OVERLAP = timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class ScanMark:
    """The last scan: the billing watermark to read from, the moment it planned for, and
    the moment the last full scan planned for."""

    changes_from: datetime | None
    planned_at: datetime
    full_at: datetime

    def continues(self, now: datetime) -> bool:
        """Whether a scan at `now` may read only what changed since this one: the billing
        system gave a watermark, the clock did not go back and it is the same UTC day."""
        return (
            self.changes_from is not None
            and self.planned_at <= now
            and self.full_at.astimezone(UTC).date() == now.astimezone(UTC).date()
        )

    def then(self, now: datetime, watermark: datetime | None) -> ScanMark:
        """The mark after a scan of the changes at `now`."""
        return ScanMark(watermark, now, self.full_at)


def full_scan_mark(now: datetime, watermark: datetime | None) -> ScanMark:
    """The mark after a scan of everything at `now`."""
    return ScanMark(watermark, now, now)


class ScanMarks:
    """The periodic scan's mark (`bot_alert_scans`), and which alert settings changed."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def load(self) -> ScanMark | None:
        async with self._sessions() as session:
            row = await session.get(AlertScan, SCAN)
        if row is None:
            return None
        since = row.changes_from
        return ScanMark(since and _utc(since), _utc(row.planned_at), _utc(row.full_at))

    async def save(self, mark: ScanMark) -> None:
        values = {
            "changes_from": mark.changes_from,
            "planned_at": mark.planned_at,
            "full_at": mark.full_at,
        }
        async with self._sessions() as session, session.begin():
            await claim_write_lock(session)
            insert = dialect_insert(session, AlertScan).values(name=SCAN, **values)
            await session.execute(
                insert.on_conflict_do_update(index_elements=["name"], set_=values)
            )

    async def lowest_usage_level(self) -> int:
        """The lowest usage level any customer alerts at (80 %, unless someone chose lower):
        a full scan reads the allowances used that much or more."""
        lowest = min(DEFAULT_LEVELS)
        async with self._sessions() as session:
            for levels in await session.scalars(select(AlertSettings.usage_levels)):
                lowest = min(lowest, *(int(level) for level in levels or DEFAULT_LEVELS))
        return lowest

    async def with_settings(self) -> set[int]:
        """The accounts that saved alert settings (few: everybody else has the defaults)."""
        async with self._sessions() as session:
            return set(await session.scalars(select(AlertSettings.account_id)))

    async def settings_changed(self, since: datetime) -> list[int]:
        """The accounts whose alert settings were saved at `since` or later (or a little
        before: `SETTINGS_OVERLAP`)."""
        query = select(AlertSettings.account_id).where(
            AlertSettings.updated_at >= since - SETTINGS_OVERLAP
        )
        async with self._sessions() as session:
            return list(await session.scalars(query))


# --- the days bills are read for ------------------------------------------------------------
def due_today(now: datetime) -> dict[str, BillDays]:
    """Per time zone, the days a bill was issued or is due on for one of its alerts to be due
    on the zone's day at `now`: issued in the last READY_DAYS days (ready), due in 3 or 1
    days, or 1, 8, 15 or 22 days ago (overdue). A full scan reads these bills only: the
    planner would have nothing to say about any other bill today."""
    found: dict[str, BillDays] = {}
    for name, zone in _zones():
        today = now.astimezone(zone).date()
        ready = frozenset(today - timedelta(days=n) for n in range(READY_DAYS))
        found[name] = (ready, _due_days([today]))
    return found


def dated(since: datetime, now: datetime) -> dict[str, BillDays]:
    """Per time zone where a day began after `since` up to `now`, the bills whose alert falls
    due on such a day: issued that day, or due 3 or 1 days later or 1, 8, 15 or 22 days
    before. Empty most of the time: only at a local midnight."""
    return {
        zone: (frozenset(days), _due_days(days)) for zone, days in begun_days(since, now).items()
    }


def begun_days(since: datetime, now: datetime) -> dict[str, list[date]]:
    """Per time zone, the local days that began after `since`, up to `now` included."""
    begun: dict[str, list[date]] = {}
    for name, zone in _zones():
        first, last = since.astimezone(zone).date(), now.astimezone(zone).date()
        if last > first:
            begun[name] = [first + timedelta(days=n) for n in range(1, (last - first).days + 1)]
    return begun


def _due_days(days: Iterable[date]) -> frozenset[date]:
    """The due dates of the reminders that fall on `days`."""
    found: set[date] = set()
    for day in days:
        found.update(day + timedelta(days=ahead) for ahead in DUE_DAYS)
        found.update(day - timedelta(days=late) for late in OVERDUE_DAYS)
    return frozenset(found)


@cache
def _zones() -> tuple[tuple[str, ZoneInfo], ...]:
    """Every time zone a customer may have (the IANA names `zoneinfo` knows)."""
    return tuple((name, ZoneInfo(name)) for name in sorted(available_timezones()))


# --- facts from two reads ---------------------------------------------------------------------
def merged(changes: AlertFacts, accounts: AlertFacts) -> AlertFacts:
    """The changes' facts with some accounts' whole facts, each fact once; the rest (the
    watermark, the closed bills) the changes'."""
    invoices = {f.invoice_id: f for f in (*changes.invoices, *accounts.invoices)}
    usage = {(f.line_id, f.kind, f.cycle_start): f for f in (*changes.usage, *accounts.usage)}
    limits = {f.account_id: f for f in (*changes.limits, *accounts.limits)}
    return replace(
        changes,
        invoices=tuple(invoices.values()),
        usage=tuple(usage.values()),
        limits=tuple(limits.values()),
        accounts={**changes.accounts, **accounts.accounts},
        phones={**changes.phones, **accounts.phones},
    )


def withdrawn(
    waiting: Iterable[tuple[int, str]], closed: Collection[tuple[int, str]]
) -> list[int]:
    """The waiting reminders (id, dedupe key) of bills in `closed` (account, number)."""
    gone = {f"{account}:{number}" for account, number in closed}
    return [row_id for row_id, key in waiting if ":".join(key.split(":")[2:4]) in gone]


def _utc(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; the bot stores UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
