"""The alert scan: read the facts, plan the alerts, queue them once, withdraw stale reminders.

`AlertService.run_once(now)` is what the scheduler's job and `billbot alerts run-once` call.
Reads are set-based (`BillingClient.alert_facts`); the plan is pure (`bot.alerts.planner`);
alerts are queued through the outbox with their dedupe keys, so a second scan, or a second
scheduler, queues nothing twice. A bill reminder still waiting (quiet hours) whose bill was
paid meanwhile is withdrawn before it goes out.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Collection, Mapping
from dataclasses import replace
from datetime import datetime
from functools import partial

from billing_client import AlertFacts, BillingClient
from bot.addresses import AddressBook
from bot.alerts import watermark
from bot.alerts.planner import (
    BILL_DUE,
    BILL_OVERDUE,
    LINE_BARRED,
    URGENT,
    Context,
    Decision,
    plan,
    scan_window,
)
from bot.alerts.preferences import DEFAULTS, AlertPreferences, AlertSettingsStore
from bot.alerts.reach import choose, holder_phone, telegram_chats
from bot.clock import Clock
from bot.outbox import Outbox

log = logging.getLogger(__name__)
USAGE_FLOOR = 50  # the lowest usage level a customer may choose
REMINDERS = (BILL_DUE, BILL_OVERDUE)
QUEUE_CHUNK = 5000  # alerts queued a transaction (the SQLite write lock held ~0.1 s)
PREFERENCES_LOOKUP = 5000  # more accounts than this: look up only those with settings


class AlertService:
    def __init__(
        self,
        *,
        billing: BillingClient,
        outbox: Outbox,
        settings: AlertSettingsStore,
        addresses: AddressBook | None,
        invoices_url: Callable[[int], str],
        operator: str,
        clock: Clock,
        marks: watermark.ScanMarks,
    ) -> None:
        """`marks`: where the periodic scan left off (`bot_alert_scans`)."""
        self._billing = billing
        self._outbox = outbox
        self._settings = settings
        self._addresses = addresses
        self._invoices_url = invoices_url
        self._operator = operator
        self._clock = clock
        self._marks = marks

    async def run_once(
        self,
        now: datetime | None = None,
        *,
        dry_run: bool = False,
        account_ids: Collection[int] | None = None,
        incremental: bool = False,
    ) -> list[Decision]:
        """Every alert due at `now`: queued (deferred past quiet hours) or skipped, and why;
        only `account_ids`' alerts when given (an event about them just came in).

        `incremental` (the scheduler's periodic scan): read only what changed since the last
        scan and plan the alerts that made due (`bot.alerts.watermark`); read everything when
        there is no last scan, the clock went back or a new UTC day began. Without it, and
        without `account_ids`, the scan reads everything and leaves the next one a
        watermark; a dry run leaves none."""
        now = now or self._clock.now()
        facts, last = await self._facts(now, account_ids, incremental=incremental)
        facts = await self._with_low_balances(facts, account_ids)
        preferences = await self._preferences(facts)
        reach = await self._reach(facts, preferences)
        context = Context(now, self._operator, self._invoices_url)
        decisions = plan(facts, preferences, reach, context)
        if dry_run:
            return decisions
        if account_ids is not None:
            await self._withdraw_paid_reminders(facts, account_ids)
        elif last is None:
            await self._withdraw_settled(now)
        else:
            await self._withdraw_closed(facts)
        decisions = await self._enforce_caps(decisions, now)
        queued = await self._queue_all(await self._everywhere(decisions, facts))
        if account_ids is None:
            mark = watermark.full_scan_mark if last is None else last.then
            await self._scan_marks().save(mark(now, facts.watermark))
        return queued

    async def _facts(
        self, now: datetime, account_ids: Collection[int] | None, *, incremental: bool
    ) -> tuple[AlertFacts, watermark.ScanMark | None]:
        """This scan's facts, and the last scan's mark when they are only what changed since."""
        issued_since, due_until = scan_window(now)
        ask = partial(
            self._billing.alert_facts, now=now, issued_since=issued_since, due_until=due_until
        )
        if account_ids is not None:
            return await ask(usage_floor=USAGE_FLOOR, account_ids=account_ids), None
        last = await self._scan_marks().load() if incremental else None
        if last is None or not last.continues(now):
            # Everything: the bills with an alert due today, the allowances used to the
            # lowest level anybody chose, the caps past their alert level.
            floor = await self._scan_marks().lowest_usage_level()
            return await ask(usage_floor=floor, dated=watermark.due_today(now)), None
        ask = partial(ask, usage_floor=USAGE_FLOOR)
        dated = watermark.dated(last.planned_at, now)
        facts = await ask(changed_since=last.changes_from, dated=dated)
        resettled = await self._scan_marks().settings_changed(last.planned_at)
        if resettled:  # new levels, kinds or channel: their accounts' alerts, all of them
            facts = watermark.merged(facts, await ask(account_ids=resettled))
        return facts, last

    async def _with_low_balances(
        self, facts: AlertFacts, account_ids: Collection[int] | None
    ) -> AlertFacts:
        """The prepaid accounts under their low-balance level (few: a level is opt-in), with
        the accounts and holders' numbers the facts lack."""
        low = await self._billing.low_balance_facts(account_ids=account_ids)
        accounts, phones = dict(facts.accounts), dict(facts.phones)
        for account_id in {fact.account_id for fact in low} - accounts.keys():
            account = await self._billing.get_account(account_id)
            accounts[account_id] = account
            phone = holder_phone(account, await self._billing.list_lines(account_id))
            if phone is not None:
                phones[account_id] = phone
        return replace(facts, low_balances=low, accounts=accounts, phones=phones)

    async def _queue_all(self, decisions: list[Decision]) -> list[Decision]:
        """`_queue` a chunk a transaction, as many at once as the database takes writers (two
        on PostgreSQL, one on SQLite): a first scan of a million lines queues a hundred
        thousand alerts (dedupe keys make a chunk that failed safe to queue again)."""
        chunks = [decisions[i : i + QUEUE_CHUNK] for i in range(0, len(decisions), QUEUE_CHUNK)]
        writers = asyncio.Semaphore(self._outbox.parallel_writers)

        async def queue(chunk: list[Decision]) -> list[Decision]:
            async with writers:
                return await self._queue(chunk)

        done = await asyncio.gather(*(queue(chunk) for chunk in chunks))
        return [decision for chunk in done for decision in chunk]

    async def _preferences(self, facts: AlertFacts) -> Mapping[int, AlertPreferences]:
        """The alert settings of the facts' accounts; a big scan looks up only those of the
        customers who saved any (the rest have the defaults), not every account it names."""
        named: Collection[int] = facts.accounts.keys()
        if len(named) > PREFERENCES_LOOKUP:
            named = facts.accounts.keys() & await self._scan_marks().with_settings()
        return await self._settings.get_many(named)

    def _scan_marks(self) -> watermark.ScanMarks:
        return self._marks

    async def _withdraw_settled(self, now: datetime) -> None:
        """After a full scan (which reads only the bills with an alert due today): reminders
        waiting to go whose bill is no longer open, their accounts' open bills read to tell."""
        waiting = await self._outbox.waiting(REMINDERS)
        if not waiting:
            return
        issued_since, due_until = scan_window(now)
        facts = await self._billing.alert_facts(
            now=now,
            issued_since=issued_since,
            due_until=due_until,
            usage_floor=USAGE_FLOOR,
            account_ids={int(_account_of(key)) for _, key in waiting},
        )
        still_open = {f"{f.account_id}:{f.number}" for f in facts.invoices}
        stale = [row_id for row_id, key in waiting if _invoice_of(key) not in still_open]
        if stale:
            await self._outbox.withdraw(stale, reason="superseded: the bill is no longer open")

    async def _withdraw_closed(self, facts: AlertFacts) -> None:
        """Reminders waiting to go whose bill was paid or voided since the last scan."""
        if not facts.closed:
            return
        stale = watermark.withdrawn(await self._outbox.waiting(REMINDERS), facts.closed)
        if stale:
            await self._outbox.withdraw(stale, reason="superseded: the bill is no longer open")

    async def _queue(self, decisions: list[Decision]) -> list[Decision]:
        messages = [d.message for d in decisions if d.message is not None]
        new = await self._outbox.enqueue_many(messages)
        queued = []
        for decision in decisions:
            if decision.message is not None and decision.message.dedupe_key not in new:
                decision = Decision(
                    decision.kind, decision.account_id, decision.key, "already queued"
                )
            queued.append(decision)
        log.info("alerts: %d queued or deferred", len(new))
        return queued

    async def _enforce_caps(self, decisions: list[Decision], now: datetime) -> list[Decision]:
        """The cap bar goes on before its notice is queued; a notice with nothing barred (the
        customer said CONTINUE meanwhile, say) is dropped."""
        enforced = []
        for decision in decisions:
            if decision.kind == LINE_BARRED and decision.message is not None:
                result = await self._billing.bar_over_limit(
                    decision.account_id, actor="alerts", now=now
                )
                if not result.limit.capped_lines:
                    decision = _skipped(decision, "nothing to bar: consent or another bar")
            enforced.append(decision)
        return enforced

    async def _everywhere(self, decisions: list[Decision], facts: AlertFacts) -> list[Decision]:
        """Urgent alerts (a line barred) go to every verified channel of the holder: their
        own number by SMS, the chosen channel, each linked chat and their email."""
        spread: list[Decision] = []
        for decision in decisions:
            if decision.kind in URGENT and decision.message is not None:
                addresses = await self._verified(decision, facts)
                spread.extend(_to(decision, channel, address) for channel, address in addresses)
            else:
                spread.append(decision)
        return spread

    async def _verified(self, decision: Decision, facts: AlertFacts) -> list[tuple[str, str]]:
        assert decision.message is not None
        found = [(decision.message.channel, decision.message.address)]
        phone = facts.phones.get(decision.account_id)
        if phone is not None:
            found.append(("sms", phone))
            if self._addresses is not None:
                found.extend(await self._addresses.addresses_of(phone))
        account = facts.accounts.get(decision.account_id)
        if account is not None and account.email:
            found.append(("email", account.email))
        return list(dict.fromkeys(found))

    async def _withdraw_paid_reminders(
        self, facts: AlertFacts, account_ids: Collection[int] | None
    ) -> None:
        """Reminders waiting to go whose bill is no longer open (paid, voided): withdrawn; only
        `account_ids`' when the scan was about them."""
        still_open = {f"{f.account_id}:{f.number}" for f in facts.invoices}
        scope = None if account_ids is None else {str(a) for a in account_ids}
        stale = [
            row_id
            for row_id, key in await self._outbox.waiting(REMINDERS)
            if _invoice_of(key) not in still_open and (scope is None or _account_of(key) in scope)
        ]
        if stale:
            await self._outbox.withdraw(stale, reason="superseded: the bill is no longer open")

    async def _reach(
        self, facts: AlertFacts, preferences: Mapping[int, AlertPreferences]
    ) -> dict[int, tuple[str, str]]:
        """Where each account is told: its chosen channel, else its own number by SMS, else
        email."""
        reach = {}
        for account_id, account in facts.accounts.items():
            phone = facts.phones.get(account_id)
            chosen = preferences.get(account_id, DEFAULTS).channel
            where = await self._chosen(chosen, phone, account.email)
            if where is not None:
                reach[account_id] = where
        return reach

    async def _chosen(
        self, channel: str | None, phone: str | None, email: str
    ) -> tuple[str, str] | None:
        chats = await telegram_chats(self._addresses, phone) if channel == "telegram" else []
        return choose(channel, phone, email, chats)


def _skipped(decision: Decision, why: str) -> Decision:
    return Decision(decision.kind, decision.account_id, decision.key, "skipped", why)


def _to(decision: Decision, channel: str, address: str) -> Decision:
    """The decision's message sent to one more address, under a key of its own."""
    assert decision.message is not None
    key = f"{decision.key}:{channel}:{address}"[:160]
    message = replace(decision.message, channel=channel, address=address, dedupe_key=key)
    return replace(decision, key=key, message=message, why=f"by {channel}")


def _account_of(key: str) -> str:
    """ "alert:bill_due:7:INV-0001:3" → "7"."""
    return key.split(":")[2]


def _invoice_of(key: str) -> str:
    """ "alert:bill_due:7:INV-0001:3" → "7:INV-0001"."""
    parts = key.split(":")
    return ":".join(parts[2:4])
