"""The scheduler: billbot's periodic jobs, run by one process at a time.

APScheduler 3's `AsyncIOScheduler` on the running event loop. Every process that runs a
scheduler (`billbot serve` unless `BILLBOT_SCHEDULER=false`, or `billbot scheduler` alone) asks
for the `scheduler` lease (`bot.store.leases`) RENEWALS times per lease and runs the jobs only
while it holds it: with several processes each job runs in one of them, and when that one dies
another takes over once the lease runs out (LEASE, or BILLBOT_SCHEDULER_LEASE_SECONDS). Jobs
are thin entry points calling the same services as live chat; alerts are queued with dedupe
keys, so even two schedulers holding the lease by accident (a clock jump) send each alert once.

Outbound delivery is not a scheduled job: the outbox worker, in every process, is woken after
each commit and polls for retries itself.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from datetime import UTC, datetime, timedelta
from functools import partial

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.payments.autopay import charge_due
from bot.services import Services
from bot.store import leases

log = logging.getLogger(__name__)
LEASE_NAME = "scheduler"
LEASE = timedelta(seconds=60)  # the default; BILLBOT_SCHEDULER_LEASE_SECONDS
RENEWALS = 3  # the holder renews the lease this many times per lease
FIRST_SCAN = timedelta(seconds=5)  # after the first try at the lease


AUTOPAY_EVERY = 3600.0  # an invoice is charged on its due day: hourly is soon enough
PLAN_CHANGES_EVERY = 3600.0  # a downgrade starts on a day: within the hour after midnight


class Scheduler:
    """The jobs, and the lease that says whether this process runs them."""

    def __init__(self, services: Services, *, holder: str | None = None) -> None:
        self._services = services
        self.holder = holder or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.leader = False
        self._lease = timedelta(seconds=services.settings.scheduler_lease_seconds)
        self._scheduler = AsyncIOScheduler(timezone="UTC")

    def start(self) -> None:
        """Add the jobs and start them on the running event loop (the lease first)."""
        every = self._services.settings.alerts_every_seconds
        now = datetime.now(UTC)
        renew = self._lease.total_seconds() / RENEWALS
        self._scheduler.add_job(
            self.keep_lease, "interval", seconds=renew, next_run_time=now, **_ONCE
        )
        first_scan = now + min(FIRST_SCAN, self._lease / RENEWALS)
        self._scheduler.add_job(
            self.alerts, "interval", seconds=every, next_run_time=first_scan, **_ONCE
        )
        self._scheduler.add_job(
            self.autopay, "interval", seconds=AUTOPAY_EVERY, next_run_time=first_scan, **_ONCE
        )
        self._scheduler.add_job(
            self.plan_changes,
            "interval",
            seconds=PLAN_CHANGES_EVERY,
            next_run_time=first_scan,
            **_ONCE,
        )
        self._scheduler.start()

    async def stop(self) -> None:
        """Stop the jobs and give the lease up, so another process takes over at once."""
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        if self.leader:
            now = self._services.clock.now()
            work = partial(leases.release, name=LEASE_NAME, holder=self.holder, now=now)
            await self._services.transactions.write(work)
            self.leader = False

    async def keep_lease(self) -> bool:
        """Take or renew the lease; whether this process runs the jobs now."""
        now = self._services.clock.now()
        take = partial(
            leases.take, name=LEASE_NAME, holder=self.holder, now=now, duration=self._lease
        )
        try:
            leader = await self._services.transactions.write(take)
        except Exception as error:  # the database is away: not the leader until it is back
            log.warning("scheduler: could not renew the lease (%s)", type(error).__name__)
            leader = False
        if leader != self.leader:
            log.info("scheduler: %s the jobs", "running" if leader else "not running")
        self.leader = leader
        return leader

    async def alerts(self) -> None:
        """The alert scan, when this process holds the lease."""
        if not self.leader:
            return
        try:
            decisions = await self._services.alerts.run_once(incremental=True)
        except Exception:
            log.exception("scheduler: the alert scan failed; it runs again at the next interval")
            return
        queued = sum(1 for d in decisions if d.outcome in ("queued", "deferred"))
        log.info("scheduler: alert scan queued %d of %d", queued, len(decisions))

    async def autopay(self) -> None:
        """Charge the autopay invoices due today (in each customer's own day), when leader."""
        if not self.leader:
            return
        try:
            charges = await charge_due(self._services, now=self._services.clock.now())
        except Exception:
            log.exception("scheduler: autopay failed; it runs again at the next interval")
            return
        if charges:
            log.info("scheduler: autopay made %d charges", len(charges))

    async def plan_changes(self) -> None:
        """Apply the plan changes whose day has come (downgrades at a new cycle), when leader.
        The billing core also applies an account's own when it next reads its plans."""
        if not self.leader:
            return
        now = self._services.clock.now()
        try:
            applied = await self._services.billing.apply_due_plan_changes(now=now)
        except Exception:
            log.exception("scheduler: plan changes failed; they run again at the next interval")
            return
        if applied:
            log.info("scheduler: applied %d plan changes", applied)


# A job never overlaps itself, and one late run stands for all it missed.
_ONCE = {"max_instances": 1, "coalesce": True}


def start_scheduler(services: Services) -> Scheduler:
    """Start the jobs on the running event loop; the caller stops them (`Scheduler.stop`)."""
    scheduler = Scheduler(services)
    scheduler.start()
    return scheduler
