"""The alert scan on the demo data, on both databases: once per alert, at the right hour, to
the right place; stale reminders withdrawn; the scheduler's lease passed on."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from billing_client import Money
from bot.bootstrap import build_services
from bot.clock import FakeClock
from bot.nlu import NluModel
from bot.services import Services
from bot.settings import Settings
from bot.store import suppressions
from scheduler.runner import LEASE, Scheduler
from tests.helpers import TEST_SECRET

ALEX, SAM = "+12025550101", "+12025550102"


@pytest.fixture
async def services(
    demo_db_url: str, clock: FakeClock, nlu_model: NluModel
) -> AsyncIterator[Services]:
    settings = Settings(database_url=demo_db_url, demo=True, secret_key=TEST_SECRET)
    built = await build_services(settings, clock=clock, nlu=nlu_model)
    yield built
    await built.close()


def at_local_noon(clock: FakeClock) -> None:
    """Move the clock to the next 17:00 UTC (noon in New York): outside everyone's quiet hours."""
    now = clock.now()
    noon = now.replace(hour=17, minute=0, second=0, microsecond=0)
    clock.advance(seconds=((noon - now) % timedelta(days=1)).total_seconds())


async def test_usage_alerts_go_once_to_the_account_holders_number(
    services: Services, clock: FakeClock
) -> None:
    at_local_noon(clock)
    first = await services.alerts.run_once()
    again = await services.alerts.run_once()

    usage = sorted((d.outcome, d.message.address) for d in first if d.kind == "usage_threshold")  # type: ignore[union-attr]
    assert usage == [("queued", ALEX), ("queued", SAM)]  # Jordan's line tells Sam, the holder
    assert {d.outcome for d in again} == {"already queued"}
    assert len([e for e in await services.outbox.list() if e.kind == "usage_threshold"]) == 2


async def test_a_bill_reminder_is_queued_three_days_before_it_is_due(
    services: Services, clock: FakeClock
) -> None:
    at_local_noon(clock)
    clock.advance(days=7)  # Alex's bill is due in 10 days at the start

    decisions = await services.alerts.run_once()

    [due] = [d for d in decisions if d.kind == "bill_due" and d.account_id == 1]
    assert due.outcome == "queued" and due.key.endswith(":3")
    assert "$64.20" in due.message.replies[0].text  # type: ignore[union-attr]


async def test_an_alert_at_night_waits_for_the_morning_and_a_paid_bills_reminder_is_withdrawn(
    services: Services, clock: FakeClock
) -> None:
    at_local_noon(clock)
    clock.advance(days=7, hours=10)  # 22:00 in New York, three days before Alex's bill is due
    [due] = [
        d for d in await services.alerts.run_once() if d.kind == "bill_due" and d.account_id == 1
    ]
    assert due.outcome == "deferred"
    account = await services.billing.find_account_by_msisdn(ALEX)
    assert account is not None
    balance = await services.billing.get_balance(account.id, now=clock.now())
    invoice = balance.open_invoices[0]

    await services.billing.record_payment(
        account.id,
        invoice.id,
        Money(invoice.amount_due.minor, "USD"),
        provider="test",
        provider_reference="paid-before-the-reminder",
        now=clock.now(),
    )
    await services.alerts.run_once()

    [row] = [e for e in await services.outbox.list() if e.kind == "bill_due"]
    assert row.status == "suppressed" and "no longer open" in (row.last_error or "")


async def test_an_opted_out_number_gets_no_alert(services: Services, clock: FakeClock) -> None:
    at_local_noon(clock)

    def opt_out(connection: object) -> None:
        suppressions.suppress_on(connection, "sms", ALEX, reason="opted_out", now=clock.now())  # type: ignore[arg-type]

    await services.transactions.write(opt_out)
    await services.alerts.run_once()
    await services.outbox.deliver_due()

    [row] = [e for e in await services.outbox.list() if e.recipient == ALEX]
    assert row.status == "suppressed"


async def test_a_scan_about_one_account_queues_only_its_alerts_and_withdraws_no_others(
    services: Services, clock: FakeClock
) -> None:
    at_local_noon(clock)
    clock.advance(days=7, hours=10)  # night: Alex's reminder waits for the morning
    alex = await services.billing.find_account_by_msisdn(ALEX)
    sam = await services.billing.find_account_by_msisdn(SAM)
    assert alex is not None and sam is not None

    about_alex = await services.alerts.run_once(account_ids={alex.id})
    about_sam = await services.alerts.run_once(account_ids={sam.id})

    assert {d.account_id for d in about_alex} == {alex.id}
    assert all(d.account_id == sam.id for d in about_sam)
    [alex_due] = [e for e in await services.outbox.list() if e.kind == "bill_due"]
    assert alex_due.status == "queued"  # a scan about Sam leaves Alex's reminder alone


async def test_two_scans_at_once_queue_each_alert_once(
    services: Services, clock: FakeClock
) -> None:
    at_local_noon(clock)

    await asyncio.gather(services.alerts.run_once(), services.alerts.run_once())

    keys = [e.kind for e in await services.outbox.list() if e.kind == "usage_threshold"]
    assert len(keys) == 2


async def test_one_scheduler_holds_the_lease_and_another_takes_over_when_it_dies(
    services: Services, clock: FakeClock
) -> None:
    first, second = Scheduler(services, holder="first"), Scheduler(services, holder="second")

    assert await first.keep_lease() and not await second.keep_lease()
    clock.advance(seconds=LEASE.total_seconds() / 2)
    assert await first.keep_lease() and not await second.keep_lease()  # renewed in time
    clock.advance(seconds=LEASE.total_seconds() + 1)  # the first died: it renews no more

    assert await second.keep_lease()
    assert not await first.keep_lease()


async def test_a_scheduler_that_stops_hands_the_lease_on_at_once(services: Services) -> None:
    first, second = Scheduler(services, holder="first"), Scheduler(services, holder="second")
    await first.keep_lease()

    await first.stop()

    assert await second.keep_lease()


async def test_only_the_lease_holder_scans(services: Services, clock: FakeClock) -> None:
    at_local_noon(clock)
    follower = Scheduler(services, holder="follower")
    leader = Scheduler(services, holder="leader")
    await leader.keep_lease()
    await follower.keep_lease()

    await follower.alerts()
    assert [e for e in await services.outbox.list() if e.kind == "usage_threshold"] == []
    await leader.alerts()
    assert len([e for e in await services.outbox.list() if e.kind == "usage_threshold"]) == 2
