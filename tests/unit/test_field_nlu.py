"""The classifier routes the diagnostics and appointment held-out lines
(tests/data/nlu_heldout.jsonl, never trained on) and the way people really ask."""

from __future__ import annotations

import pytest

from bot.nlu import NluModel, evaluate
from bot.nlu.report import format_eval
from tests.nlu_data import heldout

OURS = ("diagnostics", "appointment")


@pytest.mark.parametrize("intent", OURS)
def test_each_has_its_own_held_out_lines(intent: str) -> None:
    assert sum(label == intent for _, label in heldout()) >= 15


@pytest.mark.parametrize("intent", OURS)
def test_held_out_lines_are_routed_to_the_intent(nlu_model: NluModel, intent: str) -> None:
    ours = [(text, label) for text, label in heldout() if label == intent]

    report = evaluate(nlu_model, ours)

    # The neighbours' training data moves these a little as intents are added.
    assert report.per_intent[intent].recall >= 0.8, format_eval(report, worst=15)


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("my internet is down", "diagnostics"),
        ("no signal", "diagnostics"),
        ("is there an outage in my area?", "diagnostics"),
        ("wifi not working since last night", "diagnostics"),
        ("mi fibra no va", "diagnostics"),
        ("no tengo cobertura en casa", "diagnostics"),
        ("when can a technician come", "appointment"),
        ("can an engineer come out on tuesday", "appointment"),
        ("cancel my technician appointment", "appointment"),
        ("reschedule the engineer visit", "appointment"),
        ("cuándo viene el técnico", "appointment"),
    ],
)
def test_how_people_ask(nlu_model: NluModel, text: str, intent: str) -> None:
    assert nlu_model.parse(text).intent == intent


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("I want to talk to a person", "open_ticket"),  # a person, not a check
        ("I want to make a complaint", "open_ticket"),
        ("I lost my phone, block my sim", "bar_sim"),
        ("how much data do I have left", "usage"),
        ("set a reminder for my dentist appointment", "out_of_scope"),
    ],
)
def test_neighbours_keep_their_own_requests(nlu_model: NluModel, text: str, intent: str) -> None:
    assert nlu_model.parse(text).intent == intent
