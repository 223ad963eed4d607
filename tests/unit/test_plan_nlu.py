"""The held-out messages for plan_change, add_on and top_up (tests/data/nlu_heldout.jsonl,
written apart from the training files) reach their intents."""

from __future__ import annotations

import pytest

from bot.nlu import NluModel, evaluate
from bot.nlu.report import format_eval
from tests.nlu_data import heldout

OURS = ("plan_change", "add_on", "top_up")


@pytest.mark.parametrize("intent", OURS)
def test_each_has_at_least_15_held_out_messages_and_recalls_most(
    nlu_model: NluModel, intent: str
) -> None:
    ours = [(text, label) for text, label in heldout() if label == intent]
    assert len(ours) >= 15
    report = evaluate(nlu_model, ours)
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
def test_neighbours_keep_their_intents(nlu_model: NluModel, text: str, intent: str) -> None:
    assert nlu_model.parse(text).intent == intent
