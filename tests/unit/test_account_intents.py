"""`unbar_sim`, `pin_reset` and `update_contact` on the in-memory billing client: happy paths,
declined confirmations, billing errors, and the notices to the holder's other channels."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from billing_client import BillingUnavailableError, UnbarResult
from bot.nlu.types import Entity
from tests.account_chat import JORDAN_PHONE, SAM_PHONE, Chat, maria, sam
from tests.fakes import NOW, FakeBillingClient


async def _barred(reason: str = "customer request", line_id: int = 11) -> FakeBillingClient:
    billing = FakeBillingClient()
    await billing.bar_line(line_id, reason=reason, idempotency_key="b1", actor="t", now=NOW)
    return billing


# --- unbar_sim --------------------------------------------------------------------------------
async def test_unbar_verifies_strongly_confirms_and_lifts_the_bar() -> None:
    chat = sam(await _barred())
    assert "PIN for +1 202-555-0103" in await chat.say("unblock my sim", "unbar_sim")
    confirm = await chat.verify("1357", via="via:2")
    assert "Unblock the SIM for +1 202-555-0103 (Jordan Lee) now?" in confirm
    assert [o.value for o in chat.last.options] == ["yes", "no"]
    done = await chat.say("yes")
    assert "Done. The SIM for +1 202-555-0103 works again (bar B-000001 lifted)." in done
    assert chat.billing.lines[11].status == "active"
    notices = chat.sent("unbar_notice")
    assert {m.address for m in notices} == {"sam@example.com", SAM_PHONE}
    assert "Not you? Call +1 202 555 0199" in notices[0].replies[0].text
    assert not chat.state.active


async def test_unbar_offers_the_barred_lines_only() -> None:
    billing = await _barred()
    await billing.bar_line(10, reason="customer request", idempotency_key="b2", actor="t", now=NOW)
    chat = sam(billing)
    assert "Which line do you want to unblock?" in await chat.say("unblock", "unbar_sim")
    assert [o.value for o in chat.last.options] == ["line:10", "line:11"]
    assert "PIN for +1 202-555-0102" in await chat.say("line:10")


async def test_unbar_with_nothing_barred_says_so() -> None:
    chat = sam()
    assert "None of your lines is blocked" in await chat.say("unblock my sim", "unbar_sim")
    phone = Entity("phone", JORDAN_PHONE, "202 555 0103")
    assert "+1 202-555-0103 isn't blocked" in await chat.say("unblock 0103", "unbar_sim", phone)
    assert not chat.state.active


async def test_a_lost_or_stolen_sim_gets_a_replacement_ticket_not_an_unbar() -> None:
    billing = await _barred("lost_stolen")
    chat = sam(billing)
    offer = await chat.say("unblock my sim", "unbar_sim")
    assert "blocked as lost or stolen (B-000001)" in offer
    assert "replacement SIM" in offer and "PIN" not in offer
    done = await chat.say("yes")
    assert "ticket T-000123 asks our team for a replacement SIM for +1 202-555-0103" in done
    assert billing.lines[11].status == "barred"

    again = sam(billing, sender="s2")
    await again.say("i found my phone, unblock it", "unbar_sim")
    assert "already asked for a replacement SIM" in await again.say("yes")
    assert len(billing.tickets) == 1


async def test_declining_the_replacement_or_the_unbar_changes_nothing() -> None:
    lost = sam(await _barred("lost_stolen"))
    await lost.say("unblock my sim", "unbar_sim")
    assert "stays blocked" in await lost.say("no")
    assert lost.billing.tickets == {}

    chat = sam(await _barred())
    await chat.say("unblock my sim", "unbar_sim")
    await chat.verify("1357", via="via:1")
    assert "yes or no" in await chat.say("hmm")
    assert "haven't unblocked anything" in await chat.say("no")
    assert chat.billing.lines[11].status == "barred"
    assert chat.sent("unbar_notice") == []


async def test_going_back_after_verifying_does_not_ask_for_it_again() -> None:
    billing = await _barred()
    await billing.bar_line(10, reason="customer request", idempotency_key="b2", actor="t", now=NOW)
    chat = sam(billing)
    await chat.say("unblock", "unbar_sim")
    await chat.say("line:11")
    await chat.verify("1357", via="via:2")
    chat.state.goto("choose_line")  # what the router's "back" does here
    assert "Unblock the SIM for +1 202-555-0102" in await chat.say("line:10")


async def test_an_unbar_that_someone_else_did_first_is_reported_as_such() -> None:
    billing = await _barred()
    chat = sam(billing)
    await chat.say("unblock my sim", "unbar_sim")
    await chat.verify("1357", via="via:1")
    await billing.unbar_line(11, actor="agent", idempotency_key="other", now=NOW)
    assert "isn't blocked any more" in await chat.say("yes")
    assert chat.sent("unbar_notice") == []


class FlakyBilling(FakeBillingClient):
    """Its first unbar fails as if the billing system were down."""

    failed = False

    async def unbar_line(
        self, line_id: int, *, actor: str, idempotency_key: str, now: datetime
    ) -> UnbarResult:
        if not self.failed:
            self.failed = True
            raise BillingUnavailableError("down")
        return await super().unbar_line(
            line_id, actor=actor, idempotency_key=idempotency_key, now=now
        )


async def test_a_billing_error_at_the_unbar_leaves_the_line_as_it_was() -> None:
    billing = FlakyBilling()
    await billing.bar_line(11, reason="customer request", idempotency_key="b", actor="t", now=NOW)
    chat = sam(billing)
    await chat.say("unblock my sim", "unbar_sim")
    await chat.verify("1357", via="via:1")
    with pytest.raises(BillingUnavailableError):  # the engine answers "try again shortly"
        await chat.say("yes")
    assert billing.lines[11].status == "barred" and chat.sent("unbar_notice") == []


async def test_unbar_in_spanish_sends_the_code_by_email_when_the_only_line_is_barred() -> None:
    chat = maria(await _barred(line_id=20))
    await chat.say("desbloquear mi sim", "unbar_sim")
    sent = await chat.say("9753")
    assert "por correo a m•••@example.com" in sent
    confirm = await chat.say(chat.code())
    assert "¿Desbloqueamos ahora la SIM de +1 202-555-0104 (María García)?" in confirm
    assert "vuelve a funcionar" in await chat.say("yes")


# --- pin_reset --------------------------------------------------------------------------------
async def test_pin_reset_takes_the_new_pin_twice_and_never_keeps_it() -> None:
    chat = sam()
    await chat.say("change my pin", "pin_reset")
    confirm = await chat.verify("1357", via="via:1")
    assert "current PIN stops working as soon as the new one is set" in confirm
    assert "Type your new PIN" in await chat.say("yes")
    assert "once more" in await chat.say("2580")
    assert "2580" not in json.dumps(chat.state.slots)
    assert "PIN is changed" in await chat.say("2580")
    assert chat.billing.pins[1] == "2580"
    assert chat.billing.audit[0].action == "pin_changed"
    notices = chat.sent("pin_changed")
    assert {m.address for m in notices} == {"sam@example.com", SAM_PHONE}
    assert all("2580" not in m.replies[0].text for m in chat.outgoing)
    assert not chat.state.active


@pytest.mark.parametrize(
    ("pin", "answer"),
    [("1111", "too easy"), ("1234", "like 1234"), ("87654", "like 1234"), ("12", "4 to 8")],
)
async def test_weak_or_malformed_new_pins_are_refused(pin: str, answer: str) -> None:
    chat = sam()
    await chat.say("reset pin", "pin_reset")
    await chat.verify("1357", via="via:1")
    await chat.say("yes")
    assert answer in await chat.say(pin)
    assert chat.state.step == "new_pin"


async def test_pins_that_do_not_match_start_again_then_stop() -> None:
    chat = sam()
    await chat.say("reset pin", "pin_reset")
    await chat.verify("1357", via="via:1")
    await chat.say("yes")
    await chat.say("2580")
    assert "don't match" in await chat.say("2581")
    await chat.say("2580")
    assert "stays as it was" in await chat.say("9999")
    assert chat.billing.pins[1] == "1357"


async def test_declining_the_pin_change_changes_nothing() -> None:
    chat = sam()
    await chat.say("reset pin", "pin_reset")
    await chat.verify("1357", via="via:1")
    assert "stays as it was" in await chat.say("no")
    assert chat.billing.pins[1] == "1357" and chat.sent("pin_changed") == []


async def test_a_customer_who_forgot_the_pin_is_sent_to_support() -> None:
    chat = sam()
    text = await chat.say("i forgot my pin", "pin_reset")
    assert "Without your PIN" in text and "+1 202 555 0199" in text
    assert not chat.state.active


async def test_the_new_pin_works_at_once_and_old_locks_are_gone() -> None:
    billing = FakeBillingClient()
    stranger = Chat(billing, None, sender="thief")
    await stranger.say("lost my phone", "bar_sim")
    await stranger.say(SAM_PHONE)
    for _ in range(5):
        await stranger.say("0000")
    chat = sam(billing)
    await chat.say("reset pin", "pin_reset")
    await chat.verify("1357", via="via:1")
    await chat.say("yes")
    await chat.say("2580")
    await chat.say("2580")
    assert billing.guards == {} and billing.pin_failures == []
    await billing.verify_pin(1, "2580", actor="web:s9", now=NOW)


# --- update_contact ---------------------------------------------------------------------------
async def test_an_email_change_is_verified_then_confirmed_by_a_link_to_the_new_address() -> None:
    chat = sam()
    question = await chat.say("update my details", "update_contact")
    assert "What would you like to change?" in question
    assert "PIN" in await chat.say("part:email")
    assert "new email address" in await chat.verify("1357", via="via:1")
    assert "doesn't look like an email" in await chat.say("sam at home")
    confirm = await chat.say("sam.new@example.org")
    assert "I'll send a link to sam.new@example.org" in confirm
    assert "until then it stays s•••@example.com" in confirm
    assert "Sent." in await chat.say("yes")
    (link,) = chat.sent("email_confirm")
    assert (link.channel, link.address) == ("email", "sam.new@example.org")
    assert "/account/contact/confirm/" in link.replies[0].text
    notices = chat.sent("email_change_notice")
    assert {m.address for m in notices} == {"sam@example.com", SAM_PHONE}
    assert chat.billing.accounts[1].email == "sam@example.com"  # only the link changes it


async def test_an_email_given_up_front_goes_straight_to_the_confirmation() -> None:
    chat = sam()
    await chat.say("change my email to sam@new.example.com", "update_contact")
    confirm = await chat.verify("1357", via="via:2")
    assert "I'll send a link to sam@new.example.com" in confirm
    assert "OK, nothing was changed." in await chat.say("no")
    assert chat.sent("email_confirm") == []


async def test_the_language_changes_after_a_question_without_a_pin() -> None:
    chat = sam()
    question = await chat.say("switch to spanish", "update_contact")
    assert "Switch to Spanish?" in question and "PIN" not in question
    assert "te escribiré en español" in await chat.say("yes")
    assert chat.billing.accounts[1].locale == "es_ES"


async def test_the_language_can_be_picked_from_a_list() -> None:
    chat = maria()
    assert "¿Qué idioma uso?" in await chat.say("cambiar idioma", "update_contact")
    assert [o.value for o in chat.last.options] == ["lang:en_US", "lang:es_ES"]
    assert "I'll write to you in English" in await chat.say("lang:en_US")
    assert chat.billing.accounts[2].locale == "en_US"


async def test_the_time_zone_takes_a_city_after_one_more_try() -> None:
    chat = sam()
    assert "Which time zone" in await chat.say("change my time zone", "update_contact")
    assert "I don't know that place" in await chat.say("Springfield")
    confirm = await chat.say("Denver")
    assert "Set your time zone to America/Denver (it's 8:00 AM there now)?" in confirm
    assert "Your time zone is America/Denver" in await chat.say("yes")
    assert chat.billing.accounts[1].timezone == "America/Denver"


async def test_an_unknown_place_twice_points_to_the_account_page() -> None:
    chat = sam()
    await chat.say("change my time zone", "update_contact")
    await chat.say("Springfield")
    assert "full list" in await chat.say("Shelbyville")
    assert chat.last.link is not None and "/signin/link/" in chat.last.link
    assert chat.billing.accounts[1].timezone == "America/Chicago"


async def test_a_time_zone_named_up_front_is_confirmed_in_spanish() -> None:
    chat = maria()
    confirm = await chat.say("cambiar zona horaria a Canarias", "update_contact")
    assert "¿Pongo tu zona horaria en Atlantic/Canary (allí son las 15:00)?" in confirm
    assert "no he cambiado nada" in await chat.say("no")
    assert chat.billing.accounts[2].timezone == "Europe/Madrid"


async def test_setting_what_is_already_set_says_so() -> None:
    chat = sam()
    text = await chat.say("set my time zone to chicago", "update_contact")
    assert "Your time zone is already America/Chicago." in text
    assert "already use English" in await chat.say("switch to english", "update_contact")
