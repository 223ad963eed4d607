"""PIN locks on real SQLite and PostgreSQL: per requester, the daily cap, unknown numbers."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from argon2 import extract_parameters
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from billing_client import (
    AccountLockedError,
    BillingError,
    InvalidRequestError,
    PinChecksPausedError,
    VerificationError,
)
from billing_client.sql.client import SqlBillingClient
from billing_client.sql.models import PinFailure, PinGuard
from billing_client.sql.pin_guard import dummy_hash, hash_pin
from tests.integration.test_sql_billing import account_of, line_id, rows

SAM, JORDAN, UNKNOWN = "+12025550102", "+12025550103", "+12025550199"
STRANGER, OWNER = "sms:+12025550188", "sms:+12025550102"


async def wrong_pins(
    billing: SqlBillingClient, number: str, times: int, *, requester: str, now: datetime
) -> list[BillingError]:
    """`times` wrong PINs for `number` from `requester`; the errors they raised."""
    errors: list[BillingError] = []
    for _ in range(times):
        try:
            await billing.verify_line_pin(number, "0000", requester=requester, now=now)
        except (VerificationError, AccountLockedError) as error:
            errors.append(error)
    return errors


def described(errors: list[BillingError]) -> list[tuple[str, object]]:
    """What the requester can observe of each error, without the holder."""
    return [
        (type(e).__name__, e.attempts_left if isinstance(e, VerificationError) else e.until)
        for e in errors
    ]


async def test_a_strangers_five_wrong_pins_do_not_lock_the_owner_out(
    demo_billing: SqlBillingClient, now: datetime
) -> None:
    errors = await wrong_pins(demo_billing, JORDAN, 5, requester=STRANGER, now=now)
    assert isinstance(errors[-1], AccountLockedError)
    assert errors[-1].until == now + timedelta(minutes=30)
    sam = await account_of(demo_billing, SAM)

    await demo_billing.verify_pin(sam.id, "1357", actor=OWNER, now=now)
    result = await demo_billing.bar_line(
        await line_id(demo_billing, JORDAN),
        reason="lost_stolen",
        idempotency_key="owner-bars-after-a-stranger",
        actor=OWNER,
        now=now,
    )

    assert result.created and result.line.status == "barred"


async def test_another_requester_naming_the_number_can_still_verify(
    demo_billing: SqlBillingClient, now: datetime
) -> None:
    await wrong_pins(demo_billing, JORDAN, 5, requester=STRANGER, now=now)
    line = await demo_billing.verify_line_pin(JORDAN, "1357", requester="web:owner", now=now)
    assert (line.msisdn, line.holder_name) == (JORDAN, "Jordan Lee")


async def test_the_locked_requester_is_refused_the_right_pin_until_the_lock_ends(
    demo_billing: SqlBillingClient, now: datetime
) -> None:
    await wrong_pins(demo_billing, JORDAN, 5, requester=STRANGER, now=now)
    with pytest.raises(AccountLockedError) as refused:
        await demo_billing.verify_line_pin(
            JORDAN, "1357", requester=STRANGER, now=now + timedelta(minutes=29)
        )
    assert not refused.value.started
    later = now + timedelta(minutes=30)
    line = await demo_billing.verify_line_pin(JORDAN, "1357", requester=STRANGER, now=later)
    assert line.msisdn == JORDAN


async def test_unknown_numbers_count_down_and_lock_exactly_like_known_ones(
    demo_billing: SqlBillingClient, now: datetime
) -> None:
    known = await wrong_pins(demo_billing, JORDAN, 6, requester=STRANGER, now=now)
    unknown = await wrong_pins(demo_billing, UNKNOWN, 6, requester=STRANGER, now=now)

    assert described(known) == described(unknown)
    assert [e.attempts_left for e in known[:4] if isinstance(e, VerificationError)] == [
        4,
        3,
        2,
        1,
    ]
    assert isinstance(known[4], AccountLockedError) and known[4].started
    assert isinstance(unknown[4], AccountLockedError) and unknown[4].holder is None
    assert isinstance(known[4], AccountLockedError) and known[4].holder is not None


async def test_unknown_numbers_are_checked_against_a_hash_of_the_same_cost() -> None:
    assert extract_parameters(dummy_hash()) == extract_parameters(hash_pin("2468"))


async def test_a_lock_keeps_one_id_while_it_lasts_and_the_next_lock_gets_another(
    demo_billing: SqlBillingClient, now: datetime
) -> None:
    first = await wrong_pins(demo_billing, JORDAN, 6, requester=STRANGER, now=now)
    later = now + timedelta(minutes=31)
    second = await wrong_pins(demo_billing, JORDAN, 5, requester=STRANGER, now=later)

    locks = [e for e in first + second if isinstance(e, AccountLockedError)]
    assert [lock.started for lock in locks] == [True, False, True]
    assert locks[0].lock_id == locks[1].lock_id != locks[2].lock_id


async def test_the_daily_cap_pauses_everyone_and_opens_one_ticket(
    demo_billing: SqlBillingClient, now: datetime
) -> None:
    sam = await account_of(demo_billing, SAM)
    tickets_before = len(await demo_billing.list_tickets(sam.id))
    errors: list[BillingError] = []
    for n in range(3):
        errors += await wrong_pins(demo_billing, JORDAN, 5, requester=f"web:r{n}", now=now)

    paused = errors[-1]
    assert isinstance(paused, PinChecksPausedError) and paused.started
    assert paused.until == now + timedelta(hours=24)
    with pytest.raises(PinChecksPausedError) as owner:
        await demo_billing.verify_pin(sam.id, "1357", actor=OWNER, now=now + timedelta(hours=1))
    assert not owner.value.started
    assert owner.value.lock_id == paused.lock_id

    tickets = await demo_billing.list_tickets(sam.id)
    assert len(tickets) == tickets_before + 1
    assert (tickets[0].reference, tickets[0].status) == (paused.ticket_reference, "open")
    assert "PIN checks paused" in tickets[0].subject


async def earlier_failures(
    sessions: async_sessionmaker[AsyncSession], subject: str, count: int, *, at: datetime
) -> None:
    """Wrong PINs that happened before the test, each from its own requester (fast setup)."""
    async with sessions.begin() as session:
        session.add_all(
            PinFailure(subject=subject, requester=f"web:earlier{n}", at=at) for n in range(count)
        )


async def test_a_second_pause_the_same_day_reuses_the_days_ticket(
    demo_billing: SqlBillingClient, sessions: async_sessionmaker[AsyncSession], now: datetime
) -> None:
    sam = await account_of(demo_billing, SAM)
    tickets_before = len(await demo_billing.list_tickets(sam.id))
    # 10 wrong PINs yesterday afternoon and 5 now: paused until yesterday's have aged out.
    yesterday = now - timedelta(hours=23)
    await earlier_failures(sessions, f"account:{sam.id}", 10, at=yesterday)
    first = await wrong_pins(demo_billing, JORDAN, 5, requester="web:a", now=now)
    later = now + timedelta(hours=1, minutes=1)
    await earlier_failures(sessions, f"account:{sam.id}", 9, at=later)
    second = await wrong_pins(demo_billing, SAM, 1, requester="web:b", now=later)

    pauses = [e for e in first + second if isinstance(e, PinChecksPausedError)]
    assert [pause.started for pause in pauses] == [True, True]
    assert pauses[0].until == yesterday + timedelta(hours=24)
    assert pauses[0].ticket_reference == pauses[1].ticket_reference
    assert len(await demo_billing.list_tickets(sam.id)) == tickets_before + 1


async def test_attempts_left_never_promise_more_than_the_daily_cap_allows(
    demo_billing: SqlBillingClient, sessions: async_sessionmaker[AsyncSession], now: datetime
) -> None:
    sam = await account_of(demo_billing, SAM)
    await earlier_failures(sessions, f"account:{sam.id}", 12, at=now - timedelta(hours=1))
    (error,) = await wrong_pins(demo_billing, JORDAN, 1, requester="web:new", now=now)
    assert isinstance(error, VerificationError)
    assert error.attempts_left == 2  # 13 of the account's 15 are used


async def test_a_number_without_an_account_has_its_own_daily_cap(
    demo_billing: SqlBillingClient, sessions: async_sessionmaker[AsyncSession], now: datetime
) -> None:
    await earlier_failures(sessions, f"number:{UNKNOWN}", 14, at=now - timedelta(hours=2))
    (error,) = await wrong_pins(demo_billing, UNKNOWN, 1, requester=STRANGER, now=now)
    assert isinstance(error, PinChecksPausedError)
    assert (error.started, error.holder, error.ticket_reference) == (True, None, None)
    assert error.until == now + timedelta(hours=22)


async def test_every_attempt_is_audited_and_no_pin_is_stored(
    demo_billing: SqlBillingClient, sessions: async_sessionmaker[AsyncSession], now: datetime
) -> None:
    await wrong_pins(demo_billing, UNKNOWN, 6, requester=STRANGER, now=now)
    await demo_billing.verify_line_pin(JORDAN, "1357", requester=STRANGER, now=now)

    entries = list(reversed(await demo_billing.list_audit(limit=7)))
    assert [e.action for e in entries] == [
        *["pin_wrong"] * 4,
        "pin_locked",
        "pin_locked",
        "pin_ok",
    ]
    assert {(e.entity, e.entity_id) for e in entries[:6]} == {("number", UNKNOWN)}
    assert all(e.actor == STRANGER for e in entries)
    async with sessions() as session:
        stored = [str(row) for row in (await session.execute(select(PinFailure.__table__))).all()]
        stored += [str(row) for row in (await session.execute(select(PinGuard.__table__))).all()]
    assert not any("0000" in row or "1357" in row for row in stored)


async def test_a_number_that_is_not_e164_is_refused_and_changes_nothing(
    demo_billing: SqlBillingClient, sessions: async_sessionmaker[AsyncSession], now: datetime
) -> None:
    before = await demo_billing.list_audit(limit=1)
    for bad in ("202-555-0103", "+1" + "9" * 30, "'; DROP TABLE lines; --"):
        with pytest.raises(InvalidRequestError):
            await demo_billing.verify_line_pin(bad, "1357", requester=STRANGER, now=now)
    assert await demo_billing.list_audit(limit=1) == before
    assert await rows(sessions, PinGuard) == 0


async def test_old_failures_and_idle_guards_are_forgotten(
    demo_billing: SqlBillingClient, sessions: async_sessionmaker[AsyncSession], now: datetime
) -> None:
    for n in range(3):
        await wrong_pins(demo_billing, f"+1202555{1000 + n}", 1, requester=STRANGER, now=now)
    assert (await rows(sessions, PinFailure), await rows(sessions, PinGuard)) == (3, 3)

    tomorrow = now + timedelta(hours=25)
    await wrong_pins(demo_billing, UNKNOWN, 1, requester=STRANGER, now=tomorrow)

    assert (await rows(sessions, PinFailure), await rows(sessions, PinGuard)) == (1, 1)


async def test_a_long_requester_address_is_kept_distinct(
    demo_billing: SqlBillingClient, now: datetime
) -> None:
    long_a, long_b = "web:" + "a" * 200, "web:" + "a" * 199 + "b"
    await wrong_pins(demo_billing, JORDAN, 5, requester=long_a, now=now)
    line = await demo_billing.verify_line_pin(JORDAN, "1357", requester=long_b, now=now)
    assert line.msisdn == JORDAN
