"""The held-out messages for plan_change, add_on and top_up (tests/data/nlu_heldout.jsonl,
written apart from the training files) reach their intents."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.nlu import NluModel, evaluate
from bot.nlu.report import format_eval

HELDOUT = Path(__file__).resolve().parents[1] / "data" / "nlu_heldout.jsonl"
OURS = ("plan_change", "add_on", "top_up")


@pytest.fixture(scope="module")
def model(nlu_model: NluModel) -> NluModel:
    return nlu_model  # the session's model: trained (or loaded) once per run


def _heldout() -> list[tuple[str, str]]:
    rows = [json.loads(line) for line in HELDOUT.read_text(encoding="utf-8").splitlines() if line]
    return [(row["text"], row["label"]) for row in rows]


@pytest.mark.parametrize("intent", OURS)
def test_each_has_at_least_15_held_out_messages_and_recalls_most(
    model: NluModel, intent: str
) -> None:
    ours = [(text, label) for text, label in _heldout() if label == intent]
    assert len(ours) >= 15
    report = evaluate(model, ours)
    assert report.per_intent[intent].recall >= 0.85, format_eval(report, worst=15)


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("no, the other line", "out_of_scope"),  # a correction inside a flow, not a new intent
        ("how much data have I got left", "usage"),
        ("pay my bill", "pay_bill"),
        ("what's my balance", "balance"),
    ],
)
def test_neighbours_keep_their_intents(model: NluModel, text: str, intent: str) -> None:
    assert model.parse(text).intent == intent
