"""A customer's alert settings: which alerts, on which channel, and the quiet hours.

No stored row means the defaults: every alert on, the automatic channel (the holder's own
number by SMS, else email), quiet hours 21:00–08:00 in the customer's time zone, usage alerts
at 80 % and 100 % of each allowance.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, time

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.store.models import AlertSettings
from bot.store.sql import claim_write_lock, dialect_insert

# The alerts a customer may turn off, in the order settings list them. Urgent notices (a line
# barred) are not among them: they always go.
CHOOSABLE = (
    "bill_ready",
    "bill_due",
    "bill_overdue",
    "usage_threshold",
    "bill_limit",
    "payment_received",
    "low_balance",
    "ticket_updated",
)
POSTPAID_ONLY = frozenset({"bill_ready", "bill_due", "bill_overdue", "bill_limit"})
PREPAID_ONLY = frozenset({"low_balance"})
DEFAULT_LEVELS = (80, 100)
QUIET_START, QUIET_END = time(21, 0), time(8, 0)
CHUNK = 5000


def choosable(billing_type: str) -> tuple[str, ...]:
    """The alerts an account of this billing type can get (and so turn off)."""
    other = PREPAID_ONLY if billing_type == "postpaid" else POSTPAID_ONLY
    return tuple(kind for kind in CHOOSABLE if kind not in other)


@dataclass(frozen=True, slots=True)
class AlertPreferences:
    channel: str | None = None  # "sms", "whatsapp", "telegram", "email"; None: automatic
    quiet_start: time = QUIET_START
    quiet_end: time = QUIET_END
    disabled: frozenset[str] = field(default_factory=frozenset)  # kinds turned off
    usage_levels: tuple[int, ...] = DEFAULT_LEVELS

    def wants(self, kind: str) -> bool:
        return kind not in self.disabled

    def quiet_at(self, moment: time) -> bool:
        """Whether `moment` (local) falls in the quiet hours (which may wrap midnight)."""
        start, end = self.quiet_start, self.quiet_end
        if start == end:
            return False
        return start <= moment or moment < end if start > end else start <= moment < end


DEFAULTS = AlertPreferences()


class AlertSettingsStore:
    """`bot_alert_settings` rows as AlertPreferences."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def get(self, account_id: int) -> AlertPreferences:
        return (await self.get_many([account_id])).get(account_id, DEFAULTS)

    async def get_many(self, account_ids: Iterable[int]) -> Mapping[int, AlertPreferences]:
        """The stored settings of these accounts (absent ones have the defaults)."""
        ids = sorted(set(account_ids))
        found: dict[int, AlertPreferences] = {}
        async with self._sessions() as session:
            for start in range(0, len(ids), CHUNK):
                chunk = ids[start : start + CHUNK]
                query = select(AlertSettings).where(AlertSettings.account_id.in_(chunk))
                for row in (await session.scalars(query)).all():
                    found[row.account_id] = _preferences(row)
        return found

    async def save(self, account_id: int, preferences: AlertPreferences, *, now: datetime) -> None:
        values = {
            "account_id": account_id,
            "channel": preferences.channel,
            "quiet_start": preferences.quiet_start.strftime("%H:%M"),
            "quiet_end": preferences.quiet_end.strftime("%H:%M"),
            "disabled": sorted(preferences.disabled),
            "usage_levels": list(preferences.usage_levels),
            "updated_at": now,
        }
        async with self._sessions() as session, session.begin():
            await claim_write_lock(session)
            insert = dialect_insert(session, AlertSettings).values(**values)
            changed = {k: v for k, v in values.items() if k != "account_id"}
            await session.execute(
                insert.on_conflict_do_update(index_elements=["account_id"], set_=changed)
            )


def _preferences(row: AlertSettings) -> AlertPreferences:
    return AlertPreferences(
        channel=row.channel,
        quiet_start=time.fromisoformat(row.quiet_start),
        quiet_end=time.fromisoformat(row.quiet_end),
        disabled=frozenset(str(kind) for kind in row.disabled or []),
        usage_levels=tuple(sorted(int(level) for level in row.usage_levels or DEFAULT_LEVELS)),
    )
