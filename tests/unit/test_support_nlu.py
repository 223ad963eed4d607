"""The classifier routes the support intents' held-out lines (tests/data/nlu_heldout.jsonl,
never trained on) and the way people really ask for them."""

from __future__ import annotations

import pytest

from bot.nlu import NluModel, evaluate
from bot.nlu.report import format_eval
from tests.nlu_data import heldout

OURS = ("ticket_status", "payment_history", "bill_explain", "help")


@pytest.mark.parametrize("intent", OURS)
def test_each_has_its_own_held_out_lines(intent: str) -> None:
    assert sum(label == intent for _, label in heldout()) >= 15


@pytest.mark.parametrize("intent", OURS)
def test_held_out_lines_are_routed_to_the_intent(nlu_model: NluModel, intent: str) -> None:
    report = evaluate(nlu_model, heldout())

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
def test_how_people_ask(nlu_model: NluModel, text: str, intent: str) -> None:
    assert nlu_model.parse(text).intent == intent


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("open a ticket please", "open_ticket"),  # a new problem, not an old one's status
        ("I want to talk to a person", "open_ticket"),
        ("send me my last bill", "invoice"),
        ("what do i owe", "balance"),
    ],
)
def test_neighbours_keep_their_own_requests(nlu_model: NluModel, text: str, intent: str) -> None:
    assert nlu_model.parse(text).intent == intent
