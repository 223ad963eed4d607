"""The compliance step's decisions: one confirmation per opt-out, silence until an opt-in."""

from __future__ import annotations

from bot.compliance import OPT_OUT_CONFIRMATION, Operator, decide

OPERATOR = Operator("Acme Mobile", "help@acme.example")


def test_stop_opts_out_with_one_confirmation_naming_the_operator() -> None:
    outcome = decide("opt_out", None, "STOP", OPERATOR)

    assert outcome.handled and outcome.suppress == "opted_out"
    assert outcome.kind == OPT_OUT_CONFIRMATION
    assert outcome.text is not None and "Acme Mobile" in outcome.text and "START" in outcome.text


def test_a_second_stop_confirms_nothing() -> None:
    outcome = decide("opt_out", "opted_out", "stop", OPERATOR)

    assert outcome.handled and outcome.text is None and outcome.suppress is None


def test_an_opted_out_address_is_not_acted_on() -> None:
    outcome = decide(None, "opted_out", "balance", OPERATOR)

    assert outcome.handled and outcome.text is None


def test_start_lifts_an_opt_out_and_yes_is_an_answer_otherwise() -> None:
    lifted = decide("opt_in", "opted_out", "START", OPERATOR)
    answer = decide("opt_in", None, "yes", OPERATOR)

    assert lifted.handled and lifted.lift == ("opted_out",)
    assert not answer.handled and answer.lift == ()


def test_help_names_the_contact_and_how_to_opt_out_in_the_words_language() -> None:
    english = decide("help", None, "HELP", OPERATOR)
    spanish = decide("help", None, "ayuda", OPERATOR)

    assert english.text is not None and "help@acme.example" in english.text
    assert "Reply STOP" in english.text
    assert spanish.text is not None and "BAJA" in spanish.text


def test_writing_again_lifts_a_blocked_or_unreachable_address() -> None:
    outcome = decide(None, "unreachable", "balance", OPERATOR)

    assert not outcome.handled and outcome.lift == ("blocked", "unreachable")
