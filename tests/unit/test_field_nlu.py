"""The classifier routes the diagnostics and appointment held-out lines
(tests/data/nlu_heldout.jsonl, never trained on) and the way people really ask."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.nlu import NluModel, evaluate
from bot.nlu.report import format_eval

HELDOUT = Path(__file__).resolve().parents[1] / "data" / "nlu_heldout.jsonl"
OURS = ("diagnostics", "appointment")


@pytest.fixture(scope="module")
def model(nlu_model: NluModel) -> NluModel:
    return nlu_model  # the session's model: trained (or loaded) once per run


def _heldout() -> list[tuple[str, str]]:
    with HELDOUT.open(encoding="utf-8") as lines:
        rows = [json.loads(line) for line in lines if line.strip()]
    return [(row["text"], row["label"]) for row in rows]


@pytest.mark.parametrize("intent", OURS)
def test_each_has_its_own_held_out_lines(intent: str) -> None:
    assert sum(label == intent for _, label in _heldout()) >= 15


@pytest.mark.parametrize("intent", OURS)
def test_held_out_lines_are_routed_to_the_intent(model: NluModel, intent: str) -> None:
    ours = [(text, label) for text, label in _heldout() if label == intent]

    report = evaluate(model, ours)

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
def test_how_people_ask(model: NluModel, text: str, intent: str) -> None:
    assert model.parse(text).intent == intent


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
def test_neighbours_keep_their_own_requests(model: NluModel, text: str, intent: str) -> None:
    assert model.parse(text).intent == intent
