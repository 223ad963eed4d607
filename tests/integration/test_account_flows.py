"""`unbar_sim`, `pin_reset` and `update_contact` behind step-up verification, through the real
engine, NLU and database (SQLite and PostgreSQL) for the demo customers: happy paths, wrong and
expired codes, where codes may go, the hand-over to a person, declined confirmations, a billing
error mid-flow, the same unbar confirmed twice at once, and secrets kept out of the database
and the logs."""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from billing_client import BillingUnavailableError, Line, UnbarResult
from billing_client.sql.client import SqlBillingClient
from billing_client.sql.database import create_engine, session_factory
from bot.bootstrap import build_services
from bot.clock import FakeClock
from bot.nlu import NluModel
from bot.otp import OneTimeCodes
from bot.services import Services
from bot.settings import Settings
from bot.store.links import SqlAddressBook
from bot.store.models import Conversation
from bot.types import InboundMessage, Reply
from tests.helpers import TEST_SECRET

ALEX, SAM, JORDAN, MARIA = "+12025550101", "+12025550102", "+12025550103", "+12025550104"
NEW_PIN = "73195284"  # chosen in a test: a secret that must never be stored or logged
_ids = itertools.count(1)


async def say(
    services: Services,
    text: str,
    phone: str,
    *,
    channel: str = "web",
    sender: str | None = None,
    external_id: str | None = None,
) -> str:
    """One message; on the web chat `phone` makes the sender that customer (demo mode)."""
    sender = sender or (phone if channel != "web" else f"session-{phone}")
    message = InboundMessage(
        channel,
        sender,
        text,
        external_id or f"acct-{next(_ids)}",
        datetime.now(UTC),
        as_phone=phone,
    )
    replies = await services.conversations.handle(message)
    return "\n".join(_render(reply) for reply in replies)


def _render(reply: Reply) -> str:
    return "\n".join([reply.text, *(f"{n}. {o.label}" for n, o in enumerate(reply.options, 1))])


async def code_for(services: Services, channel: str, sender: str) -> str:
    """The code the conversation's step-up sent, recomputed from the reference it keeps."""
    async with services.sessions() as session:
        slots = await session.scalar(
            select(Conversation.slots).where(
                Conversation.channel == channel, Conversation.sender == sender
            )
        )
    assert slots is not None
    return OneTimeCodes(TEST_SECRET).code(str(slots["stepup"]["reference"]))


async def web_code(services: Services, phone: str) -> str:
    return await code_for(services, "web", f"session-{phone}")


async def sent(services: Services, kind: str) -> list[tuple[str, str, str]]:
    entries = await services.outbox.list(limit=500)
    return [(e.channel, e.recipient, e.text) for e in entries if e.kind == kind]


async def line_of(services: Services, msisdn: str) -> Line:
    account = await services.billing.find_account_by_msisdn(msisdn)
    assert account is not None
    return next(ln for ln in await services.billing.list_lines(account.id) if ln.msisdn == msisdn)


async def bar(services: Services, msisdn: str, reason: str = "customer request") -> str:
    line = await line_of(services, msisdn)
    result = await services.billing.bar_line(
        line.id, reason=reason, idempotency_key=f"bar-{msisdn}", actor="test", now=_now(services)
    )
    return result.reference


def _now(services: Services) -> datetime:
    return services.clock.now()


async def audit_actions(services: Services) -> list[str]:
    return [entry.action for entry in await services.billing.list_audit(limit=200)]


# --- happy paths ------------------------------------------------------------------------------
async def test_sam_unblocks_jordans_line_after_pin_and_code(demo_services: Services) -> None:
    reference = await bar(demo_services, JORDAN)
    asked = await say(demo_services, "please unblock my sim", SAM)
    assert "PIN for +1 202-555-0103" in asked
    where = await say(demo_services, "1357", SAM)
    assert "1. SMS to +1202•••0102\n2. email to s•••@example.com" in where
    assert "by email to s•••@example.com" in await say(demo_services, "2", SAM)
    confirm = await say(demo_services, await web_code(demo_services, SAM), SAM)
    assert "Thanks, that's you." in confirm and "Unblock the SIM for +1 202-555-0103" in confirm
    done = await say(demo_services, "yes", SAM)
    assert f"works again (bar {reference} lifted)" in done
    assert (await line_of(demo_services, JORDAN)).status == "active"

    (code,) = await sent(demo_services, "stepup_code")
    assert code[:2] == ("email", "sam.lee@example.com") and "••••••" in code[2]
    notices = {(channel, to) for channel, to, _ in await sent(demo_services, "unbar_notice")}
    assert notices == {("email", "sam.lee@example.com"), ("sms", SAM)}
    actions = await audit_actions(demo_services)
    assert {"pin_ok", "stepup_passed", "line_unbarred"} <= set(actions)


async def test_alex_changes_his_pin_and_the_new_one_works(demo_services: Services) -> None:
    assert "PIN" in await say(demo_services, "i want to change my pin", ALEX)
    await say(demo_services, "2468", ALEX)
    assert "by SMS to +1202•••0101" in await say(demo_services, "1", ALEX)
    confirm = await say(demo_services, await web_code(demo_services, ALEX), ALEX)
    assert "Change your account PIN?" in confirm
    assert "Type your new PIN" in await say(demo_services, "yes", ALEX)
    assert "once more" in await say(demo_services, NEW_PIN, ALEX)
    assert "PIN is changed" in await say(demo_services, NEW_PIN, ALEX)

    account = await demo_services.billing.find_account_by_msisdn(ALEX)
    assert account is not None
    await demo_services.billing.verify_pin(
        account.id, NEW_PIN, actor="web:x", now=_now(demo_services)
    )
    notices = await sent(demo_services, "pin_changed")
    assert {(channel, to) for channel, to, _ in notices} == {
        ("email", "alex.rivera@example.com"),
        ("sms", ALEX),
    }
    assert all(NEW_PIN not in text for _, _, text in notices)


async def test_maria_moves_her_time_zone_in_spanish_without_a_pin(
    demo_services: Services,
) -> None:
    question = await say(demo_services, "cambiar mi zona horaria", MARIA)
    assert "¿En qué zona horaria estás?" in question
    confirm = await say(demo_services, "Canarias", MARIA)
    assert "¿Pongo tu zona horaria en Atlantic/Canary" in confirm
    assert "Hecho. Tu zona horaria es Atlantic/Canary." in await say(demo_services, "sí", MARIA)
    account = await demo_services.billing.find_account_by_msisdn(MARIA)
    assert account is not None and account.timezone == "Atlantic/Canary"
    (entry,) = [
        e for e in await demo_services.billing.list_audit() if e.action.startswith("contact")
    ]
    assert (entry.action, entry.actor) == ("contact.timezone", "customer:web")


async def test_maria_asks_for_a_new_email_and_only_the_link_will_change_it(
    demo_services: Services,
) -> None:
    assert "PIN" in await say(demo_services, "quiero cambiar mi correo", MARIA)
    await say(demo_services, "9753", MARIA)
    await say(demo_services, "2", MARIA)  # by email
    asked = await say(demo_services, await web_code(demo_services, MARIA), MARIA)
    assert "¿Cuál es el correo electrónico nuevo?" in asked
    assert "Enviaré un enlace a maria.nueva@example.org" in await say(
        demo_services, "maria.nueva@example.org", MARIA
    )
    assert "Enviado." in await say(demo_services, "sí", MARIA)
    (link,) = await sent(demo_services, "email_confirm")
    assert link[:2] == ("email", "maria.nueva@example.org")
    assert "/account/contact/confirm/" in link[2] and "confirma" in link[2]
    account = await demo_services.billing.find_account_by_msisdn(MARIA)
    assert account is not None and account.email == "maria.garcia@example.com"


async def test_going_back_after_verifying_picks_another_line_without_asking_again(
    demo_services: Services,
) -> None:
    await bar(demo_services, JORDAN)
    await bar(demo_services, SAM)
    assert "Which line do you want to unblock?" in await say(demo_services, "unblock", SAM)
    assert "PIN for +1 202-555-0103" in await say(demo_services, "2", SAM)
    sent_now = await say(demo_services, "1357", SAM)
    assert "by email" in sent_now  # the only place left: Sam's own line is barred too
    await say(demo_services, await web_code(demo_services, SAM), SAM)
    assert "Which line do you want to unblock?" in await say(demo_services, "back", SAM)
    confirm = await say(demo_services, "1", SAM)
    assert "Unblock the SIM for +1 202-555-0102 (Sam Lee) now?" in confirm


# --- unhappy paths ----------------------------------------------------------------------------
async def test_a_wrong_code_then_five_hand_the_check_to_a_person(demo_services: Services) -> None:
    await bar(demo_services, JORDAN)
    await say(demo_services, "unblock jordan's sim", SAM)
    await say(demo_services, "1357", SAM)
    await say(demo_services, "1", SAM)
    replies = [await say(demo_services, "000000", SAM) for _ in range(5)]
    assert "That code isn't right. You have 4 tries left." in replies[0]
    assert "passed this to our team (ticket T-" in replies[4]
    assert (await line_of(demo_services, JORDAN)).status == "barred"

    account = await demo_services.billing.find_account_by_msisdn(SAM)
    assert account is not None
    tickets = await demo_services.billing.list_tickets(account.id)
    assert tickets[0].subject == "Security check failed: unbar_sim"
    actions = await audit_actions(demo_services)
    assert actions.count("stepup_code_wrong") == 5 and "stepup_failed" in actions
    assert len(await sent(demo_services, "stepup_failed")) == 2  # Sam's phone and email


async def test_an_expired_code_is_refused_until_a_new_one_is_sent(
    demo_services: Services, clock: FakeClock
) -> None:
    await say(demo_services, "reset my pin", ALEX)
    await say(demo_services, "2468", ALEX)
    await say(demo_services, "1", ALEX)
    old = await web_code(demo_services, ALEX)
    clock.advance(minutes=11)
    assert "That code has expired" in await say(demo_services, old, ALEX)
    assert "6-digit code" in await say(demo_services, "1", ALEX)  # "Send a new code"
    assert "isn't right" in await say(demo_services, old, ALEX)
    assert "Change your account PIN?" in await say(
        demo_services, await web_code(demo_services, ALEX), ALEX
    )
    assert "stepup_code_expired" in await audit_actions(demo_services)


async def test_the_code_never_goes_to_the_phone_asking(demo_services: Services) -> None:
    await say(demo_services, "change my pin", ALEX, channel="sms")
    sent_now = await say(demo_services, "2468", ALEX, channel="sms")
    assert "by email to a•••@example.com" in sent_now  # the only place left: no question
    assert [(c, to) for c, to, _ in await sent(demo_services, "stepup_code")] == [
        ("email", "alex.rivera@example.com")
    ]


async def test_a_chat_linked_this_week_gets_no_code_but_an_older_one_does(
    demo_services: Services,
) -> None:
    book = SqlAddressBook(demo_services.sessions, demo_services.transactions)
    now = _now(demo_services)
    await book.link("telegram", "5550101", ALEX, now=now - timedelta(days=2))
    await say(demo_services, "change my pin", ALEX, channel="sms")
    assert "by email" in await say(demo_services, "2468", ALEX, channel="sms")
    await say(demo_services, "stop that", ALEX, channel="sms")

    await book.link("telegram", "5550101", ALEX, now=now - timedelta(days=8))
    await say(demo_services, "change my pin", ALEX, channel="sms")
    where = await say(demo_services, "2468", ALEX, channel="sms")
    assert "1. your Telegram chat\n2. email to a•••@example.com" in where


async def test_declined_confirmations_change_nothing(demo_services: Services) -> None:
    await bar(demo_services, JORDAN)
    await say(demo_services, "unblock my line", SAM)
    await say(demo_services, "1357", SAM)
    await say(demo_services, "1", SAM)
    await say(demo_services, await web_code(demo_services, SAM), SAM)
    assert "haven't unblocked anything" in await say(demo_services, "no", SAM)
    assert (await line_of(demo_services, JORDAN)).status == "barred"

    await say(demo_services, "switch to spanish", ALEX)
    assert "nothing was changed" in await say(demo_services, "no", ALEX)
    account = await demo_services.billing.find_account_by_msisdn(ALEX)
    assert account is not None and account.locale == "en_US"
    assert await sent(demo_services, "unbar_notice") == []


async def test_a_lost_phones_sim_gets_a_replacement_ticket(demo_services: Services) -> None:
    await bar(demo_services, JORDAN, reason="lost_stolen")
    offer = await say(demo_services, "i found the phone, unblock the sim", SAM)
    assert "blocked as lost or stolen" in offer and "replacement SIM" in offer
    done = await say(demo_services, "yes", SAM)
    assert "asks our team for a replacement SIM for +1 202-555-0103" in done
    assert (await line_of(demo_services, JORDAN)).status == "barred"
    assert "line_unbarred" not in await audit_actions(demo_services)


async def test_the_same_unbar_confirmed_twice_at_once_unbars_once(
    demo_services: Services,
) -> None:
    await bar(demo_services, JORDAN)
    for channel in ("web", "sms"):  # two conversations of Sam's, both at the question
        await say(demo_services, "unblock my sim", SAM, channel=channel)
        await say(demo_services, "1357", SAM, channel=channel)
        if channel == "web":
            await say(demo_services, "1", SAM, channel=channel)
            code = await web_code(demo_services, SAM)
        else:
            code = await code_for(demo_services, "sms", SAM)
        assert "Unblock the SIM" in await say(demo_services, code, SAM, channel=channel)

    same = "twice-1"  # the web chat's message delivered twice, and the SMS one, all at once
    answers = await asyncio.gather(
        say(demo_services, "yes", SAM, external_id=same),
        say(demo_services, "yes", SAM, external_id=same),
        say(demo_services, "yes", SAM, channel="sms"),
    )
    done = [answer for answer in answers if "works again" in answer]
    assert len(done) in (1, 2)  # the duplicate may be answered with the stored reply
    assert len({answer for answer in done}) == 1
    assert any("isn't blocked any more" in answer for answer in answers)
    entries = await demo_services.billing.list_audit(limit=200)
    assert [e.action for e in entries].count("line_unbarred") == 1
    assert (await line_of(demo_services, JORDAN)).status == "active"


# --- a billing error mid-flow -----------------------------------------------------------------
class UnbarFailsOnce(SqlBillingClient):
    """The embedded core, whose first unbar finds the billing system down."""

    failed = False

    async def unbar_line(
        self, line_id: int, *, actor: str, idempotency_key: str, now: datetime
    ) -> UnbarResult:
        if not self.failed:
            type(self).failed = True
            raise BillingUnavailableError("the billing database is not available")
        return await super().unbar_line(
            line_id, actor=actor, idempotency_key=idempotency_key, now=now
        )


@pytest.fixture
async def flaky_services(
    demo_sqlite_url: str, clock: FakeClock, nlu_model: NluModel
) -> AsyncIterator[Services]:
    engine = create_engine(demo_sqlite_url)
    settings = Settings(database_url=demo_sqlite_url, demo=True, secret_key=TEST_SECRET)
    UnbarFailsOnce.failed = False
    billing = UnbarFailsOnce(session_factory(engine))
    built = await build_services(settings, clock=clock, nlu=nlu_model, billing=billing)
    yield built
    await built.close()
    await engine.dispose()


async def test_a_billing_error_mid_flow_keeps_the_question_for_a_retry(
    flaky_services: Services,
) -> None:
    await bar(flaky_services, JORDAN)
    await say(flaky_services, "unblock my sim", SAM)
    await say(flaky_services, "1357", SAM)
    await say(flaky_services, "1", SAM)
    await say(flaky_services, await web_code(flaky_services, SAM), SAM)
    assert "isn't answering right now" in await say(flaky_services, "yes", SAM)
    assert (await line_of(flaky_services, JORDAN)).status == "barred"
    assert "works again" in await say(flaky_services, "yes", SAM)  # still at the question
    assert len(await sent(flaky_services, "unbar_notice")) == 2


# --- secrets ----------------------------------------------------------------------------------
async def test_no_pin_or_code_is_stored_or_logged(
    services: Services, demo_sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await say(services, "change my pin", SAM)
    await say(services, "1357", SAM)
    await say(services, "1", SAM)
    code = await web_code(services, SAM)
    await say(services, code, SAM)
    await say(services, "yes", SAM)
    await say(services, NEW_PIN, SAM)
    assert "PIN is changed" in await say(services, NEW_PIN, SAM)
    await services.outbox.flush(seconds=2)  # the code is written in only at delivery

    database = Path(demo_sqlite_url.removeprefix("sqlite:///"))
    for path in sorted(database.parent.glob(database.name + "*")):
        content = path.read_bytes()
        assert NEW_PIN.encode() not in content, path.name
        assert code.encode() not in content, path.name
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert NEW_PIN not in logged and code not in logged
