"""The embedded core's account security on SQLite and PostgreSQL: lifting bars once (replays,
races, lost-or-stolen refused, the cap's bar), setting a PIN (hashed, counters cleared, audited
without it) and audit entries of verifications."""

from __future__ import annotations

import asyncio
from datetime import datetime

import pytest

from billing_client import (
    AccountLockedError,
    InvalidRequestError,
    LimitChange,
    Line,
    Money,
    NotFoundError,
    VerificationError,
)
from billing_client.sql.client import SqlBillingClient

SAM, JORDAN = "+12025550102", "+12025550103"


async def line_of(billing: SqlBillingClient, msisdn: str) -> Line:
    account = await billing.find_account_by_msisdn(msisdn)
    assert account is not None
    lines = await billing.list_lines(account.id)
    return next(line for line in lines if line.msisdn == msisdn)


async def unbar_entries(billing: SqlBillingClient) -> list[str]:
    entries = await billing.list_audit(limit=200)
    return [entry.detail for entry in entries if entry.action == "line_unbarred"]


async def test_an_unbar_lifts_the_bar_once_and_a_replay_gets_the_same_answer(
    demo_billing: SqlBillingClient, now: datetime
) -> None:
    jordan = await line_of(demo_billing, JORDAN)
    bar = await demo_billing.bar_line(
        jordan.id, reason="customer request", idempotency_key="bar-1", actor="test", now=now
    )
    found = await demo_billing.line_bar(jordan.id)
    assert found is not None and (found.kind, found.reference) == ("full", bar.reference)

    lifted = await demo_billing.unbar_line(
        jordan.id, actor="customer:web", idempotency_key="unbar-1", now=now
    )
    assert (lifted.created, lifted.reference, lifted.kind) == (True, bar.reference, "full")
    assert lifted.line.status == "active" and lifted.line.barred_reason is None
    assert await demo_billing.line_bar(jordan.id) is None

    replay = await demo_billing.unbar_line(
        jordan.id, actor="customer:web", idempotency_key="unbar-1", now=now
    )
    assert (replay.created, replay.replayed, replay.reference) == (False, True, bar.reference)
    assert await unbar_entries(demo_billing) == [f"{bar.reference} full lifted; key unbar-1"]

    again = await demo_billing.bar_line(
        jordan.id, reason="customer request", idempotency_key="bar-2", actor="test", now=now
    )
    assert again.created  # a lifted bar leaves room for a new one


async def test_the_same_unbar_twice_at_once_lifts_one_bar(
    demo_billing: SqlBillingClient, now: datetime
) -> None:
    jordan = await line_of(demo_billing, JORDAN)
    await demo_billing.bar_line(
        jordan.id, reason="customer request", idempotency_key="bar-1", actor="test", now=now
    )

    async def unbar(key: str) -> tuple[bool, str]:
        result = await demo_billing.unbar_line(
            jordan.id, actor="customer:web", idempotency_key=key, now=now
        )
        return result.created, result.reference

    same = await asyncio.gather(unbar("k1"), unbar("k1"))
    assert sorted(created for created, _ in same) == [False, True]
    assert len({reference for _, reference in same}) == 1
    await demo_billing.bar_line(
        jordan.id, reason="customer request", idempotency_key="bar-2", actor="test", now=now
    )
    different = await asyncio.gather(unbar("k2"), unbar("k3"))
    assert sorted(different) == [(False, ""), (True, different[0][1] or different[1][1])]
    assert len(await unbar_entries(demo_billing)) == 2


async def test_a_lost_or_stolen_bar_is_not_lifted(
    demo_billing: SqlBillingClient, now: datetime
) -> None:
    jordan = await line_of(demo_billing, JORDAN)
    await demo_billing.bar_line(
        jordan.id, reason="lost_stolen", idempotency_key="bar-1", actor="test", now=now
    )
    bar = await demo_billing.line_bar(jordan.id)
    assert bar is not None and bar.kind == "lost_stolen"
    with pytest.raises(InvalidRequestError):
        await demo_billing.unbar_line(jordan.id, actor="c", idempotency_key="u", now=now)
    assert (await line_of(demo_billing, JORDAN)).status == "barred"
    assert await unbar_entries(demo_billing) == []


async def test_lifting_the_caps_bar_stops_it_barring_again_this_cycle(
    demo_billing: SqlBillingClient, now: datetime
) -> None:
    sam_line = await line_of(demo_billing, SAM)
    account = sam_line.account_id
    tiny = LimitChange(limit=Money(100, "USD"), action="bar")  # far below the charges so far
    await demo_billing.set_bill_limit(account, tiny, actor="test", now=now)
    capped = await demo_billing.bar_over_limit(account, actor="scan", now=now)
    assert {line.msisdn for line in capped.barred} == {SAM, JORDAN}
    bar = await demo_billing.line_bar(sam_line.id)
    assert bar is not None and bar.kind == "spend_cap"

    lifted = await demo_billing.unbar_line(
        sam_line.id, actor="customer:web", idempotency_key="u1", now=now
    )
    assert lifted.created and lifted.kind == "spend_cap"
    limit = await demo_billing.get_bill_limit(account, now=now)
    assert limit.consent_until == limit.cycle_end and limit.capped_lines == ()
    assert (await demo_billing.bar_over_limit(account, actor="scan", now=now)).barred == ()


async def test_unbarring_a_line_with_no_bar_changes_nothing(
    demo_billing: SqlBillingClient, now: datetime
) -> None:
    jordan = await line_of(demo_billing, JORDAN)
    result = await demo_billing.unbar_line(jordan.id, actor="c", idempotency_key="u", now=now)
    assert (result.created, result.reference, result.lifted_at) == (False, "", None)
    with pytest.raises(NotFoundError):
        await demo_billing.unbar_line(999_999, actor="c", idempotency_key="u2", now=now)


async def test_a_new_pin_replaces_the_old_clears_locks_and_is_audited_without_it(
    demo_billing: SqlBillingClient, now: datetime
) -> None:
    account = (await line_of(demo_billing, SAM)).account_id
    for _ in range(5):
        with pytest.raises((VerificationError, AccountLockedError)):
            await demo_billing.verify_pin(account, "0000", actor="web:thief", now=now)
    with pytest.raises(AccountLockedError):
        await demo_billing.verify_pin(account, "1357", actor="web:thief", now=now)

    await demo_billing.set_pin(
        account, "73195284", actor="customer:web", now=now, idempotency_key="reset-1"
    )
    await demo_billing.set_pin(  # the same request again: nothing more happens
        account, "73195284", actor="customer:web", now=now, idempotency_key="reset-1"
    )
    await demo_billing.verify_pin(account, "73195284", actor="web:thief", now=now)  # unlocked
    with pytest.raises(VerificationError):
        await demo_billing.verify_pin(account, "1357", actor="web:s1", now=now)
    entries = [e for e in await demo_billing.list_audit(limit=50) if e.action == "pin_changed"]
    assert len(entries) == 1
    assert entries[0].actor == "customer:web" and "73195284" not in entries[0].detail


@pytest.mark.parametrize("pin", ["1111", "1234", "9876", "12", "12345678901", "12a4"])
async def test_a_pin_the_rules_refuse_is_not_set(
    demo_billing: SqlBillingClient, now: datetime, pin: str
) -> None:
    account = (await line_of(demo_billing, SAM)).account_id
    with pytest.raises(InvalidRequestError):
        await demo_billing.set_pin(account, pin, actor="customer:web", now=now)
    await demo_billing.verify_pin(account, "1357", actor="web:s1", now=now)


async def test_verification_events_are_audited_against_the_account(
    demo_billing: SqlBillingClient, now: datetime
) -> None:
    account = (await line_of(demo_billing, SAM)).account_id
    await demo_billing.record_audit(
        account, "stepup_failed", actor="sms:+12025550199", detail="unbar_sim", now=now
    )
    (entry,) = await demo_billing.list_audit(limit=1)
    assert (entry.action, entry.entity, entry.entity_id) == (
        "stepup_failed",
        "account",
        str(account),
    )
    with pytest.raises(NotFoundError):
        await demo_billing.record_audit(999_999, "x", actor="a", now=now)
