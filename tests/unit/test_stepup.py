"""Step-up verification (`bot.stepup`) as a sub-flow, driven through the intents that call it,
on the in-memory billing client: where codes may go, wrong and expired codes, the hand-over to
a person, and the flow state's call/return."""

from __future__ import annotations

import json
from datetime import timedelta

from bot import stepup
from bot.flow import FlowState, TurnContext
from bot.links import LinkSigner
from bot.otp import placeholder
from bot.types import InboundMessage
from tests.account_chat import (
    CODES,
    JORDAN_PHONE,
    MARIA_PHONE,
    REGISTRY,
    SAM_PHONE,
    SETTINGS,
    Chat,
    FakeAddressBook,
    FakeBillingClient,
    maria,
    sam,
)
from tests.fakes import NOW, parse

TELEGRAM_CHAT = "777001"


# --- where the code goes ----------------------------------------------------------------------
async def test_the_customer_picks_where_the_code_goes_and_it_is_never_in_the_message() -> None:
    chat = sam()
    assert "PIN" in await chat.say("change my pin", "pin_reset")
    question = await chat.say("1357")
    assert "Where should it go?" in question
    labels = [option.label for option in chat.last.options]
    assert labels == ["SMS to +1202•••0102", "email to s•••@example.com"]
    sent = await chat.say("via:2")
    assert "by email to s•••@example.com" in sent
    (message,) = chat.sent(stepup.CODE_KIND)
    assert (message.channel, message.address) == ("email", "sam@example.com")
    reference = chat.state.slots["stepup"]["reference"]
    assert placeholder(reference) in message.replies[0].text
    assert chat.code() not in message.replies[0].text


async def test_an_answer_that_is_no_option_sends_the_code_to_the_first() -> None:
    chat = sam()
    await chat.say("change my pin", "pin_reset")
    await chat.say("1357")
    assert "by SMS to +1202•••0102" in await chat.say("whatever")
    assert chat.sent(stepup.CODE_KIND)[0].address == SAM_PHONE


async def test_the_code_never_goes_to_the_phone_that_asks() -> None:
    for channel in ("sms", "whatsapp"):
        chat = sam(channel=channel, sender=SAM_PHONE)
        await chat.say("change my pin", "pin_reset")
        sent = await chat.say("1357")  # one place left: no question, sent at once
        assert "by email to s•••@example.com" in sent, channel
        assert [m.channel for m in chat.sent(stepup.CODE_KIND)] == ["email"]


async def test_a_chat_linked_less_than_a_week_ago_is_no_second_factor() -> None:
    fresh, old = FakeAddressBook(), FakeAddressBook()
    fresh.links[("telegram", TELEGRAM_CHAT)] = (SAM_PHONE, NOW - timedelta(days=2))
    old.links[("telegram", TELEGRAM_CHAT)] = (SAM_PHONE, NOW - timedelta(days=30))
    chats = [sam(book=book, channel="sms", sender=SAM_PHONE) for book in (fresh, old)]
    for chat in chats:
        await chat.say("change my pin", "pin_reset")
    assert "by email" in await chats[0].say("1357")
    await chats[1].say("1357")
    assert [o.label for o in chats[1].last.options] == [
        "your Telegram chat",
        "email to s•••@example.com",
    ]


async def test_the_chat_asking_is_never_its_own_second_factor() -> None:
    book = FakeAddressBook()
    book.links[("telegram", TELEGRAM_CHAT)] = (SAM_PHONE, NOW - timedelta(days=30))
    chat = sam(book=book, channel="telegram", sender=TELEGRAM_CHAT)
    await chat.say("change my pin", "pin_reset")
    await chat.say("1357")
    assert [o.value for o in chat.last.options] == ["via:1", "via:2"]
    assert "Telegram" not in " ".join(o.label for o in chat.last.options)


async def test_a_barred_line_and_an_opted_out_address_get_no_code() -> None:
    billing = FakeBillingClient()
    await billing.bar_line(10, reason="lost_stolen", idempotency_key="b", actor="t", now=NOW)
    book = FakeAddressBook(suppressed={("email", "sam@example.com")})
    chat = sam(billing, book=book)
    text = await chat.say("change my pin", "pin_reset")
    assert "I have none I can use from here" in text
    assert "+1 202 555 0199" in text  # the operator's support contact
    assert not chat.state.active


# --- the code ---------------------------------------------------------------------------------
async def test_the_right_code_returns_to_the_flow_and_asks_its_next_question() -> None:
    chat = sam()
    await chat.say("change my pin", "pin_reset")
    await chat.say("1357")
    await chat.say("via:1")
    text = await chat.say(chat.code())
    assert text.startswith("Thanks, that's you.")
    assert "Change your account PIN?" in text
    assert chat.state.step == "confirm" and "stepup" not in chat.state.slots
    assert chat.state.slots["verified"] == "strong"
    assert [e.action for e in chat.billing.audit][:2] == ["stepup_passed", "pin_ok"]


async def test_a_wrong_code_counts_down_and_is_audited() -> None:
    chat = sam()
    await chat.say("change my pin", "pin_reset")
    await chat.say("1357")
    await chat.say("via:1")
    assert "You have 4 tries left." in await chat.say("000000")
    assert chat.billing.audit[0].action == "stepup_code_wrong"
    assert chat.state.step == "stepup.code"


async def test_five_wrong_codes_hand_over_to_a_person_with_one_ticket() -> None:
    billing = FakeBillingClient()
    chat = sam(billing)
    await chat.say("change my pin", "pin_reset")
    await chat.say("1357")
    await chat.say("via:1")
    replies = [await chat.say("000000") for _ in range(5)]
    assert "You have 1 try left." in replies[3]
    assert "passed this to our team (ticket T-000123)" in replies[4]
    assert not chat.state.active
    actions = [entry.action for entry in billing.audit]
    assert actions.count("stepup_code_wrong") == 5 and actions[0] == "stepup_failed"
    (ticket,) = billing.tickets.values()
    assert ticket.subject == "Security check failed: pin_reset"
    notices = chat.sent("stepup_failed")
    assert {(m.channel, m.address) for m in notices} == {
        ("sms", SAM_PHONE),
        ("email", "sam@example.com"),
    }
    assert billing.pins[1] == "1357"  # nothing changed

    again = sam(billing, sender="s2")  # a second failure the same day: the same ticket
    await again.say("change my pin", "pin_reset")
    await again.say("1357")
    await again.say("via:1")
    for _ in range(5):
        last = await again.say("000000")
    assert "T-000123" in last and len(billing.tickets) == 1


async def test_an_expired_code_is_refused_and_a_new_one_can_be_sent() -> None:
    chat = sam()
    await chat.say("change my pin", "pin_reset")
    await chat.say("1357")
    await chat.say("via:1")
    old = chat.code()
    chat.now = NOW + timedelta(minutes=11)
    assert "expired" in await chat.say(old)
    assert [o.value for o in chat.last.options] == ["resend", "stop"]
    assert "6-digit code" in await chat.say("resend")
    assert len(chat.sent(stepup.CODE_KIND)) == 2
    assert "isn't right" in await chat.say(old)  # the old code is dead for good
    assert "Change your account PIN?" in await chat.say(chat.code())


async def test_stopping_at_an_expired_code_changes_nothing() -> None:
    chat = sam()
    await chat.say("change my pin", "pin_reset")
    await chat.say("1357")
    await chat.say("via:1")
    chat.now = NOW + timedelta(minutes=10, seconds=1)
    await chat.say(chat.code())
    assert "Nothing was changed" in await chat.say("stop")
    assert not chat.state.active


async def test_new_codes_are_limited() -> None:
    chat = sam()
    await chat.say("change my pin", "pin_reset")
    await chat.say("1357")
    await chat.say("via:1")
    await chat.say("i didn't get it, resend")
    await chat.say("resend")
    assert "several codes" in await chat.say("resend")
    assert len(chat.sent(stepup.CODE_KIND)) == 3


# --- the PIN ----------------------------------------------------------------------------------
async def test_a_wrong_pin_counts_down_in_the_billing_core() -> None:
    chat = sam()
    await chat.say("change my pin", "pin_reset")
    assert "You have 4 attempts left." in await chat.say("0000")
    assert chat.billing.audit[0].action == "pin_wrong"
    assert "4 to 8 digits" in await chat.say("my pin is secret")


async def test_five_wrong_pins_lock_and_hand_a_strong_check_to_a_person() -> None:
    billing = FakeBillingClient()
    chat = sam(billing)
    await chat.say("change my pin", "pin_reset")
    for _ in range(4):
        await chat.say("0000")
    locked = await chat.say("0000")
    assert "can't check your PIN from here until 9:30 AM (America/Chicago)" in locked
    assert "ticket T-000123" in locked
    assert not chat.state.active
    assert [m.kind for m in chat.outgoing].count("pin_locked") == 1


async def test_a_forgotten_pin_is_sent_to_a_person() -> None:
    chat = sam()
    await chat.say("change my pin", "pin_reset")
    text = await chat.say("i forgot it")
    assert "Without your PIN" in text and not chat.state.active


async def test_spanish_customers_are_verified_in_spanish() -> None:
    chat = maria()
    assert "introduce el PIN de tu cuenta" in await chat.say("cambiar pin", "pin_reset")
    assert "Te quedan 4 intentos." in await chat.say("0000")
    sent = await chat.say("9753")  # from the web chat: her phone by SMS, or her email
    assert "¿Adónde lo envío?" in sent
    await chat.say("via:1")
    assert "Te quedan 4 intentos." in await chat.say("000000")
    assert "Gracias, eres tú." in await chat.say(chat.code())
    (message,) = chat.sent(stepup.CODE_KIND)
    assert "es tu código para cambiar el PIN de tu cuenta" in message.replies[0].text


# --- the flow's call and return ---------------------------------------------------------------
def test_every_step_of_the_sub_flow_that_takes_a_secret_is_secret_for_each_caller() -> None:
    for name in ("unbar_sim", "pin_reset", "update_contact"):
        assert REGISTRY.get(name).secret_steps >= stepup.SECRET_STEPS
        assert {(name, "stepup.pin"), (name, "stepup.code")} <= REGISTRY.secret_steps


def test_a_called_sub_flow_returns_to_the_callers_step_and_back_skips_it() -> None:
    state = FlowState()
    state.begin("pin_reset", "start", flow_id="f")
    state.history.append("start")
    state.call("stepup", "pin", then="confirm", level="strong")
    assert state.called("stepup") == "pin" and state.called("other") is None
    state.history.append("stepup.pin")
    state.goto("stepup.code")
    state.history.append("stepup.code")
    assert state.leave("stepup") == "confirm"
    assert state.step == "confirm" and state.called("stepup") is None
    assert state.back() and state.step == "start"  # verification is not asked again


async def test_neither_the_pin_nor_the_code_is_kept_in_the_flow_state() -> None:
    chat = sam()
    await chat.say("change my pin", "pin_reset")
    await chat.say("1357")
    await chat.say("via:1")
    code = chat.code()
    await chat.say(code)
    state = json.dumps(chat.state.slots)
    assert "1357" not in state and code not in state


async def test_someone_else_on_the_account_gets_no_code_on_their_line() -> None:
    chat = sam()
    await chat.say("change my pin", "pin_reset")
    await chat.say("1357")
    addresses = [value for _, value in (o.label.split(" to ", 1) for o in chat.last.options)]
    assert all(JORDAN_PHONE[-4:] not in address for address in addresses)


async def test_a_strangers_pin_proves_only_the_number_it_was_given_for() -> None:
    billing = FakeBillingClient()
    stranger = Chat(billing, None, sender="stranger")
    await stranger.say("lost my phone", "bar_sim")
    await stranger.say(JORDAN_PHONE)
    assert "Block the SIM for +1 202-555-0103" in await stranger.say("1357")
    stranger.state.goto("ask_number")  # what "back" does here
    assert "PIN for +1 202-555-0104" in await stranger.say(MARIA_PHONE)
    assert "line_id" not in stranger.state.slots
    assert "¿Bloqueamos ahora la SIM de +1 202-555-0104" in await stranger.say("9753")


async def test_going_back_inside_the_sub_flow_asks_its_question_again() -> None:
    chat = sam()
    await chat.say("change my pin", "pin_reset")
    await chat.say("1357")
    await chat.say("via:2")
    (reply,) = await stepup.prompt(_context(chat))
    assert reply.text == "Type the 6-digit code I sent by email to s•••@example.com."
    chat.state.goto("stepup.channel")
    (reply,) = await stepup.prompt(_context(chat))
    assert [o.value for o in reply.options] == ["via:1", "via:2"]


def _context(chat: Chat) -> TurnContext:
    return TurnContext(
        message=InboundMessage(chat.channel, chat.sender, "back", "x", chat.now),
        text="back",
        parse=parse("back"),
        account=chat.account,
        state=chat.state,
        billing=chat.billing,
        links=LinkSigner(SETTINGS.secret_key, SETTINGS.public_url),
        registry=REGISTRY,
        settings=SETTINGS,
        now=chat.now,
        addresses=chat.book,
        codes=CODES,
    )
