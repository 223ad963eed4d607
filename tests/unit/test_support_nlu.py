"""The classifier routes the support intents' held-out lines (tests/data/nlu_heldout.jsonl,
never trained on) and the way people really ask for them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.nlu import NluModel, evaluate
from bot.nlu.report import format_eval

HELDOUT = Path(__file__).resolve().parents[1] / "data" / "nlu_heldout.jsonl"
OURS = ("ticket_status", "payment_history", "bill_explain", "help")


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
    report = evaluate(model, _heldout())

    scores = report.per_intent[intent]
    assert scores.recall >= 0.9 and scores.f1 >= 0.9, format_eval(report, worst=15)


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("whats up with my ticket T-000123", "ticket_status"),
        ("any news on my complaint?? its been a week", "ticket_status"),
        ("please close my ticket, it's working now", "ticket_status"),
        ("cómo va mi reclamación", "ticket_status"),
        ("my payment history please", "payment_history"),
        ("when did i last pay u", "payment_history"),
        ("recibos de mis pagos", "payment_history"),
        ("why is my bill higher this month?", "bill_explain"),
        ("y did my bil go up", "bill_explain"),
        ("por qué ha subido la factura", "bill_explain"),
        ("help", "help"),
        ("what are your opening hours", "help"),
        ("teléfono de atención al cliente", "help"),
    ],
)
def test_how_people_ask(model: NluModel, text: str, intent: str) -> None:
    assert model.parse(text).intent == intent


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("open a ticket please", "open_ticket"),  # a new problem, not an old one's status
        ("I want to talk to a person", "open_ticket"),
        ("send me my last bill", "invoice"),
        ("what do i owe", "balance"),
    ],
)
def test_neighbours_keep_their_own_requests(model: NluModel, text: str, intent: str) -> None:
    assert model.parse(text).intent == intent
