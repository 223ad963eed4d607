"""The watermark's pure parts: when a scan may read only the changes, which days began where,
which bills those days bring, and how two reads' facts combine."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from billing_client import Account, AlertFacts, InvoiceFact, Money, UsageFact
from bot.alerts.watermark import (
    ScanMark,
    begun_days,
    dated,
    due_today,
    full_scan_mark,
    merged,
    withdrawn,
)

NOON = datetime(2025, 3, 14, 17, 0, tzinfo=UTC)  # noon in New York
MARK = datetime(2025, 3, 14, 16, 0, tzinfo=UTC)


def test_a_scan_continues_from_the_last_on_the_same_utc_day_only() -> None:
    mark = full_scan_mark(NOON, MARK)

    assert mark.continues(NOON + timedelta(minutes=5))
    assert not mark.continues(NOON - timedelta(minutes=5))  # the clock went back
    assert not mark.continues(NOON + timedelta(hours=8))  # a new UTC day: the catch-up
    assert not ScanMark(None, NOON, NOON).continues(NOON)  # the billing system gave no mark


def test_a_scan_of_the_changes_keeps_the_last_full_scans_moment() -> None:
    later = NOON + timedelta(minutes=5)

    mark = full_scan_mark(NOON, MARK).then(later, MARK + timedelta(minutes=5))

    assert (mark.planned_at, mark.full_at) == (later, NOON)


def test_a_midnight_in_new_york_begins_a_day_there_and_not_in_madrid() -> None:
    before = datetime(2025, 3, 21, 3, 50, tzinfo=UTC)  # 23:50 in New York (daylight time)

    begun = begun_days(before, before + timedelta(minutes=20))

    assert begun["America/New_York"] == [date(2025, 3, 21)]
    assert "Europe/Madrid" not in begun and "America/Chicago" not in begun


def test_five_minutes_without_a_midnight_anywhere_begin_no_day() -> None:
    start = datetime(2025, 3, 14, 0, 5, tzinfo=UTC)

    assert dated(start, start + timedelta(minutes=5)) == {}


def test_a_day_that_begins_brings_the_bills_issued_that_day_and_the_reminders_due() -> None:
    before = datetime(2025, 3, 21, 3, 50, tzinfo=UTC)

    issued, due = dated(before, before + timedelta(minutes=20))["America/New_York"]

    day = date(2025, 3, 21)
    assert issued == {day}
    assert due == {day + timedelta(days=n) for n in (3, 1, -1, -8, -15, -22)}


def test_a_full_scan_reads_the_bills_ready_or_due_on_each_zones_own_day() -> None:
    late = datetime(2025, 3, 14, 23, 30, tzinfo=UTC)  # the 15th in Madrid, the 14th in NY

    days = due_today(late)

    assert days["Europe/Madrid"][0] == {date(2025, 3, d) for d in (13, 14, 15)}
    assert date(2025, 3, 17) in days["America/New_York"][1]  # due in 3 days
    assert date(2025, 3, 18) in days["Europe/Madrid"][1]


def test_waiting_reminders_of_closed_bills_are_withdrawn() -> None:
    waiting = [
        (1, "alert:bill_due:7:INV-1:3"),
        (2, "alert:bill_overdue:7:INV-2:1"),
        (3, "alert:bill_due:8:INV-1:1:from:whatsapp:then:sms"),
    ]

    assert withdrawn(waiting, {(7, "INV-1"), (8, "INV-1")}) == [1, 3]


def test_two_reads_merge_into_each_fact_once() -> None:
    alex = Account(1, "Alex", "a@example.com", "en_US", "America/New_York", "USD", "postpaid")
    bill = InvoiceFact(1, 10, "INV-1", date(2025, 3, 1), date(2025, 3, 22), Money(6420, "USD"))
    data = UsageFact(
        1, 5, "+12025550101", "data", "MB", 45000, 51200, date(2025, 3, 1), date(2025, 3, 31)
    )
    changes = AlertFacts((bill,), (data,), (), {1: alex}, {1: "+12025550101"}, watermark=MARK)
    settings = AlertFacts((bill,), (data,), (), {1: alex}, {1: "+12025550101"})

    both = merged(changes, settings)

    assert (both.invoices, both.usage, both.watermark) == ((bill,), (data,), MARK)
