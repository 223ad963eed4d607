"""The demo-only code reveal (`bot.demo_codes`) on its own: which queued messages get a note,
what it says, and that the code is filled in only when the answer is handed back."""

from __future__ import annotations

from bot import otp
from bot.demo_codes import filled, notes
from bot.types import Option, OutboundMessage, Reply

ALEX = "+12025550101"
REFERENCE = "ref-0123456789abcdef"
CODES = otp.OneTimeCodes("a test secret that is long enough")


def code_message(channel: str = "sms", address: str = ALEX) -> OutboundMessage:
    text = f"billbot: {otp.placeholder(REFERENCE)} is your code to change your account PIN."
    return OutboundMessage(
        channel=channel,
        address=address,
        replies=(Reply(text=text),),
        kind="stepup_code",
        dedupe_key=f"stepup_code:{REFERENCE}",
    )


def test_a_code_the_sandbox_keeps_gets_a_labelled_note_holding_only_its_placeholder() -> None:
    (note,) = notes([code_message()], live=frozenset(), locale="en_US")

    assert note.text.startswith("Demo mode: messages are recorded here, not sent")
    assert "by SMS to +1202•••0101" in note.text
    assert "a real deployment never shows this" in note.text
    assert otp.placeholder(REFERENCE) in note.text
    assert CODES.code(REFERENCE) not in note.text


def test_a_code_going_out_on_a_live_channel_is_never_shown() -> None:
    sms, email = code_message(), code_message("email", "alex.rivera@example.com")

    (note,) = notes([sms, email], live=frozenset({"sms"}), locale="en_US")

    assert "by email to a•••@example.com" in note.text


def test_messages_without_a_code_get_no_note() -> None:
    notice = OutboundMessage(
        channel="email",
        address="alex.rivera@example.com",
        replies=(Reply(text="billbot: your SIM works again."),),
        kind="unbar_notice",
        dedupe_key="unbar_notice:1",
    )

    assert notes([notice], live=frozenset(), locale="en_US") == []


def test_the_note_is_in_the_customers_language() -> None:
    (note,) = notes([code_message()], live=frozenset(), locale="es_ES")

    assert note.text.startswith("Modo demo: aquí los mensajes se registran, no se envían")
    assert "por SMS al +1202•••0101" in note.text
    assert "una instalación real nunca lo muestra" in note.text


def test_the_code_is_computed_from_its_reference_when_the_answer_is_handed_back() -> None:
    (note,) = notes([code_message()], live=frozenset(), locale="en_US")
    sent = Reply(text="I've sent a 6-digit code.", options=(Option("Stop", "stop"),))

    shown = filled([sent, note], CODES)

    assert shown[0] == sent
    assert f"billbot: {CODES.code(REFERENCE)} is your code" in shown[1].text
    assert "[[one-time-code:" not in shown[1].text
