"""The scheduler's scan reads only what changed since the last scan (the watermark), on both
databases: nothing new reads nothing; a counter, a bill or a customer's settings written since
are found; a day that begins in a customer's time zone brings the reminders due that day."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from billing_client import Money
from billing_client.sql.usage_import import import_usage_file
from billing_client.usage_csv import COLUMNS, parse_usage_csv
from bot.alerts.preferences import AlertSettingsStore
from bot.alerts.watermark import ScanMarks
from bot.bootstrap import build_services
from bot.clock import FakeClock
from bot.nlu import NluModel
from bot.services import Services
from bot.settings import Settings
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


def at_utc(clock: FakeClock, moment: datetime) -> None:
    clock.advance(seconds=(moment - clock.now()).total_seconds())


def at_local_noon(clock: FakeClock) -> None:
    """The next 17:00 UTC (noon in New York): outside everyone's quiet hours."""
    now = clock.now()
    noon = now.replace(hour=17, minute=0, second=0, microsecond=0)
    clock.advance(seconds=((noon - now) % timedelta(days=1)).total_seconds())


async def account_id(services: Services, phone: str) -> int:
    account = await services.billing.find_account_by_msisdn(phone)
    assert account is not None
    return account.id


async def test_a_scan_with_nothing_new_reads_and_plans_nothing(
    services: Services, clock: FakeClock
) -> None:
    at_local_noon(clock)
    first = await services.alerts.run_once(incremental=True)  # no mark yet: everything
    clock.advance(minutes=5)

    again = await services.alerts.run_once(incremental=True)

    assert {d.kind for d in first} == {"usage_threshold"}
    assert again == []
    mark = await ScanMarks(services.sessions).load()
    assert mark is not None and mark.planned_at == clock.now()
    unchanged = await services.billing.alert_facts(
        now=clock.now(),
        issued_since=clock.now().date(),
        due_until=clock.now().date(),
        usage_floor=50,
        changed_since=mark.changes_from,
    )
    assert (unchanged.invoices, unchanged.usage, unchanged.limits) == ((), (), ())
    assert not unchanged.accounts and not unchanged.closed


async def test_a_counter_written_after_the_watermark_is_found(
    services: Services, clock: FakeClock
) -> None:
    at_local_noon(clock)
    await services.alerts.run_once(incremental=True)
    clock.advance(minutes=5)
    used = f"{ALEX},{(clock.now() - timedelta(hours=1)).isoformat()},data,9,GB,"
    usage = parse_usage_csv([",".join(COLUMNS), used])  # 41.5 + 9 GB of 50: past 100 %
    await import_usage_file(services.sessions, usage, now=clock.now())

    found = await services.alerts.run_once(incremental=True)

    alex = await account_id(services, ALEX)
    [alert] = found
    assert (alert.kind, alert.account_id, alert.outcome) == ("usage_threshold", alex, "queued")
    assert alert.key.endswith(":100")


async def test_a_day_that_begins_in_the_customers_zone_brings_its_reminders(
    services: Services, clock: FakeClock
) -> None:
    # Alex's bill is due on 24 March (New York); three days before, 21 March begins there at
    # 04:00 UTC (daylight saving time): the scans around it fall on one UTC day.
    at_utc(clock, datetime(2025, 3, 21, 3, 50, tzinfo=UTC))
    before = await services.alerts.run_once(incremental=True)
    clock.advance(minutes=20)

    after = await services.alerts.run_once(incremental=True)

    alex = await account_id(services, ALEX)
    assert not [d for d in before if d.kind == "bill_due"]
    [due] = [d for d in after if d.kind == "bill_due"]
    assert due.account_id == alex and due.key.endswith(":3")
    assert due.outcome == "deferred"  # 00:10 in New York: it waits for the morning


async def test_a_bill_paid_since_the_last_scan_withdraws_its_waiting_reminder(
    services: Services, clock: FakeClock
) -> None:
    at_local_noon(clock)
    clock.advance(days=7, hours=10)  # 22:00 in New York, three days before Alex's bill is due
    await services.alerts.run_once(incremental=True)
    alex = await account_id(services, ALEX)
    balance = await services.billing.get_balance(alex, now=clock.now())
    invoice = balance.open_invoices[0]
    await services.billing.record_payment(
        alex,
        invoice.id,
        Money(invoice.amount_due.minor, "USD"),
        provider="test",
        provider_reference="paid-at-night",
        now=clock.now(),
    )
    clock.advance(minutes=5)

    assert await services.alerts.run_once(incremental=True) == []

    [row] = [e for e in await services.outbox.list() if e.kind == "bill_due"]
    assert row.status == "suppressed" and "no longer open" in (row.last_error or "")


async def test_new_alert_settings_bring_the_customers_alerts_at_their_levels(
    services: Services, clock: FakeClock
) -> None:
    at_local_noon(clock)
    await services.alerts.run_once(incremental=True)
    sam = await account_id(services, SAM)
    store = AlertSettingsStore(services.sessions)
    lower = replace(await store.get(sam), usage_levels=(50, 80, 100))
    await store.save(sam, lower, now=clock.now())
    clock.advance(minutes=5)

    found = await services.alerts.run_once(incremental=True)

    usage = [d for d in found if d.kind == "usage_threshold" and d.outcome == "queued"]
    assert [d.key.rsplit(":", 1)[1] for d in usage] == ["50"]  # Sam's 12.3 GB of 20: 61 %
    assert {d.account_id for d in found} == {sam}


async def test_a_dry_run_leaves_the_watermark_alone(services: Services, clock: FakeClock) -> None:
    at_local_noon(clock)
    await services.alerts.run_once(incremental=True)
    mark = await ScanMarks(services.sessions).load()
    clock.advance(minutes=5)

    await services.alerts.run_once(incremental=True, dry_run=True)

    assert await ScanMarks(services.sessions).load() == mark


async def test_a_new_utc_day_reads_everything_again(services: Services, clock: FakeClock) -> None:
    at_local_noon(clock)
    await services.alerts.run_once(incremental=True)
    clock.advance(hours=8)  # 01:00 UTC the next day: the daily catch-up

    again = await services.alerts.run_once(incremental=True)

    assert {d.outcome for d in again if d.kind == "usage_threshold"} == {"already queued"}
    mark = await ScanMarks(services.sessions).load()
    assert mark is not None and mark.full_at == clock.now()
