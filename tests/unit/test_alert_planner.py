"""Which alerts are due, for whom, when: the planner's pure decisions."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from billing_client import (
    Account,
    AlertFacts,
    InvoiceFact,
    LimitFact,
    LowBalanceFact,
    Money,
    UsageFact,
)
from bot.alerts.planner import Context, next_allowed, plan
from bot.alerts.preferences import AlertPreferences

ALEX = Account(
    1, "Alex Rivera", "alex@example.com", "en_US", "America/New_York", "USD", "postpaid"
)
MARIA = Account(2, "María García", "maria@example.com", "es_ES", "Europe/Madrid", "USD", "prepaid")
REACH = {1: ("sms", "+12025550101"), 2: ("sms", "+12025550104")}
NOON_NY = datetime(2026, 12, 6, 17, 0, tzinfo=UTC)  # 12:00 in New York, 18:00 in Madrid


def context(now: datetime = NOON_NY) -> Context:
    return Context(now, "Acme", lambda account_id: f"https://bot.example/i/{account_id}")


def invoice(due: date, issued: date = date(2026, 11, 20)) -> InvoiceFact:
    return InvoiceFact(1, 10, "INV-0010", issued, due, Money(6420, "USD"))


def facts(*items: object, accounts: tuple[Account, ...] = (ALEX,)) -> AlertFacts:
    return AlertFacts(
        invoices=tuple(i for i in items if isinstance(i, InvoiceFact)),
        usage=tuple(i for i in items if isinstance(i, UsageFact)),
        limits=tuple(i for i in items if isinstance(i, LimitFact)),
        accounts={a.id: a for a in accounts},
    )


def usage(percent: int, account_id: int = 1) -> UsageFact:
    return UsageFact(
        account_id,
        5,
        "+12025550101",
        "data",
        "MB",
        percent * 512,
        51200,
        date(2026, 11, 16),
        date(2026, 12, 15),
    )


def test_a_bill_is_reminded_three_days_and_one_day_before_it_is_due() -> None:
    keys = [
        [d.key for d in plan(facts(invoice(due)), {}, REACH, context())]
        for due in (date(2026, 12, 9), date(2026, 12, 7), date(2026, 12, 8))
    ]

    assert keys == [["alert:bill_due:1:INV-0010:3"], ["alert:bill_due:1:INV-0010:1"], []]


def test_an_overdue_bill_is_told_the_day_after_then_weekly() -> None:
    told = [
        len(plan(facts(invoice(date(2026, 12, 6) - timedelta(days=days))), {}, REACH, context()))
        for days in (1, 2, 8, 15, 22, 29)
    ]

    assert told == [1, 0, 1, 1, 1, 0]


def test_a_new_bill_is_announced_with_its_amount_due_date_and_link() -> None:
    [ready] = plan(facts(invoice(date(2026, 12, 16), date(2026, 12, 5))), {}, REACH, context())

    assert ready.kind == "bill_ready" and ready.message is not None
    text = ready.message.replies[0].text
    assert "$64.20" in text and "December 16, 2026" in text and "/i/1" in text


def test_only_the_highest_usage_level_crossed_is_told() -> None:
    [at_90] = plan(facts(usage(90)), {}, REACH, context())
    [at_100] = plan(facts(usage(100)), {}, REACH, context())
    nothing = plan(facts(usage(70)), {}, REACH, context())

    assert at_90.key.endswith(":80") and at_100.key.endswith(":100") and nothing == []


def test_a_customers_own_usage_levels_are_used() -> None:
    prefs = {1: AlertPreferences(usage_levels=(50, 75))}

    [decision] = plan(facts(usage(60)), prefs, REACH, context())

    assert decision.key.endswith(":50")


def test_a_spending_cap_warns_near_it_and_says_when_it_is_reached() -> None:
    near = LimitFact(1, Money(15000, "USD"), Money(12500, "USD"), 80)
    reached = LimitFact(1, Money(15000, "USD"), Money(15100, "USD"), 80)

    [warning] = plan(facts(near), {}, REACH, context())
    [notice] = plan(facts(reached), {}, REACH, context())

    assert warning.key.endswith(":80") and "83%" in warning.message.replies[0].text  # type: ignore[union-attr]
    assert notice.key.endswith(":100") and "reached" in notice.message.replies[0].text  # type: ignore[union-attr]


def test_an_alert_the_customer_turned_off_is_skipped_and_says_why() -> None:
    prefs = {1: AlertPreferences(disabled=frozenset({"usage_threshold"}))}

    [decision] = plan(facts(usage(90)), prefs, REACH, context())

    assert (decision.outcome, decision.why, decision.message) == (
        "skipped",
        "turned off by the customer",
        None,
    )


def test_a_customer_no_channel_reaches_is_skipped() -> None:
    [decision] = plan(facts(usage(90)), {}, {}, context())

    assert decision.outcome == "skipped" and "no channel" in decision.why


def test_alerts_wait_out_the_quiet_hours_in_the_customers_time_zone() -> None:
    late = datetime(2026, 12, 7, 3, 30, tzinfo=UTC)  # 22:30 in New York

    [decision] = plan(facts(usage(90)), {}, REACH, context(late))

    assert decision.outcome == "deferred" and decision.message is not None
    assert decision.message.not_before == datetime(2026, 12, 7, 13, 0, tzinfo=UTC)  # 08:00


def test_quiet_hours_end_at_local_eight_across_a_daylight_saving_change() -> None:
    prefs = AlertPreferences()
    before_dst = datetime(2027, 3, 14, 5, 0, tzinfo=UTC)  # 00:00 EST; clocks jump at 02:00

    end = next_allowed(before_dst, ALEX, prefs)

    assert end is not None and end.utcoffset() is not None
    assert end.astimezone(UTC) == datetime(2027, 3, 14, 12, 0, tzinfo=UTC)  # 08:00 EDT


def test_quiet_hours_may_be_set_not_to_wrap_midnight() -> None:
    prefs = AlertPreferences(quiet_start=time(13, 0), quiet_end=time(14, 0))

    assert prefs.quiet_at(time(13, 30)) and not prefs.quiet_at(time(14, 0))
    assert not prefs.quiet_at(time(3, 0))


def test_spanish_customers_get_spanish_alerts() -> None:
    fact = UsageFact(
        2, 9, "+12025550104", "data", "MB", 4800, 5120, date(2026, 11, 16), date(2026, 12, 15)
    )

    [decision] = plan(facts(fact, accounts=(MARIA,)), {}, REACH, context())

    assert decision.message is not None and "datos" in decision.message.replies[0].text


def capped(unbilled: int, *, bar: bool, consent: date | None = None) -> LimitFact:
    return LimitFact(
        1,
        Money(15000, "USD"),
        Money(unbilled, "USD"),
        80,
        bar=bar,
        consent_until=consent,
        cycle_start=date(2026, 11, 16),
        cycle_end=date(2026, 12, 15),
    )


def test_an_opted_in_cap_reached_at_night_is_an_urgent_bar_notice_nobody_can_turn_off() -> None:
    night = datetime(2026, 12, 7, 3, 30, tzinfo=UTC)  # 22:30 in New York
    prefs = {1: AlertPreferences(disabled=frozenset({"bill_limit", "line_barred"}))}

    [decision] = plan(facts(capped(15100, bar=True)), prefs, REACH, context(night))

    assert (decision.kind, decision.outcome) == ("line_barred", "queued")
    assert decision.message is not None and decision.message.not_before is None
    text = decision.message.replies[0].text
    assert "Reply CONTINUE to keep using it until December 15, 2026" in text
    assert "RAISE 200" in text
    assert decision.key == "alert:line_barred:1:2026-11-16:15000"


def test_after_continue_a_reached_cap_says_nothing_more_this_cycle() -> None:
    consented = capped(16000, bar=True, consent=date(2026, 12, 15))
    assert plan(facts(consented), {}, REACH, context()) == []
    notice_only = plan(facts(capped(16000, bar=False)), {}, REACH, context())
    assert [d.key for d in notice_only] == ["alert:bill_limit:1:2026-11-16:100"]


def test_a_low_balance_is_told_once_per_top_up_in_the_customers_language() -> None:
    low = LowBalanceFact(2, Money(350, "USD"), Money(500, "USD"), top_up=41)
    low_facts = AlertFacts(low_balances=(low,), accounts={2: MARIA})

    [decision] = plan(low_facts, {}, REACH, context())

    assert decision.key == "alert:low_balance:2:41:500"
    assert decision.message is not None
    assert "tu saldo de prepago es de 3,50" in decision.message.replies[0].text


def test_a_reminder_goes_on_the_customers_own_calendar_day() -> None:
    """At 23:30 UTC it is already the next day in Madrid but not in New York."""
    late = datetime(2026, 12, 6, 23, 30, tzinfo=UTC)
    due = date(2026, 12, 8)
    madrid = InvoiceFact(2, 11, "INV-0011", date(2026, 11, 20), due, Money(1000, "USD"))
    new_york = invoice(due)
    both = AlertFacts(invoices=(madrid, new_york), accounts={1: ALEX, 2: MARIA})

    keys = sorted(d.key for d in plan(both, {}, REACH, context(late)))

    assert keys == ["alert:bill_due:2:INV-0011:1"]  # New York: still 2 days before
