"""`sim_swap`, `port_lock` and `not_me` through the real engine, NLU and database (SQLite and
PostgreSQL) for the demo customers, on the web chat and over SMS: the happy paths and their
notices with a "Not me", wrong and expired codes, where codes and notices may go, declined
confirmations, the lock and lost-or-stolen lines refusing before any PIN question, the same
order confirmed twice at once, "Not me" after an order and after an activation, Spanish, and a
freshly swapped SIM that may not receive step-up codes for a week."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from billing_client import InvalidRequestError, PortOut, SimOrder
from billing_client.sql.client import SqlBillingClient
from bot import not_me
from bot.clock import FakeClock
from bot.outbox import OutboxEntry
from bot.services import Services
from bot.store.links import SqlAddressBook
from tests.conftest import FIXED_NOW
from tests.integration.test_account_flows import (
    ALEX,
    JORDAN,
    MARIA,
    SAM,
    audit_actions,
    bar,
    code_for,
    line_of,
    say,
    web_code,
)

NOTICE = "security_notice"
NOT_ME_PATH = "/security/not-me/"
ALEX_SESSION = ("web", f"session-{ALEX}")
NOW = FIXED_NOW


# --- helpers (imported by the other SIM-security test files) ----------------------------------
async def notices(services: Services) -> list[OutboxEntry]:
    """The security notices queued so far, oldest first."""
    entries = await services.outbox.list(limit=500)
    return [entry for entry in reversed(entries) if entry.kind == NOTICE]


async def notified(services: Services) -> set[tuple[str, str]]:
    """(channel, address) of every security notice queued."""
    return {(entry.channel, entry.recipient) for entry in await notices(services)}


async def account_id(services: Services, msisdn: str) -> int:
    account = await services.billing.find_account_by_msisdn(msisdn)
    assert account is not None
    return account.id


async def sim_orders(services: Services, msisdn: str) -> list[SimOrder]:
    return await services.billing.list_sim_orders(await account_id(services, msisdn))


async def transfers(services: Services, msisdn: str) -> list[PortOut]:
    return await services.billing.list_port_outs(account_id=await account_id(services, msisdn))


async def locked(services: Services, msisdn: str) -> bool:
    return (await services.billing.security_lock(await account_id(services, msisdn))).locked


async def fraud_tickets(services: Services, msisdn: str) -> list[str]:
    tickets = await services.billing.list_tickets(await account_id(services, msisdn))
    return [ticket.reference for ticket in tickets if ticket.subject.startswith("Fraud")]


async def place_order(services: Services, msisdn: str, key: str = "test-order") -> SimOrder:
    """A SIM order made straight in the billing core (as another conversation would)."""
    line = await line_of(services, msisdn)
    return await services.billing.order_sim(
        line.id, "esim", idempotency_key=key, actor="customer:web", now=services.clock.now()
    )


async def order_to_confirmation(
    services: Services, phone: str, pin: str, *, kind: str = "esim"
) -> str:
    """The web chat from "new SIM" to the confirmation question, the code sent by SMS."""
    assert "eSIM" in await say(services, "i need a new sim for my phone", phone)
    assert "PIN" in await say(services, kind, phone)
    await say(services, pin, phone)
    assert "6-digit code" in await say(services, "1", phone)
    return await say(services, await web_code(services, phone), phone)


async def lock_off_to_confirmation(services: Services) -> str:
    """Alex, whose lock is on, from "turn the lock off" to its confirmation question."""
    assert "PIN" in await say(services, "turn the port lock off", ALEX)
    await say(services, "2468", ALEX)
    await say(services, "2", ALEX)  # by email
    return await say(services, await web_code(services, ALEX), ALEX)


async def ask_to_approve(services: Services) -> str:
    """Alex asks to approve the waiting transfer from the lock's status (see
    `test_the_words_the_notice_gives_start_the_approval` for asking straight away)."""
    assert "waits for your approval" in await say(services, "port lock", ALEX)
    return await say(services, "approve the transfer", ALEX)


async def lock_on(services: Services, msisdn: str) -> None:
    await services.billing.set_security_lock(
        await account_id(services, msisdn), True, actor="test", now=services.clock.now()
    )


# --- sim_swap: happy paths --------------------------------------------------------------------
async def test_alex_orders_an_esim_and_every_other_channel_hears_of_it_with_not_me(
    demo_services: Services,
) -> None:
    book = SqlAddressBook(demo_services.sessions, demo_services.transactions)
    await book.link("telegram", "5550101", ALEX, now=demo_services.clock.now() - timedelta(30))
    asked = await say(demo_services, "i need a new sim for my phone", ALEX)
    assert "For +1 202-555-0101: an eSIM" in asked and "1. eSIM\n2. SIM card" in asked
    assert "PIN for +1 202-555-0101" in await say(demo_services, "esim", ALEX)
    where = await say(demo_services, "2468", ALEX)
    assert "1. SMS to +1202•••0101\n2. your Telegram chat\n3. email to a•••@example.com" in where
    await say(demo_services, "3", ALEX)
    confirm = await say(demo_services, await web_code(demo_services, ALEX), ALEX)
    assert "Order a replacement eSIM for +1 202-555-0101 (Alex Rivera)?" in confirm
    assert "the SIM in the phone now stops working" in confirm
    done = await say(demo_services, "yes", ALEX)
    assert "Done: eSIM order S-000001 for +1 202-555-0101" in done

    (order,) = await sim_orders(demo_services, ALEX)
    assert (order.reference, order.kind, order.status) == ("S-000001", "esim", "ordered")
    assert await notified(demo_services) == {
        ("email", "alex.rivera@example.com"),
        ("sms", ALEX),
        ("telegram", "5550101"),
    }
    for entry in await notices(demo_services):
        (reply,) = entry.replies
        assert "a replacement eSIM was ordered for +1 202-555-0101 (S-000001)" in reply.text
        assert "reply NOT ME" in reply.text
        assert reply.link is not None and NOT_ME_PATH in reply.link
        assert reply.link_label == "Not me"
    assert ALEX_SESSION not in await notified(demo_services)
    entries = await demo_services.billing.list_audit()
    assert ("sim_ordered", "customer:web") in {(e.action, e.actor) for e in entries}


async def test_over_sms_the_code_and_the_notices_skip_the_phone_asking(
    demo_services: Services,
) -> None:
    await say(demo_services, "new sim please", ALEX, channel="sms")
    assert "PIN" in await say(demo_services, "a sim card", ALEX, channel="sms")
    sent_to = await say(demo_services, "2468", ALEX, channel="sms")
    assert "by email to a•••@example.com" in sent_to  # the only place left: no question
    code = await code_for(demo_services, "sms", ALEX)
    assert "Order a replacement SIM card" in await say(demo_services, code, ALEX, channel="sms")
    done = await say(demo_services, "yes", ALEX, channel="sms")
    assert "Done: SIM card order S-000001 for +1 202-555-0101" in done

    codes = [e for e in await demo_services.outbox.list() if e.kind == "stepup_code"]
    assert [(e.channel, e.recipient) for e in codes] == [("email", "alex.rivera@example.com")]
    assert await notified(demo_services) == {("email", "alex.rivera@example.com")}
    (entry,) = await notices(demo_services)
    assert "a replacement SIM card was ordered" in entry.text


# --- sim_swap: unhappy paths ------------------------------------------------------------------
async def test_a_wrong_code_orders_nothing_and_counts_down(demo_services: Services) -> None:
    await say(demo_services, "i need a new sim for my phone", ALEX)
    await say(demo_services, "esim", ALEX)
    await say(demo_services, "2468", ALEX)
    await say(demo_services, "1", ALEX)
    wrong = "000000" if await web_code(demo_services, ALEX) != "000000" else "111111"
    assert "That code isn't right. You have 4 tries left." in await say(demo_services, wrong, ALEX)
    assert await sim_orders(demo_services, ALEX) == []
    assert await notices(demo_services) == []
    assert "stepup_code_wrong" in await audit_actions(demo_services)
    confirm = await say(demo_services, await web_code(demo_services, ALEX), ALEX)
    assert "Order a replacement eSIM" in confirm  # the right code still works


async def test_an_expired_code_orders_nothing(demo_services: Services, clock: FakeClock) -> None:
    await say(demo_services, "i need a new sim for my phone", ALEX)
    await say(demo_services, "esim", ALEX)
    await say(demo_services, "2468", ALEX)
    await say(demo_services, "1", ALEX)
    code = await web_code(demo_services, ALEX)
    clock.advance(minutes=11)
    assert "That code has expired" in await say(demo_services, code, ALEX)
    await say(demo_services, "stop", ALEX)
    assert await sim_orders(demo_services, ALEX) == []
    assert await notices(demo_services) == []
    assert "stepup_code_expired" in await audit_actions(demo_services)


async def test_a_declined_confirmation_orders_nothing(demo_services: Services) -> None:
    confirm = await order_to_confirmation(demo_services, ALEX, "2468")
    assert "Order a replacement eSIM" in confirm
    assert "I haven't ordered anything" in await say(demo_services, "no", ALEX)
    assert await sim_orders(demo_services, ALEX) == []
    assert await notices(demo_services) == []
    assert "sim_ordered" not in await audit_actions(demo_services)


async def test_the_lock_refuses_a_sim_change_before_any_pin_question(
    demo_services: Services,
) -> None:
    await lock_on(demo_services, ALEX)
    refused = await say(demo_services, "i need a new sim for my phone", ALEX)
    assert "SIM changes and number transfers are locked on your account" in refused
    assert "PIN" not in refused
    await say(demo_services, "2468", ALEX)  # not taken as a PIN: no question is open
    actions = await audit_actions(demo_services)
    assert "pin_ok" not in actions and "sim_ordered" not in actions
    assert await sim_orders(demo_services, ALEX) == []


async def test_a_lock_turned_on_while_confirming_refuses_the_order(
    demo_services: Services,
) -> None:
    assert "Order a replacement eSIM" in await order_to_confirmation(demo_services, ALEX, "2468")
    await lock_on(demo_services, ALEX)  # from another conversation, meanwhile
    refused = await say(demo_services, "yes", ALEX)
    assert "SIM changes and number transfers are locked on your account" in refused
    assert await sim_orders(demo_services, ALEX) == []
    assert await notices(demo_services) == []


async def test_a_line_with_a_sim_on_order_gets_no_second_one(demo_services: Services) -> None:
    order = await place_order(demo_services, ALEX)
    answer = await say(demo_services, "i need a new sim for my phone", ALEX)
    assert f"A new SIM for +1 202-555-0101 is already on order ({order.reference}" in answer
    assert "PIN" not in answer
    assert len(await sim_orders(demo_services, ALEX)) == 1


async def test_a_lost_or_stolen_line_gets_a_replacement_ticket_without_a_pin(
    demo_services: Services,
) -> None:
    await bar(demo_services, JORDAN, reason="lost_stolen")
    lines = await say(demo_services, "i need a new sim", SAM)
    assert "Which number is the new SIM for?" in lines
    offer = await say(demo_services, "2", SAM)
    assert "blocked as lost or stolen" in offer and "replacement SIM" in offer
    assert "PIN" not in offer
    done = await say(demo_services, "yes", SAM)
    assert "ticket T-000001 asks our team for a replacement SIM for +1 202-555-0103" in done
    assert await sim_orders(demo_services, SAM) == []
    assert (await line_of(demo_services, JORDAN)).status == "barred"
    assert "pin_ok" not in await audit_actions(demo_services)


async def test_the_same_order_confirmed_twice_at_once_orders_once(
    demo_services: Services,
) -> None:
    assert "Order a replacement eSIM" in await order_to_confirmation(demo_services, ALEX, "2468")
    await say(demo_services, "new sim please", ALEX, channel="sms")
    await say(demo_services, "esim", ALEX, channel="sms")
    await say(demo_services, "2468", ALEX, channel="sms")
    code = await code_for(demo_services, "sms", ALEX)
    assert "Order a replacement eSIM" in await say(demo_services, code, ALEX, channel="sms")

    same = "yes-twice"  # the web chat's answer delivered twice, and the SMS one, all at once
    answers = await asyncio.gather(
        say(demo_services, "yes", ALEX, external_id=same),
        say(demo_services, "yes", ALEX, external_id=same),
        say(demo_services, "yes", ALEX, channel="sms"),
    )
    done = {answer for answer in answers if "Done: eSIM order S-000001" in answer}
    assert len(done) == 1
    assert any("already on order (S-000001" in answer for answer in answers)
    (order,) = await sim_orders(demo_services, ALEX)
    assert order.status == "ordered"
    assert (await audit_actions(demo_services)).count("sim_ordered") == 1
    told = await notices(demo_services)  # by the conversation that ordered, once
    assert 1 <= len(told) <= 2 and all("(S-000001)" in entry.text for entry in told)
    assert len(await notified(demo_services)) == len(told)


# --- port_lock --------------------------------------------------------------------------------
async def test_the_status_names_the_lock_and_a_waiting_transfer(
    demo_services: Services,
) -> None:
    assert demo_services.security is not None
    await demo_services.security.request_port_out(ALEX, "Other Mobile", source_id="po-1")
    status = await say(demo_services, "port lock", ALEX)
    assert "Your SIM-change and number-transfer lock is OFF" in status
    assert "Other Mobile asked on March 14, 2025 to move +1 202-555-0101" in status
    assert "1. Turn the lock on\n2. Approve the transfer\n3. Not me" in status


async def test_turning_the_lock_on_needs_only_a_yes(demo_services: Services) -> None:
    assert "Turn the lock on?" in await say(demo_services, "turn the port lock on", ALEX)
    assert "Done: the lock is on." in await say(demo_services, "yes", ALEX)
    assert await locked(demo_services, ALEX)
    (entry,) = [e for e in await demo_services.billing.list_audit() if e.action == "lock_on"]
    assert entry.actor == "customer:web"
    assert "pin_ok" not in await audit_actions(demo_services)
    assert "Your lock is already on" in await say(demo_services, "turn the port lock on", ALEX)


async def test_turning_the_lock_off_needs_pin_and_code_and_tells_the_holder(
    demo_services: Services,
) -> None:
    await lock_on(demo_services, ALEX)
    confirm = await lock_off_to_confirmation(demo_services)
    assert "Turn the lock off?" in confirm
    assert await locked(demo_services, ALEX)  # not before the yes
    assert "Done: the lock is off." in await say(demo_services, "yes", ALEX)
    assert not await locked(demo_services, ALEX)

    assert await notified(demo_services) == {
        ("email", "alex.rivera@example.com"),
        ("sms", ALEX),
    }
    for entry in await notices(demo_services):
        (reply,) = entry.replies
        assert "lock on your account was turned off" in reply.text
        assert reply.link is not None and NOT_ME_PATH in reply.link
    actions = await audit_actions(demo_services)
    assert {"pin_ok", "stepup_passed", "lock_off"} <= set(actions)


async def test_a_wrong_pin_keeps_the_lock_on(demo_services: Services) -> None:
    await lock_on(demo_services, ALEX)
    await say(demo_services, "turn the port lock off", ALEX)
    assert "isn't right" in await say(demo_services, "1111", ALEX)
    assert await locked(demo_services, ALEX)
    assert "pin_wrong" in await audit_actions(demo_services)
    assert await notices(demo_services) == []


async def test_the_words_the_notice_gives_start_the_approval(demo_services: Services) -> None:
    assert demo_services.security is not None
    await demo_services.security.request_port_out(ALEX, "Other Mobile", source_id="po-1")
    (notice, *_) = await notices(demo_services)
    assert 'say "approve the transfer" to billbot' in notice.text
    assert "PIN for +1 202-555-0101" in await say(demo_services, "approve the transfer", ALEX)


async def test_approving_a_pending_transfer_needs_strong_verification(
    demo_services: Services,
) -> None:
    assert demo_services.security is not None
    asked = await demo_services.security.request_port_out(ALEX, "Other Mobile", source_id="po-1")
    assert "PIN for +1 202-555-0101" in await ask_to_approve(demo_services)
    await say(demo_services, "2468", ALEX)
    await say(demo_services, "2", ALEX)
    assert (await transfers(demo_services, ALEX))[0].status == "pending"
    confirm = await say(demo_services, await web_code(demo_services, ALEX), ALEX)
    assert f"Approve moving +1 202-555-0101 to Other Mobile ({asked.reference})?" in confirm
    approved = await say(demo_services, "yes", ALEX)
    assert (
        f"Approved: Other Mobile can now complete moving +1 202-555-0101 ({asked.reference})"
        in (approved)
    )
    (transfer,) = await transfers(demo_services, ALEX)
    assert transfer.status == "approved"
    approvals = [e for e in await notices(demo_services) if "was approved" in e.text]
    assert {(e.channel, e.recipient) for e in approvals} == {
        ("email", "alex.rivera@example.com"),
        ("sms", ALEX),
    }


async def test_a_transfer_cannot_be_approved_while_the_lock_is_on(
    demo_services: Services,
) -> None:
    assert demo_services.security is not None
    await demo_services.security.request_port_out(ALEX, "Other Mobile", source_id="po-1")
    await lock_on(demo_services, ALEX)
    refused = await ask_to_approve(demo_services)
    assert "Your lock is on, so this transfer can't go ahead" in refused
    assert "PIN" not in refused
    assert [t.status for t in await transfers(demo_services, ALEX)] == ["pending"]


async def test_maria_turns_the_lock_on_in_spanish(demo_services: Services) -> None:
    status = await say(demo_services, "bloqueo de portabilidad", MARIA)
    assert "Tu bloqueo de cambios de SIM y portabilidad está DESACTIVADO" in status
    assert "1. Activar el bloqueo" in status
    assert "¿Activamos el bloqueo?" in await say(demo_services, "1", MARIA)
    assert "Hecho: el bloqueo está activado." in await say(demo_services, "sí", MARIA)
    assert await locked(demo_services, MARIA)


async def test_approving_a_transfer_stopped_meanwhile_says_so(demo_services: Services) -> None:
    assert demo_services.security is not None
    asked = await demo_services.security.request_port_out(ALEX, "Other Mobile", source_id="po-1")
    await ask_to_approve(demo_services)
    await say(demo_services, "2468", ALEX)
    await say(demo_services, "2", ALEX)
    assert "Approve moving" in await say(demo_services, await web_code(demo_services, ALEX), ALEX)
    stopped = await say(demo_services, "NOT ME", ALEX, channel="sms")
    assert f"I've stopped {asked.reference}" in stopped
    answer = await say(demo_services, "yes", ALEX)
    assert f"Transfer {asked.reference} isn't waiting any more" in answer
    (transfer,) = await transfers(demo_services, ALEX)
    assert transfer.status == "cancelled"
    assert "port_out_approved" not in await audit_actions(demo_services)


# --- not_me -----------------------------------------------------------------------------------
async def test_not_me_after_an_order_cancels_it_locks_and_opens_one_fraud_ticket(
    demo_services: Services,
) -> None:
    order = await place_order(demo_services, ALEX)
    stopped = await say(demo_services, "NOT ME", ALEX)
    assert f"I've stopped {order.reference}." in stopped
    assert "SIM changes and number transfers are now locked" in stopped
    assert "our fraud team will call you on +1 202-555-0101" in stopped
    (cancelled,) = await sim_orders(demo_services, ALEX)
    assert (cancelled.status, cancelled.reason) == ("cancelled", "not_me")
    assert await locked(demo_services, ALEX)
    (ticket,) = await fraud_tickets(demo_services, ALEX)
    assert f"Fraud case {ticket} is open" in stopped

    offer = await say(demo_services, "not me", ALEX)  # nothing recent left: it offers
    assert "I can't see any recent SIM change" in offer
    assert f"Fraud case {ticket} is open" in await say(demo_services, "yes", ALEX)
    assert await fraud_tickets(demo_services, ALEX) == [ticket]
    assert (await audit_actions(demo_services)).count("not_me") == 2


async def test_not_me_after_the_new_sim_was_activated_bars_the_line(
    demo_services: Services,
) -> None:
    assert demo_services.security is not None
    order = await place_order(demo_services, JORDAN)
    await demo_services.security.activate_sim(order.reference)
    stopped = await say(demo_services, "not me", SAM)
    assert "The new SIM for +1 202-555-0103 was already active" in stopped
    assert "our fraud team will call you on +1 202-555-0102" in stopped  # not the taken line
    jordan = await line_of(demo_services, JORDAN)
    assert (jordan.status, jordan.barred_reason) == ("barred", "stolen")
    assert await locked(demo_services, SAM)
    (entry,) = [e for e in await demo_services.billing.list_audit() if e.action == "not_me"]
    assert entry.actor == "customer:web" and JORDAN in entry.detail


async def test_not_me_stops_an_order_still_open_after_a_week(
    demo_services: Services, clock: FakeClock
) -> None:
    order = await place_order(demo_services, ALEX)
    clock.advance(days=8)  # a SIM card in the post for longer than "recent"
    stopped = await say(demo_services, "not me", ALEX)
    assert f"I've stopped {order.reference}." in stopped
    assert [o.status for o in await sim_orders(demo_services, ALEX)] == ["cancelled"]


async def test_not_me_in_chat_after_a_completed_transfer_hands_it_to_the_fraud_team(
    demo_services: Services, clock: FakeClock
) -> None:
    assert demo_services.security is not None
    asked = await demo_services.security.request_port_out(SAM, "Other Mobile", source_id="po-1")
    now = clock.now()
    await demo_services.billing.decide_port_out(asked.reference, "approved", actor="x", now=now)
    await demo_services.billing.decide_port_out(asked.reference, "completed", actor="x", now=now)
    clock.advance(days=2)
    stopped = await say(demo_services, "not me", SAM, channel="sms", sender=JORDAN)
    assert f"{asked.reference} had already gone through" in stopped
    assert len(await fraud_tickets(demo_services, SAM)) == 1


class ActivatedMeanwhile(SqlBillingClient):
    """The embedded core, where the billing system activates the open SIM order (or completes
    the approved transfer) right after "Not me" first reads them: the race it must win."""

    async def list_sim_orders(self, account_id: int) -> list[SimOrder]:
        orders = await super().list_sim_orders(account_id)
        for order in orders:
            if order.status == "ordered":
                with contextlib.suppress(InvalidRequestError):  # refused once locked
                    await self.activate_sim(order.reference, iccid=None, actor="billing", now=NOW)
        return orders

    async def list_port_outs(
        self, *, account_id: int | None = None, open_only: bool = False
    ) -> list[PortOut]:
        found = await super().list_port_outs(account_id=account_id, open_only=open_only)
        for transfer in found:
            if transfer.status == "approved":
                with contextlib.suppress(InvalidRequestError):
                    await self.decide_port_out(
                        transfer.reference, "completed", actor="billing", now=NOW
                    )
        return found


async def test_not_me_racing_an_activation_leaves_no_new_sim_working(
    demo_billing: SqlBillingClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    account = await demo_billing.find_account_by_msisdn(ALEX)
    assert account is not None
    (line,) = await demo_billing.list_lines(account.id)
    placed = await demo_billing.order_sim(
        line.id, "esim", idempotency_key="k", actor="customer:web", now=NOW
    )
    racing = ActivatedMeanwhile(sessions)
    stopped = await not_me.stop(racing, account, reference="", actor="customer:web", now=NOW)
    (after,) = await demo_billing.list_sim_orders(account.id)
    (now_line,) = await demo_billing.list_lines(account.id)
    if after.status == "active":  # the activation won: the line the new SIM took is barred
        assert stopped.findings.barred == (ALEX,) and now_line.status == "barred"
    else:
        assert after.status == "cancelled" and now_line.iccid == line.iccid
        assert stopped.findings.cancelled == (placed.reference,)
    assert (await demo_billing.security_lock(account.id)).locked


async def test_not_me_racing_a_transfer_completion_still_locks_and_opens_the_case(
    demo_billing: SqlBillingClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    account = await demo_billing.find_account_by_msisdn(ALEX)
    assert account is not None
    asked = await demo_billing.request_port_out(
        ALEX, "Other Mobile", source_id="po-1", actor="billing", now=NOW
    )
    await demo_billing.decide_port_out(asked.reference, "approved", actor="customer", now=NOW)
    racing = ActivatedMeanwhile(sessions)
    stopped = await not_me.stop(racing, account, reference="", actor="customer:web", now=NOW)
    (after,) = await demo_billing.list_port_outs()
    if after.status == "completed":
        assert stopped.findings.completed == (asked.reference,)
    else:
        assert (after.status, stopped.findings.cancelled) == ("cancelled", (asked.reference,))
    assert (await demo_billing.security_lock(account.id)).locked
    assert stopped.ticket.subject.startswith("Fraud")


async def test_maria_orders_and_stops_an_esim_in_spanish(demo_services: Services) -> None:
    asked = await say(demo_services, "necesito una sim nueva", MARIA)
    assert "Para +1 202-555-0104: ¿una eSIM" in asked
    assert "introduce el PIN" in await say(demo_services, "esim", MARIA)
    assert "¿Adónde lo envío?" in await say(demo_services, "9753", MARIA)
    await say(demo_services, "2", MARIA)
    confirm = await say(demo_services, await web_code(demo_services, MARIA), MARIA)
    assert "¿Pedimos una eSIM nueva para +1 202-555-0104 (María García)?" in confirm
    done = await say(demo_services, "sí", MARIA)
    assert "Hecho: pedido de eSIM S-000001" in done

    for entry in await notices(demo_services):
        (reply,) = entry.replies
        assert "se ha pedido una eSIM nueva para +1 202-555-0104 (S-000001)" in reply.text
        assert "NO FUI YO" in reply.text and reply.link_label == "No fui yo"
    stopped = await say(demo_services, "no fui yo", MARIA)
    assert "Gracias por avisarnos. He parado S-000001." in stopped
    assert "nuestro equipo de fraude te llamará al +1 202-555-0104" in stopped


# --- a freshly swapped SIM is no second factor ------------------------------------------------
async def test_a_number_whose_sim_changed_this_week_gets_no_code_by_sms(
    demo_services: Services, clock: FakeClock
) -> None:
    assert demo_services.security is not None
    order = await place_order(demo_services, SAM)
    await demo_services.security.activate_sim(order.reference)
    await say(demo_services, "i want to change my pin", SAM)
    sent_to = await say(demo_services, "1357", SAM)
    assert "by email to s•••@example.com" in sent_to and "SMS" not in sent_to
    await say(demo_services, "stop", SAM)

    clock.advance(days=7)
    await say(demo_services, "i want to change my pin", SAM)
    where = await say(demo_services, "1357", SAM)
    assert "1. SMS to +1202•••0102\n2. email to s•••@example.com" in where
