"""Spending caps in the alert scan, on both databases: the opt-in cap bar goes on once with an
urgent notice to every verified channel, a notice-only cap never bars, CONTINUE holds."""

from __future__ import annotations

import pytest

from billing_client import LimitChange, Money
from bot.clock import FakeClock
from bot.outbox.store import OutboxEntry
from bot.services import Services
from bot.store.links import SqlAddressBook

SAM, JORDAN = "+12025550102", "+12025550103"
CAP_AT_FIVE = Money(500, "USD")  # Sam has $6.00 of unbilled charges


@pytest.fixture
def services(demo_services: Services) -> Services:
    return demo_services


def at_night(clock: FakeClock) -> None:
    """Move the clock to the next 05:00 UTC: 23:00 in Chicago, inside Sam's quiet hours."""
    now = clock.now()
    night = now.replace(hour=5, minute=0, second=0, microsecond=0)
    clock.advance(seconds=(night - now).total_seconds() % 86400)


async def sams_cap(services: Services, action: str) -> int:
    sam = await services.billing.find_account_by_msisdn(SAM)
    assert sam is not None
    change = LimitChange(limit=CAP_AT_FIVE, action="bar" if action == "bar" else "notice")
    await services.billing.set_bill_limit(sam.id, change, actor="test", now=services.clock.now())
    return sam.id


async def sams_alerts(services: Services, kind: str) -> list[OutboxEntry]:
    entries = await services.outbox.list()
    return [e for e in entries if e.kind == kind and e.account_id is not None]


async def test_an_opted_in_cap_bars_at_once_at_night_and_tells_every_channel(
    services: Services, clock: FakeClock
) -> None:
    at_night(clock)
    account = await sams_cap(services, "bar")
    book = SqlAddressBook(services.sessions, services.transactions)
    await book.link("telegram", "770001", SAM, now=clock.now())

    decisions = await services.alerts.run_once()
    again = await services.alerts.run_once()

    barred = [d for d in decisions if d.kind == "line_barred"]
    assert {(d.message.channel, d.message.address) for d in barred if d.message} == {
        ("sms", SAM),
        ("telegram", "770001"),
        ("email", "sam.lee@example.com"),
    }
    assert all(d.message and d.message.not_before is None for d in barred)  # urgent
    assert {d.outcome for d in again if d.kind == "line_barred"} == {"already queued"}
    lines = await services.billing.list_lines(account)
    assert {line.msisdn: line.status for line in lines} == {SAM: "barred", JORDAN: "barred"}
    [notice, *_] = await sams_alerts(services, "line_barred")
    assert "Reply CONTINUE to keep using it until" in notice.text
    assert "RAISE 50" in notice.text
    audit = [e for e in await services.billing.list_audit(limit=10) if e.actor == "alerts"]
    assert [e.action for e in audit] == ["line_barred", "line_barred"]


async def test_a_notice_only_cap_tells_and_never_bars(
    services: Services, clock: FakeClock
) -> None:
    at_night(clock)
    account = await sams_cap(services, "notice")

    decisions = await services.alerts.run_once()

    [reached] = [d for d in decisions if d.kind == "bill_limit"]
    assert reached.outcome == "deferred" and reached.key.endswith(":100")
    assert {line.status for line in await services.billing.list_lines(account)} == {"active"}
    assert not [d for d in decisions if d.kind == "line_barred"]


async def test_after_continue_the_scan_neither_bars_nor_nags(
    services: Services, clock: FakeClock
) -> None:
    at_night(clock)
    account = await sams_cap(services, "bar")
    await services.alerts.run_once()
    await services.billing.continue_past_limit(account, actor="chat", now=clock.now())

    clock.advance(hours=6)
    decisions = await services.alerts.run_once()

    assert not [d for d in decisions if d.kind in ("line_barred", "bill_limit")]
    assert {line.status for line in await services.billing.list_lines(account)} == {"active"}


async def test_a_dry_run_bars_nothing(services: Services, clock: FakeClock) -> None:
    at_night(clock)
    account = await sams_cap(services, "bar")

    decisions = await services.alerts.run_once(dry_run=True)

    assert [d.kind for d in decisions if d.kind == "line_barred"] == ["line_barred"]
    assert {line.status for line in await services.billing.list_lines(account)} == {"active"}
