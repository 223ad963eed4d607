"""The billing core's SIM changes, number transfers and lock (`billing_client/sql/sim_security.py`
through `SqlBillingClient`), on SQLite and PostgreSQL over the demo data: orders once per key and
once per line, activation swapping the ICCID, the lock and lost-or-stolen bars refusing changes,
and the transfer's moves (pending → approved → completed) with everything else refused."""

from __future__ import annotations

import asyncio
from datetime import datetime

import pytest

from billing_client import InvalidRequestError, NotFoundError, SecurityLockedError
from billing_client.sql.client import SqlBillingClient

ALEX, SAM, JORDAN = "+12025550101", "+12025550102", "+12025550103"
CARRIER = "Other Mobile"
NEW_ICCID = "8901260000000000123"


async def line_id(billing: SqlBillingClient, msisdn: str) -> int:
    account = await billing.find_account_by_msisdn(msisdn)
    assert account is not None
    lines = await billing.list_lines(account.id)
    return next(line.id for line in lines if line.msisdn == msisdn)


async def iccid_of(billing: SqlBillingClient, msisdn: str) -> str:
    account = await billing.find_account_by_msisdn(msisdn)
    assert account is not None
    lines = await billing.list_lines(account.id)
    return next(line.iccid for line in lines if line.msisdn == msisdn)


async def actions(billing: SqlBillingClient) -> list[str]:
    return [entry.action for entry in await billing.list_audit(limit=200)]


async def order(
    billing: SqlBillingClient, msisdn: str, now: datetime, *, key: str = "key-1"
) -> str:
    placed = await billing.order_sim(
        await line_id(billing, msisdn), "esim", idempotency_key=key, actor="test", now=now
    )
    assert placed.created and placed.status == "ordered"
    return placed.reference


async def lock(billing: SqlBillingClient, msisdn: str, now: datetime) -> None:
    account = await billing.find_account_by_msisdn(msisdn)
    assert account is not None
    await billing.set_security_lock(account.id, True, actor="test", now=now)


# --- SIM orders -------------------------------------------------------------------------------
async def test_an_order_is_placed_once_per_key(
    demo_billing: SqlBillingClient, now: datetime
) -> None:
    reference = await order(demo_billing, ALEX, now)
    again = await demo_billing.order_sim(
        await line_id(demo_billing, ALEX), "sim", idempotency_key="key-1", actor="test", now=now
    )
    assert (again.reference, again.kind, again.created) == (reference, "esim", False)
    assert (await actions(demo_billing)).count("sim_ordered") == 1


async def test_a_line_has_at_most_one_open_order(
    demo_billing: SqlBillingClient, now: datetime
) -> None:
    first = await order(demo_billing, ALEX, now)
    second = await demo_billing.order_sim(
        await line_id(demo_billing, ALEX), "sim", idempotency_key="key-2", actor="test", now=now
    )
    assert (second.reference, second.created) == (first, False)
    other_line = await order(demo_billing, SAM, now, key="key-3")  # another line may have one
    assert other_line != first


async def test_two_orders_at_once_with_different_keys_make_one(
    demo_billing: SqlBillingClient, now: datetime
) -> None:
    line = await line_id(demo_billing, ALEX)
    placed = await asyncio.gather(
        *(
            demo_billing.order_sim(line, "esim", idempotency_key=key, actor="test", now=now)
            for key in ("race-1", "race-2")
        )
    )
    assert len({o.reference for o in placed}) == 1
    assert sorted(o.created for o in placed) == [False, True]
    account = await demo_billing.find_account_by_msisdn(ALEX)
    assert account is not None
    assert len(await demo_billing.list_sim_orders(account.id)) == 1


async def test_activation_swaps_the_iccid_and_audits_the_old_sim_barred(
    demo_billing: SqlBillingClient, now: datetime
) -> None:
    old = await iccid_of(demo_billing, ALEX)
    reference = await order(demo_billing, ALEX, now)
    active = await demo_billing.activate_sim(reference, iccid=NEW_ICCID, actor="billing", now=now)
    assert (active.status, active.activated_at, active.created) == ("active", now, True)
    assert await iccid_of(demo_billing, ALEX) == NEW_ICCID
    (entry,) = [e for e in await demo_billing.list_audit() if e.action == "sim_activated"]
    assert entry.actor == "billing" and entry.at == now
    swap = f"new SIM …{NEW_ICCID[-4:]} active, old SIM …{old[-4:]} barred"
    assert entry.detail == f"{reference}: {swap}"


async def test_activating_twice_changes_nothing(
    demo_billing: SqlBillingClient, now: datetime
) -> None:
    reference = await order(demo_billing, ALEX, now)
    await demo_billing.activate_sim(reference, iccid=None, actor="billing", now=now)
    made_up = await iccid_of(demo_billing, ALEX)
    again = await demo_billing.activate_sim(reference, iccid=NEW_ICCID, actor="billing", now=now)
    assert (again.status, again.created) == ("active", False)
    assert await iccid_of(demo_billing, ALEX) == made_up
    assert made_up.startswith("89") and 18 <= len(made_up) <= 22
    assert (await actions(demo_billing)).count("sim_activated") == 1


async def test_a_cancelled_order_cannot_be_activated(
    demo_billing: SqlBillingClient, now: datetime
) -> None:
    old = await iccid_of(demo_billing, ALEX)
    reference = await order(demo_billing, ALEX, now)
    cancelled = await demo_billing.cancel_sim_order(
        reference, reason="changed my mind", actor="test", now=now
    )
    assert (cancelled.status, cancelled.reason, cancelled.created) == (
        "cancelled",
        "changed my mind",
        True,
    )
    again = await demo_billing.cancel_sim_order(reference, reason="x", actor="test", now=now)
    assert again.created is False
    with pytest.raises(InvalidRequestError, match="cancelled"):
        await demo_billing.activate_sim(reference, iccid=None, actor="billing", now=now)
    assert await iccid_of(demo_billing, ALEX) == old


@pytest.mark.parametrize("iccid", ["1234", "8901abc0000000000000", "7701260000000000123"])
async def test_a_bad_iccid_is_refused(
    demo_billing: SqlBillingClient, now: datetime, iccid: str
) -> None:
    old = await iccid_of(demo_billing, ALEX)
    reference = await order(demo_billing, ALEX, now)
    with pytest.raises(InvalidRequestError, match="ICCID"):
        await demo_billing.activate_sim(reference, iccid=iccid, actor="billing", now=now)
    assert await iccid_of(demo_billing, ALEX) == old
    account = await demo_billing.find_account_by_msisdn(ALEX)
    assert account is not None
    (still,) = await demo_billing.list_sim_orders(account.id)
    assert still.status == "ordered"


async def test_another_lines_iccid_is_refused(
    demo_billing: SqlBillingClient, now: datetime
) -> None:
    reference = await order(demo_billing, ALEX, now)
    sams = await iccid_of(demo_billing, SAM)
    with pytest.raises(InvalidRequestError, match="another SIM"):
        await demo_billing.activate_sim(reference, iccid=sams, actor="billing", now=now)
    assert "sim_activated" not in await actions(demo_billing)


async def test_an_unknown_reference_is_not_found(
    demo_billing: SqlBillingClient, now: datetime
) -> None:
    for reference in ("S-000404", "nonsense", "PO-000001"):
        with pytest.raises(NotFoundError):
            await demo_billing.activate_sim(reference, iccid=None, actor="billing", now=now)
    with pytest.raises(NotFoundError):
        await demo_billing.decide_port_out("PO-000404", "approved", actor="test", now=now)


# --- the lock ---------------------------------------------------------------------------------
async def test_the_lock_refuses_orders_and_is_audited_once(
    demo_billing: SqlBillingClient, now: datetime
) -> None:
    account = await demo_billing.find_account_by_msisdn(ALEX)
    assert account is not None
    on = await demo_billing.set_security_lock(account.id, True, actor="customer:web", now=now)
    assert (on.locked, on.changed_at, on.created) == (True, now, True)
    again = await demo_billing.set_security_lock(account.id, True, actor="customer:web", now=now)
    assert again.created is False
    with pytest.raises(SecurityLockedError) as refused:
        await order(demo_billing, ALEX, now)
    assert (refused.value.why, refused.value.msisdn) == ("account_lock", ALEX)
    assert await demo_billing.list_sim_orders(account.id) == []
    audited = [e for e in await demo_billing.list_audit() if e.action.startswith("lock_")]
    assert [(e.action, e.actor) for e in audited] == [("lock_on", "customer:web")]


async def test_an_order_placed_before_the_lock_cannot_be_activated_after_it(
    demo_billing: SqlBillingClient, now: datetime
) -> None:
    reference = await order(demo_billing, ALEX, now)
    await lock(demo_billing, ALEX, now)
    with pytest.raises(SecurityLockedError):
        await demo_billing.activate_sim(reference, iccid=None, actor="billing", now=now)
    account = await demo_billing.find_account_by_msisdn(ALEX)
    assert account is not None
    await demo_billing.set_security_lock(account.id, False, actor="customer:web", now=now)
    active = await demo_billing.activate_sim(reference, iccid=None, actor="billing", now=now)
    assert active.status == "active"
    assert [a for a in await actions(demo_billing) if a.startswith("lock_")] == [
        "lock_off",
        "lock_on",
    ]


async def test_a_lost_or_stolen_bar_locks_sim_changes_and_transfers_of_that_line(
    demo_billing: SqlBillingClient, now: datetime
) -> None:
    jordan = await line_id(demo_billing, JORDAN)
    await demo_billing.bar_line(
        jordan, reason="stolen", idempotency_key="bar-jordan", actor="test", now=now
    )
    account = await demo_billing.find_account_by_msisdn(SAM)
    assert account is not None
    state = await demo_billing.security_lock(account.id)
    assert (state.locked, state.lost_lines) == (False, (JORDAN,))
    assert (state.why_locked(JORDAN), state.why_locked(SAM)) == ("lost_stolen", None)

    with pytest.raises(SecurityLockedError) as refused:
        await order(demo_billing, JORDAN, now)
    assert (refused.value.why, refused.value.msisdn) == ("lost_stolen", JORDAN)
    await order(demo_billing, SAM, now, key="sams-own")  # the other line is not locked

    transfer = await demo_billing.request_port_out(
        JORDAN, CARRIER, source_id="po-jordan", actor="billing", now=now
    )
    assert (transfer.status, transfer.reason, transfer.decided_at) == (
        "refused",
        "lost_stolen",
        now,
    )
    assert "port_out_refused" in await actions(demo_billing)


# --- transfers --------------------------------------------------------------------------------
async def test_a_transfer_goes_pending_approved_completed_and_ends_the_line(
    demo_billing: SqlBillingClient, now: datetime
) -> None:
    asked = await demo_billing.request_port_out(
        ALEX, f"  {CARRIER}  ", source_id="po-1", actor="billing", now=now
    )
    assert (asked.status, asked.carrier, asked.msisdn) == ("pending", CARRIER, ALEX)
    assert asked.open and asked.reference.startswith("PO-")
    approved = await demo_billing.decide_port_out(
        asked.reference, "approved", actor="customer:web", now=now
    )
    assert (approved.status, approved.open) == ("approved", True)
    done = await demo_billing.decide_port_out(
        asked.reference, "completed", actor="billing", now=now
    )
    assert (done.status, done.open, done.decided_at) == ("completed", False, now)
    account = await demo_billing.find_account_by_msisdn(ALEX)
    assert account is not None
    (line,) = await demo_billing.list_lines(account.id)
    assert line.status == "terminated"
    audited = [(e.action, e.actor) for e in await demo_billing.list_audit() if "port" in e.action]
    assert audited == [
        ("port_out_completed", "billing"),
        ("port_out_approved", "customer:web"),
        ("port_out_requested", "billing"),
    ]


async def test_a_pending_transfer_cannot_be_completed(
    demo_billing: SqlBillingClient, now: datetime
) -> None:
    asked = await demo_billing.request_port_out(
        ALEX, CARRIER, source_id="po-1", actor="billing", now=now
    )
    with pytest.raises(InvalidRequestError, match="has not approved it"):
        await demo_billing.decide_port_out(asked.reference, "completed", actor="billing", now=now)
    (still,) = await demo_billing.list_port_outs(open_only=True)
    assert still.status == "pending"
    account = await demo_billing.find_account_by_msisdn(ALEX)
    assert account is not None
    (line,) = await demo_billing.list_lines(account.id)
    assert line.status == "active"


async def test_the_same_source_id_is_one_request(
    demo_billing: SqlBillingClient, now: datetime
) -> None:
    first = await demo_billing.request_port_out(
        ALEX, CARRIER, source_id="po-1", actor="billing", now=now
    )
    again = await demo_billing.request_port_out(
        ALEX, "Someone Else", source_id="po-1", actor="billing", now=now
    )
    assert (again.reference, again.carrier, again.created) == (first.reference, CARRIER, False)
    racing = await asyncio.gather(
        *(
            demo_billing.request_port_out(SAM, CARRIER, source_id="po-2", actor="billing", now=now)
            for _ in range(2)
        )
    )
    assert len({r.reference for r in racing}) == 1
    assert len(await demo_billing.list_port_outs()) == 2
    assert (await actions(demo_billing)).count("port_out_requested") == 2


async def test_a_transfer_request_needs_a_known_number_a_carrier_and_an_id(
    demo_billing: SqlBillingClient, now: datetime
) -> None:
    with pytest.raises(NotFoundError):
        await demo_billing.request_port_out(
            "+12025559999", CARRIER, source_id="po-x", actor="billing", now=now
        )
    for carrier, source in (("   ", "po-y"), (CARRIER, "")):
        with pytest.raises(InvalidRequestError):
            await demo_billing.request_port_out(
                ALEX, carrier, source_id=source, actor="billing", now=now
            )
    assert await demo_billing.list_port_outs() == []


async def test_a_transfer_arriving_while_the_lock_is_on_is_refused(
    demo_billing: SqlBillingClient, now: datetime
) -> None:
    await lock(demo_billing, ALEX, now)
    refused = await demo_billing.request_port_out(
        ALEX, CARRIER, source_id="po-1", actor="billing", now=now
    )
    assert (refused.status, refused.reason, refused.open) == ("refused", "account_lock", False)
    with pytest.raises(InvalidRequestError):
        await demo_billing.decide_port_out(refused.reference, "approved", actor="x", now=now)


async def test_invalid_moves_are_refused_and_change_nothing(
    demo_billing: SqlBillingClient, now: datetime
) -> None:
    pending = await demo_billing.request_port_out(
        ALEX, CARRIER, source_id="po-1", actor="billing", now=now
    )
    await lock(demo_billing, ALEX, now)  # locked after it arrived: it can't be approved now
    with pytest.raises(SecurityLockedError):
        await demo_billing.decide_port_out(pending.reference, "approved", actor="x", now=now)
    cancelled = await demo_billing.decide_port_out(
        pending.reference, "cancelled", reason="not_me", actor="customer:web", now=now
    )
    assert (cancelled.status, cancelled.reason) == ("cancelled", "not_me")
    again = await demo_billing.decide_port_out(
        pending.reference, "cancelled", actor="customer:web", now=now
    )
    assert again.created is False
    for status in ("approved", "completed", "pending", "refused"):
        with pytest.raises(InvalidRequestError):
            await demo_billing.decide_port_out(pending.reference, status, actor="x", now=now)
    (final,) = await demo_billing.list_port_outs()
    assert (final.status, final.reason) == ("cancelled", "not_me")
    assert (await actions(demo_billing)).count("port_out_cancelled") == 1


# --- changes racing each other ----------------------------------------------------------------
async def test_two_activations_at_once_swap_the_sim_once(
    demo_billing: SqlBillingClient, now: datetime
) -> None:
    reference = await order(demo_billing, ALEX, now)
    iccids = ("8901260000000000111", "8901260000000000222")
    done = await asyncio.gather(
        *(
            demo_billing.activate_sim(reference, iccid=iccid, actor="billing", now=now)
            for iccid in iccids
        )
    )
    assert sorted(o.created for o in done) == [False, True]
    winner = next(iccid for iccid, o in zip(iccids, done, strict=True) if o.created)
    assert await iccid_of(demo_billing, ALEX) == winner
    assert (await actions(demo_billing)).count("sim_activated") == 1


async def test_an_activation_racing_a_cancellation_ends_one_way_only(
    demo_billing: SqlBillingClient, now: datetime
) -> None:
    old = await iccid_of(demo_billing, ALEX)
    reference = await order(demo_billing, ALEX, now)
    await asyncio.gather(
        demo_billing.activate_sim(reference, iccid=NEW_ICCID, actor="billing", now=now),
        demo_billing.cancel_sim_order(reference, reason="not_me", actor="customer", now=now),
        return_exceptions=True,  # the activation is refused when the cancellation won
    )
    account = await demo_billing.find_account_by_msisdn(ALEX)
    assert account is not None
    (final,) = await demo_billing.list_sim_orders(account.id)
    audited = [a for a in await actions(demo_billing) if a in ("sim_activated", "sim_cancelled")]
    if final.status == "cancelled":
        assert (await iccid_of(demo_billing, ALEX), audited) == (old, ["sim_cancelled"])
    else:
        assert final.status == "active"
        assert (await iccid_of(demo_billing, ALEX), audited) == (NEW_ICCID, ["sim_activated"])


async def test_a_transfer_cancelled_twice_at_once_is_cancelled_once(
    demo_billing: SqlBillingClient, now: datetime
) -> None:
    asked = await demo_billing.request_port_out(
        ALEX, CARRIER, source_id="po-1", actor="billing", now=now
    )
    done = await asyncio.gather(
        *(
            demo_billing.decide_port_out(asked.reference, "cancelled", actor=actor, now=now)
            for actor in ("customer:web", "customer:not_me_link")
        )
    )
    assert sorted(t.created for t in done) == [False, True]
    assert (await actions(demo_billing)).count("port_out_cancelled") == 1
