"""Scoring: accuracy, per-intent precision/recall/F1, confusion, and the two report forms."""

from __future__ import annotations

import json

import pytest

from bot.nlu import NluModel, evaluate

TRAIN = [
    ("pay my bill", "pay_bill"),
    ("make a payment", "pay_bill"),
    ("what do I owe", "balance"),
    ("my balance", "balance"),
    ("hello", "out_of_scope"),
    ("tell me a joke", "out_of_scope"),
]
LABELS = ("balance", "pay_bill", "out_of_scope")  # the model's labels, in report order


@pytest.fixture(scope="module")
def model() -> NluModel:
    return NluModel.train(TRAIN, labels=LABELS, threshold=0.0)


def test_perfect_predictions(model: NluModel) -> None:
    report = evaluate(model, TRAIN)
    assert report.total == 6
    assert report.accuracy == 1.0
    assert report.macro_f1 == 1.0
    assert report.mistakes == ()
    assert report.per_intent["balance"].support == 2


def test_scores_follow_the_definitions(model: NluModel) -> None:
    # Two balance texts labelled pay_bill: pay_bill recall drops, balance precision drops.
    pairs = [*TRAIN, ("what do I owe", "pay_bill"), ("my balance", "pay_bill")]
    report = evaluate(model, pairs)
    pay, balance = report.per_intent["pay_bill"], report.per_intent["balance"]
    assert (pay.precision, pay.recall, pay.support) == (1.0, 0.5, 4)
    assert pay.f1 == pytest.approx(2 / 3)
    assert (balance.precision, balance.recall) == (0.5, 1.0)
    assert report.accuracy == pytest.approx(6 / 8)
    assert report.confusion["pay_bill"]["balance"] == 2
    assert report.confusion["balance"]["balance"] == 2
    assert [(m.expected, m.predicted) for m in report.mistakes] == [("pay_bill", "balance")] * 2


def test_labels_never_predicted_or_expected_are_left_out(model: NluModel) -> None:
    report = evaluate(model, [("pay my bill", "pay_bill"), ("hello", "out_of_scope")])
    assert list(report.per_intent) == ["pay_bill", "out_of_scope"]


def test_as_dict_is_json_ready(model: NluModel) -> None:
    data = evaluate(model, TRAIN).as_dict()
    assert json.loads(json.dumps(data)) == data
    assert set(data) == {"total", "accuracy", "macro_f1", "per_intent", "confusion", "mistakes"}
    assert set(data["per_intent"]["pay_bill"]) == {"precision", "recall", "f1", "support"}


def test_format_text_shows_summary_table_confusion_and_mistakes(model: NluModel) -> None:
    text = evaluate(model, [*TRAIN, ("my balance", "pay_bill")]).format_text()
    assert "accuracy  0.857  (6/7)" in text
    assert "macro F1" in text
    assert "precision" in text and "recall" in text and "support" in text
    assert "confusion (rows: expected, columns: predicted)" in text
    assert "pay_bill → balance" in text


def test_long_mistake_lists_are_shortened(model: NluModel) -> None:
    pairs = [("my balance", "pay_bill")] * 30
    text = evaluate(model, pairs).format_text()
    assert "… and 5 more" in text


def test_unknown_labels_and_empty_input_are_refused(model: NluModel) -> None:
    with pytest.raises(ValueError, match="greet"):
        evaluate(model, [("hi", "greet")])
    with pytest.raises(ValueError, match="no examples"):
        evaluate(model, [])


def test_labels_are_checked_against_the_model_labels_not_a_fixed_list(model: NluModel) -> None:
    with pytest.raises(ValueError, match=r"'bar_sim'.*\['balance', 'pay_bill', 'out_of_scope'\]"):
        evaluate(model, [("block my sim", "bar_sim")])


def test_report_lists_intents_in_the_model_label_order() -> None:
    reordered = NluModel.train(TRAIN, labels=("out_of_scope", "pay_bill", "balance"), threshold=0)
    assert list(evaluate(reordered, TRAIN).per_intent) == ["out_of_scope", "pay_bill", "balance"]
