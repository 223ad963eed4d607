"""Which alerts are due, for whom, when and where: pure decisions over one scan's facts.

Each alert has a dedupe key (kind, account, period, threshold), so however often the scan
runs, and however many schedulers run it, the outbox stores it once. An alert is **deferred**
past the customer's quiet hours (non-urgent kinds) by its `not_before`, **skipped** when the
customer turned that kind off or no channel reaches them, and otherwise **queued**.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel.dates import format_date

from billing_client import (
    Account,
    AlertFacts,
    InvoiceFact,
    LimitFact,
    LowBalanceFact,
    Money,
    UsageFact,
)
from bot import i18n
from bot.alerts import texts
from bot.alerts.preferences import DEFAULTS, AlertPreferences
from bot.phones import display
from bot.types import OutboundMessage, Reply

BILL_READY, BILL_DUE, BILL_OVERDUE = "bill_ready", "bill_due", "bill_overdue"
USAGE_THRESHOLD, BILL_LIMIT = "usage_threshold", "bill_limit"
LINE_BARRED = "line_barred"  # the spending cap barred chargeable usage (the customer opted in)
LOW_BALANCE = "low_balance"  # a prepaid balance under the customer's level
KINDS = (
    BILL_READY,
    BILL_DUE,
    BILL_OVERDUE,
    USAGE_THRESHOLD,
    BILL_LIMIT,
    LINE_BARRED,
    LOW_BALANCE,
)
URGENT = frozenset({LINE_BARRED})  # go at once, quiet hours or not, to every channel
DUE_DAYS = (3, 1)  # reminders this many days before the due date
OVERDUE_DAYS = (1, 8, 15, 22)  # the day after, then weekly, four at most
READY_DAYS = 3  # a new bill is announced within this many days of being issued
LINK_DAYS = 7  # how long after a new bill its link is sent


@dataclass(frozen=True, slots=True)
class Decision:
    """What the scan did with one alert: queued (with `message`), deferred, or skipped."""

    kind: str
    account_id: int
    key: str
    outcome: str  # "queued" | "deferred" | "skipped" | "already queued"
    why: str = ""
    message: OutboundMessage | None = None


@dataclass(frozen=True, slots=True)
class Context:
    """What every alert of one scan shares."""

    now: datetime
    operator: str
    invoices_url: Callable[[int], str]  # the signed invoice-list link of an account


@dataclass(frozen=True, slots=True)
class _Due:
    """One alert that is due, before channel and quiet hours are applied."""

    kind: str
    account: Account
    key: str
    text: str


def plan(
    facts: AlertFacts,
    preferences: Mapping[int, AlertPreferences],
    reach: Mapping[int, tuple[str, str]],
    context: Context,
) -> list[Decision]:
    """Every alert due in `facts`; `reach` is where each account is reached (channel, address)."""
    decisions = []
    for due in _due(facts, preferences, context):
        prefs = preferences.get(due.account.id, DEFAULTS)
        decisions.append(_decide(due, prefs, reach.get(due.account.id), context.now))
    return decisions


def scan_window(now: datetime) -> tuple[date, date]:
    """(issued since, due until) the scan asks billing for, wide enough for every zone."""
    today = now.date()
    return today - timedelta(days=READY_DAYS + 1), today + timedelta(days=max(DUE_DAYS) + 1)


def usage_floor(preferences: Iterable[AlertPreferences]) -> int:
    """The lowest usage level anybody asked for (the scan's floor)."""
    return min((min(p.usage_levels) for p in preferences if p.usage_levels), default=80)


# --- what is due -----------------------------------------------------------------------------
def _due(
    facts: AlertFacts, preferences: Mapping[int, AlertPreferences], context: Context
) -> Iterator[_Due]:
    for invoice in facts.invoices:
        account = facts.accounts.get(invoice.account_id)
        if account is not None:
            yield from _invoice_alerts(invoice, account, context)
    for usage in facts.usage:
        account = facts.accounts.get(usage.account_id)
        prefs = preferences.get(usage.account_id, DEFAULTS)
        if account is not None:
            yield from _usage_alerts(usage, account, prefs.usage_levels, context)
    for limit in facts.limits:
        account = facts.accounts.get(limit.account_id)
        if account is not None:
            yield from _limit_alerts(limit, account, context)
    for low in facts.low_balances:
        account = facts.accounts.get(low.account_id)
        if account is not None:
            yield _low_balance_alert(low, account, context)


def _invoice_alerts(invoice: InvoiceFact, account: Account, context: Context) -> Iterator[_Due]:
    today = _local(context.now, account).date()
    days_left = (invoice.due_on - today).days
    ready = 0 <= (today - invoice.issued_on).days < READY_DAYS
    if not ready and days_left not in DUE_DAYS and -days_left not in OVERDUE_DAYS:
        return  # most open bills on most days: nothing to format
    values = {
        "operator": context.operator,
        "number": invoice.number,
        "amount": _money(invoice.amount_due, account.locale),
        "due": _long_date(invoice.due_on, account.locale),
    }
    base = f"{account.id}:{invoice.number}"
    if ready:
        link = context.invoices_url(account.id)
        text = i18n.say(texts.BILL_READY, account.locale, link=link, **values)
        yield _Due(BILL_READY, account, f"alert:{BILL_READY}:{base}", text)
    if days_left in DUE_DAYS:
        when = i18n.plural(texts.DUE_WHEN, account.locale, days_left, due=values["due"])
        text = i18n.say(texts.BILL_DUE, account.locale, when=when, **values)
        yield _Due(BILL_DUE, account, f"alert:{BILL_DUE}:{base}:{days_left}", text)
    if -days_left in OVERDUE_DAYS:
        text = i18n.say(texts.BILL_OVERDUE, account.locale, **values)
        yield _Due(BILL_OVERDUE, account, f"alert:{BILL_OVERDUE}:{base}:{-days_left}", text)


def _usage_alerts(
    usage: UsageFact, account: Account, levels: Sequence[int], context: Context
) -> Iterator[_Due]:
    crossed = [level for level in levels if usage.percent_used >= level]
    if not crossed:
        return
    level = max(crossed)  # one alert, the highest level crossed: never 80 % and 100 % together
    locale = account.locale
    text = i18n.say(
        texts.USAGE,
        locale,
        operator=context.operator,
        number=display(usage.msisdn),
        percent=usage.percent_used,
        kind=i18n.say(texts.KINDS.get(usage.kind, {"en": usage.kind}), locale),
        used=_amount(usage.used, usage.unit),
        allowance=_amount(usage.allowance, usage.unit),
        renews=_long_date(usage.cycle_end + timedelta(days=1), locale),
    )
    period = f"{usage.line_id}:{usage.kind}:{usage.cycle_start.isoformat()}"
    key = f"alert:{USAGE_THRESHOLD}:{account.id}:{period}:{level}"
    yield _Due(USAGE_THRESHOLD, account, key, text)


def _limit_alerts(limit: LimitFact, account: Account, context: Context) -> Iterator[_Due]:
    """The warning at the customer's level; at 100 % a notice, or — when they chose barring
    and have not said CONTINUE this cycle — the cap bar's notice (the service bars first)."""
    reached = limit.percent_used >= 100
    consented = limit.consented_on(_local(context.now, account).date())
    if reached and limit.bar and consented:
        return  # they chose to go on past the cap until the cycle ends
    values = _limit_values(limit, account, context)
    cycle = (limit.cycle_start or _local(context.now, account).date()).isoformat()
    if reached and limit.bar:
        text = i18n.say(texts.LIMIT_BARRED, account.locale, **values)
        key = f"alert:{LINE_BARRED}:{account.id}:{cycle}:{limit.limit.minor}"
        yield _Due(LINE_BARRED, account, key, text)
        return
    level = 100 if reached else limit.alert_percent
    text = i18n.say(texts.LIMIT_REACHED if reached else texts.LIMIT_NEAR, account.locale, **values)
    yield _Due(BILL_LIMIT, account, f"alert:{BILL_LIMIT}:{account.id}:{cycle}:{level}", text)


def _low_balance_alert(low: LowBalanceFact, account: Account, context: Context) -> _Due:
    """Once per drop under the level: a top-up starts the next one."""
    text = i18n.say(
        texts.LOW_BALANCE,
        account.locale,
        operator=context.operator,
        balance=low.balance.format(account.locale),
        level=low.level.format(account.locale),
    )
    key = f"alert:{LOW_BALANCE}:{account.id}:{low.top_up}:{low.level.minor}"
    return _Due(LOW_BALANCE, account, key, text)


def _limit_values(limit: LimitFact, account: Account, context: Context) -> dict[str, object]:
    end = limit.cycle_end or _local(context.now, account).date()
    return {
        "operator": context.operator,
        "unbilled": limit.unbilled.format(account.locale),
        "limit": limit.limit.format(account.locale),
        "percent": limit.percent_used,
        "end": format_date(end, format="long", locale=account.locale),
        "raise_to": suggested_raise(limit.limit),
    }


def suggested_raise(limit: Money) -> int:
    """A round new cap to offer ("RAISE 200" for a $150 cap): a third more, up to a 50."""
    major = limit.amount
    return int(math.ceil(major * 4 / 3 / 50) * 50)


# --- when and where --------------------------------------------------------------------------
def _decide(
    due: _Due, prefs: AlertPreferences, reach: tuple[str, str] | None, now: datetime
) -> Decision:
    account = due.account
    if due.kind not in URGENT and not prefs.wants(due.kind):
        return Decision(due.kind, account.id, due.key, "skipped", "turned off by the customer")
    if reach is None:
        return Decision(due.kind, account.id, due.key, "skipped", "no channel reaches them")
    channel, address = reach
    not_before = None if due.kind in URGENT else next_allowed(now, account, prefs)
    message = OutboundMessage(
        channel=channel,
        address=address,
        replies=(Reply(text=due.text),),
        kind=due.kind,
        dedupe_key=due.key[:160],
        account_id=account.id,
        not_before=not_before,
    )
    if not_before is not None:
        why = f"quiet hours: at {not_before.astimezone(ZoneInfo(account.timezone)):%H:%M} local"
        return Decision(due.kind, account.id, due.key, "deferred", why, message)
    return Decision(due.kind, account.id, due.key, "queued", f"by {channel}", message)


def next_allowed(now: datetime, account: Account, prefs: AlertPreferences) -> datetime | None:
    """None when `now` is outside the customer's quiet hours, else when they end (local)."""
    local = _local(now, account)
    if not prefs.quiet_at(local.time()):
        return None
    end = datetime.combine(local.date(), prefs.quiet_end, tzinfo=local.tzinfo)
    if end <= local:
        end = datetime.combine(local.date() + timedelta(days=1), prefs.quiet_end)
        end = end.replace(tzinfo=local.tzinfo)  # zoneinfo picks the right offset (DST)
    return end


def _local(now: datetime, account: Account) -> datetime:
    return now.astimezone(ZoneInfo(account.timezone))


@lru_cache(maxsize=8192)  # a scan formats the same few amounts and dates thousands of times
def _money(amount: Money, locale: str) -> str:
    return amount.format(locale)


@lru_cache(maxsize=8192)
def _long_date(day: date, locale: str) -> str:
    return format_date(day, format="long", locale=locale)


def _amount(value: int, unit: str) -> str:
    if unit == "MB":
        return f"{value / 1024:.1f} GB"
    return f"{value} {unit}"
