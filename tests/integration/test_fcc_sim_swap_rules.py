"""The FCC's SIM-swap and port-out protection rules (Report and Order FCC 23-95, 47 CFR
§ 64.2010(h) and § 52.37) as billbot implements them, one test per rule, through the real engine,
NLU and database (SQLite and PostgreSQL) for the demo customers:

(a) secure authentication before a SIM change and before a port-out goes ahead;
(b) immediate notice of every SIM change request, SIM activation and port-out request on every
    verified channel of the holder, each with a way to say "Not me";
(c) an account lock the customer can turn on that blocks SIM changes and port-outs, and that
    takes secure authentication to turn off;
(d) a process for failed authentication: the attempts are recorded, the tries are limited, a
    person takes over and the holder is told;
(e) records of every request, activation, decision, lock change and "Not me" — and none of the
    secrets used to authenticate.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta

from sqlalchemy import select

from bot.services import Services
from bot.store.links import SqlAddressBook
from bot.store.models import Conversation, InboundRecord, OutboxMessage
from tests.integration.test_account_flows import ALEX, say, web_code
from tests.integration.test_sim_security_flows import (
    NOT_ME_PATH,
    ask_to_approve,
    lock_on,
    locked,
    notices,
    place_order,
    sim_orders,
    transfers,
)

PIN = "2468"
CARRIER = "Other Mobile"
_OPTION = re.compile(r"^(\d+)\. email to ", re.MULTILINE)


async def strongly_verified(services: Services, opening: str) -> str:
    """Alex on the web chat: `opening`, the PIN, a code by email; the question after it."""
    assert "PIN" in await say(services, opening, ALEX)
    answer = await say(services, PIN, ALEX)
    email = _OPTION.search(answer)
    if email is not None:  # several places for the code: pick the email
        answer = await say(services, email.group(1), ALEX)
    assert "by email" in answer, answer
    return await say(services, await web_code(services, ALEX), ALEX)


async def audit_entries(services: Services) -> list[tuple[str, str, str]]:
    """(action, actor, detail) of the audit log, oldest first."""
    entries = await services.billing.list_audit(limit=500)
    return [(e.action, e.actor, e.detail) for e in reversed(entries)]


# --- (a) ----------------------------------------------------------------------------------------
async def test_rule_a_secure_authentication_before_a_sim_change_and_a_port_out_approval(
    demo_services: Services,
) -> None:
    assert demo_services.security is not None
    await say(demo_services, "i need a new sim for my phone", ALEX)
    assert "PIN" in await say(demo_services, "esim", ALEX)
    after_pin = await say(demo_services, PIN, ALEX)
    assert "6-digit code" in after_pin and "Order a replacement" not in after_pin
    await say(demo_services, "yes", ALEX)  # a PIN alone orders nothing
    assert await sim_orders(demo_services, ALEX) == []
    await say(demo_services, "never mind", ALEX)

    confirm = await strongly_verified(demo_services, "i need an esim for my phone")
    assert "Order a replacement eSIM" in confirm
    await say(demo_services, "yes", ALEX)
    assert [order.status for order in await sim_orders(demo_services, ALEX)] == ["ordered"]

    transfer = await demo_services.security.request_port_out(ALEX, CARRIER, source_id="po-a")
    assert "PIN" in await ask_to_approve(demo_services)
    await say(demo_services, PIN, ALEX)
    await say(demo_services, "yes", ALEX)  # a PIN alone approves nothing
    assert [t.status for t in await transfers(demo_services, ALEX)] == ["pending"]
    await say(demo_services, "never mind", ALEX)
    await say(demo_services, "port lock", ALEX)  # the approval is offered there
    assert transfer.reference in await strongly_verified(demo_services, "approve the transfer")
    await say(demo_services, "yes", ALEX)
    assert [t.status for t in await transfers(demo_services, ALEX)] == ["approved"]

    watched = ("stepup_passed", "sim_ordered", "port_out_approved")
    sequence = [(a, d) for a, _, d in await audit_entries(demo_services) if a in watched]
    assert sequence == [
        ("stepup_passed", "sim_swap; code by email"),
        ("sim_ordered", "S-000001 esim"),
        ("stepup_passed", "port_out; code by email"),
        ("port_out_approved", transfer.reference),
    ]


# --- (b) ----------------------------------------------------------------------------------------
async def test_rule_b_immediate_notice_on_every_verified_channel_each_with_not_me(
    demo_services: Services,
) -> None:
    assert demo_services.security is not None
    now = demo_services.clock.now()
    book = SqlAddressBook(demo_services.sessions, demo_services.transactions)
    await book.link("telegram", "5550101", ALEX, now=now - timedelta(days=30))
    every = {("email", "alex.rivera@example.com"), ("sms", ALEX), ("telegram", "5550101")}

    assert "Order a replacement eSIM" in await strongly_verified(
        demo_services, "i need an esim for my phone"
    )
    await say(demo_services, "yes", ALEX)
    (order,) = await sim_orders(demo_services, ALEX)
    await demo_services.security.activate_sim(order.reference)
    transfer = await demo_services.security.request_port_out(ALEX, CARRIER, source_id="po-b")

    told = await notices(demo_services)
    for reference, says in (
        (order.reference, "a replacement eSIM was ordered"),
        (order.reference, "a new SIM is now active"),
        (transfer.reference, "asked to move your number"),
    ):
        about = [e for e in told if says in e.text and reference in e.text]
        assert {(e.channel, e.recipient) for e in about} == every, says
        for entry in about:
            (reply,) = entry.replies
            assert entry.created_at == now  # queued with the change itself, not later
            assert "reply NOT ME" in reply.text and reply.link_label == "Not me"
            assert reply.link is not None and NOT_ME_PATH in reply.link
    assert {(e.channel, e.recipient) for e in told} == every  # never the web chat asking


# --- (c) ----------------------------------------------------------------------------------------
async def test_rule_c_the_account_lock_blocks_sim_changes_and_port_outs_until_securely_unlocked(
    demo_services: Services,
) -> None:
    assert demo_services.security is not None
    assert "Turn the lock on?" in await say(demo_services, "turn the port lock on", ALEX)
    assert "the lock is on" in await say(demo_services, "yes", ALEX)

    refused = await say(demo_services, "i need a new sim for my phone", ALEX)
    assert "locked on your account" in refused and "PIN" not in refused
    transfer = await demo_services.security.request_port_out(ALEX, CARRIER, source_id="po-c")
    assert (transfer.status, transfer.reason) == ("refused", "account_lock")
    assert all("we refused Other Mobile's request" in e.text for e in await notices(demo_services))

    assert "PIN" in await say(demo_services, "turn the port lock off", ALEX)
    await say(demo_services, PIN, ALEX)
    await say(demo_services, "yes", ALEX)  # a PIN alone unlocks nothing
    assert await locked(demo_services, ALEX)
    await say(demo_services, "never mind", ALEX)
    assert "Turn the lock off?" in await strongly_verified(demo_services, "turn the port lock off")
    assert "the lock is off" in await say(demo_services, "yes", ALEX)
    assert not await locked(demo_services, ALEX)
    passed = [d for a, _, d in await audit_entries(demo_services) if a == "stepup_passed"]
    assert passed == ["port_lock_off; code by email"]


# --- (d) ----------------------------------------------------------------------------------------
async def test_rule_d_failed_authentication_is_limited_recorded_handed_over_and_told(
    demo_services: Services,
) -> None:
    await say(demo_services, "i need an esim for my phone", ALEX)
    assert "isn't right" in await say(demo_services, "1111", ALEX)
    await say(demo_services, PIN, ALEX)
    await say(demo_services, "2", ALEX)  # by email
    right = await web_code(demo_services, ALEX)
    wrong = "000000" if right != "000000" else "111111"
    answers = [await say(demo_services, wrong, ALEX) for _ in range(5)]
    assert "You have 4 tries left" in answers[0]
    (handed,) = re.findall(r"passed this to our team \(ticket (T-\d+)\)", answers[4])
    assert "Order a replacement" not in await say(demo_services, right, ALEX)  # too late
    assert await sim_orders(demo_services, ALEX) == []

    account = await demo_services.billing.find_account_by_msisdn(ALEX)
    assert account is not None
    (ticket,) = await demo_services.billing.list_tickets(account.id)
    assert (ticket.reference, ticket.subject) == (handed, "Security check failed: sim_swap")
    failed = [e for e in await demo_services.outbox.list() if e.kind == "stepup_failed"]
    assert {(e.channel, e.recipient) for e in failed} == {
        ("email", "alex.rivera@example.com"),
        ("sms", ALEX),
    }
    assert all(handed in e.text and "sim" in e.text.lower() for e in failed)
    entries = await audit_entries(demo_services)
    wrong_pins = [(actor, detail) for action, actor, detail in entries if action == "pin_wrong"]
    assert wrong_pins == [(f"web:session-{ALEX}", "4 attempts left")]
    assert [a for a, *_ in entries].count("stepup_code_wrong") == 5
    assert "stepup_failed" in [a for a, *_ in entries]


# --- (e) ----------------------------------------------------------------------------------------
async def test_rule_e_every_change_is_recorded_with_actor_and_time_and_no_secret_anywhere(
    demo_services: Services,
) -> None:
    assert demo_services.security is not None
    codes: list[str] = []

    async def strong(opening: str) -> str:
        await say(demo_services, opening, ALEX)
        answer = await say(demo_services, PIN, ALEX)
        email = _OPTION.search(answer)
        if email is not None:
            await say(demo_services, email.group(1), ALEX)
        codes.append(await web_code(demo_services, ALEX))
        return await say(demo_services, codes[-1], ALEX)

    await lock_on(demo_services, ALEX)
    assert "Turn the lock off?" in await strong("turn the port lock off")
    await say(demo_services, "yes", ALEX)
    assert "Order a replacement eSIM" in await strong("i need an esim for my phone")
    await say(demo_services, "yes", ALEX)
    (order,) = await sim_orders(demo_services, ALEX)
    await demo_services.security.activate_sim(order.reference)
    transfer = await demo_services.security.request_port_out(ALEX, CARRIER, source_id="po-e")
    await say(demo_services, "port lock", ALEX)
    assert transfer.reference in await strong("approve the transfer")
    await say(demo_services, "yes", ALEX)
    assert "Fraud case" in await say(demo_services, "NOT ME", ALEX)
    await place_order(demo_services, "+12025550102", key="sams")  # another account's record

    now = demo_services.clock.now()
    entries = await demo_services.billing.list_audit(limit=500)
    recorded = {(e.action, e.actor) for e in entries if e.at == now and e.actor}
    assert {
        ("lock_off", "customer:web"),
        ("sim_ordered", "customer:web"),
        ("sim_activated", "billing"),
        ("port_out_requested", "billing"),
        ("port_out_approved", "customer:web"),
        ("port_out_cancelled", "customer:web"),
        ("line_barred", "customer:web"),
        ("lock_on", "customer:web"),
        ("not_me", "customer:web"),
    } <= recorded
    assert all(e.at is not None and e.actor for e in entries)

    await demo_services.outbox.flush(seconds=2)  # codes are written in only at delivery
    secrets = [PIN, *codes]
    places = {
        "audit": "\n".join(f"{e.actor} {e.action} {e.detail}" for e in entries),
        "outbox": "\n".join(e.text for e in await demo_services.outbox.list(limit=500)),
        "stored": await stored_rows(demo_services),
    }
    for where, text in places.items():
        for secret in secrets:
            found = re.search(rf"(?<![0-9A-Za-z]){secret}(?![0-9A-Za-z])", text)
            assert found is None, f"{secret!r} in {where}"


async def stored_rows(services: Services) -> str:
    """What the database keeps of the conversations, their messages and the outbox rows."""
    parts: list[str] = []
    async with services.sessions() as session:
        for conversation in await session.scalars(select(Conversation)):
            parts.append(json.dumps([conversation.slots, conversation.options]))
        for inbound in await session.scalars(select(InboundRecord)):
            parts.append(json.dumps([inbound.text, inbound.replies]))
        for row in await session.scalars(select(OutboxMessage)):
            parts.append(json.dumps([row.replies, row.last_error]))
    assert len(parts) > 10  # the conversation was stored, and is what was searched
    return "\n".join(parts)
