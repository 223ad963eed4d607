"""Scoring: accuracy, per-intent precision/recall/F1, confusion, worst mistakes, did-you-mean,
and the two report forms."""

from __future__ import annotations

import json

import pytest

from bot.nlu import NluModel, evaluate
from bot.nlu.evaluate import IntentScores, Labelled, Prediction, macro_f1, score
from bot.nlu.model import decide
from bot.nlu.report import format_eval
from bot.nlu.types import OUT_OF_SCOPE, ParseResult

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


def predicted(
    expected: str, *ranking: tuple[str, float], also: str | None = None, threshold: float = 0.4
) -> Prediction:
    """A prediction as a model with `threshold` would make it from `ranking`."""
    result = ParseResult("text", decide(ranking, threshold), ranking[0][1], (), ranking)
    return Prediction(expected, result, also)


def test_perfect_predictions(model: NluModel) -> None:
    report = evaluate(model, TRAIN)
    assert report.total == 6
    assert report.accuracy == 1.0
    assert report.macro_f1 == 1.0
    assert report.top2_accuracy == 1.0
    assert report.mistakes == ()
    assert report.confused_pairs() == []
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


def test_macro_f1_leaves_out_intents_that_are_only_predicted() -> None:
    # A new intent with no lines in the file steals one balance message: balance's recall pays
    # for it, and port_lock shows a precision of 0 but has no F1 to average.
    predictions = [
        predicted("balance", ("balance", 0.9)),
        predicted("balance", ("port_lock", 0.9)),
        predicted(OUT_OF_SCOPE, (OUT_OF_SCOPE, 0.9)),
    ]
    report = score(predictions, ["balance", "port_lock", OUT_OF_SCOPE])
    assert report.per_intent["port_lock"] == IntentScores(0.0, 0.0, 0.0, 0)
    assert report.macro_f1 == pytest.approx((2 / 3 + 1.0) / 2)
    assert macro_f1([IntentScores(0.0, 0.0, 0.0, 0)]) == 0.0


def test_out_of_scope_precision_and_recall_are_called_out() -> None:
    predictions = [
        predicted(OUT_OF_SCOPE, (OUT_OF_SCOPE, 0.9)),
        predicted(OUT_OF_SCOPE, ("balance", 0.8)),  # let through
        predicted("balance", ("balance", 0.3)),  # below the threshold: turned away
        predicted("balance", ("balance", 0.9)),
    ]
    report = score(predictions, ["balance", OUT_OF_SCOPE])
    assert report.out_of_scope == IntentScores(0.5, 0.5, 0.5, 2)
    text = format_eval(report, worst=15)
    assert "out_of_scope  recall 0.500  (1 of 2 off-topic messages turned away)" in text
    assert "precision 0.500  (1 of 2 turned-away messages were off-topic)" in text


def test_out_of_scope_recall_is_not_measured_without_off_topic_lines() -> None:
    report = score([predicted("balance", ("balance", 0.3))], ["balance", OUT_OF_SCOPE])
    assert "out_of_scope  recall -  (no off-topic messages in the file)" in format_eval(
        report, worst=15
    )
    assert "precision 0.000  (0 of 1 turned-away messages were off-topic)" in format_eval(
        report, worst=15
    )


def test_no_out_of_scope_line_when_the_file_has_none(model: NluModel) -> None:
    report = evaluate(model, [("pay my bill", "pay_bill")])
    assert report.out_of_scope is None
    assert "turned away" not in format_eval(report, worst=15)


def test_worst_mistakes_are_the_most_confident_ones_first() -> None:
    predictions = [
        predicted("balance", ("pay_bill", 0.5)),
        predicted("balance", ("pay_bill", 0.9)),
        predicted("pay_bill", ("pay_bill", 0.99)),  # right: never a mistake
        predicted("pay_bill", ("balance", 0.7)),
    ]
    report = score(predictions, ["balance", "pay_bill"])
    assert [m.confidence for m in report.worst(2)] == [0.9, 0.7]
    assert [m.confidence for m in report.mistakes] == [0.5, 0.9, 0.7]  # input order kept
    assert report.worst(0) == ()


def test_confused_pairs_list_only_errors_commonest_first() -> None:
    predictions = [
        predicted("pay_bill", ("balance", 0.9)),
        predicted("balance", ("pay_bill", 0.9)),
        predicted("balance", ("pay_bill", 0.8)),
        predicted("balance", ("balance", 0.8)),
    ]
    report = score(predictions, ["balance", "pay_bill"])
    assert report.confused_pairs() == [("balance", "pay_bill", 2), ("pay_bill", "balance", 1)]
    text = format_eval(report, worst=15)
    assert "confusions (expected → predicted: count; 2 kinds)" in text
    assert "  balance → pay_bill: 2\n  pay_bill → balance: 1" in text


def test_top_two_accuracy_counts_the_right_intent_in_second_place() -> None:
    predictions = [
        predicted("balance", ("balance", 0.6), ("pay_bill", 0.4)),
        predicted("balance", ("pay_bill", 0.6), ("balance", 0.3)),
        predicted("balance", ("pay_bill", 0.6), ("invoice", 0.3), ("balance", 0.1)),
        predicted(OUT_OF_SCOPE, ("pay_bill", 0.3), ("balance", 0.2)),  # right by the threshold
    ]
    report = score(predictions, ["balance", "pay_bill", "invoice", OUT_OF_SCOPE])
    assert report.accuracy == 0.5
    assert report.top2_accuracy == 0.75


def test_did_you_mean_counts_rescued_mistakes_and_needless_questions() -> None:
    predictions = [
        predicted("balance", ("pay_bill", 0.45), ("balance", 0.40)),  # rescued
        predicted("balance", ("balance", 0.35), ("pay_bill", 0.30)),  # turned away, rescued
        predicted("pay_bill", ("pay_bill", 0.50), ("balance", 0.45)),  # right, asked anyway
        predicted("invoice", ("pay_bill", 0.50), ("balance", 0.45)),  # asked, still wrong
        predicted("balance", ("pay_bill", 0.70), ("balance", 0.20)),  # not close: not asked
        predicted("balance", (OUT_OF_SCOPE, 0.45), ("balance", 0.40)),  # never offered
    ]
    report = score(predictions, ["balance", "pay_bill", "invoice", OUT_OF_SCOPE])
    d = report.did_you_mean
    assert (d.margin, d.asked, d.rescued, d.needless) == (0.10, 4, 2, 1)
    text = format_eval(report, worst=15)
    assert "did you mean  asked on 4 close calls (the two best in scope within 0.10)" in text
    assert "rescues 2 of 5 mistakes; questions 1 right answers" in text


def test_a_second_intent_is_shown_but_never_scored() -> None:
    predictions = [
        predicted("pay_bill", ("invoice", 0.8), also="invoice"),
        predicted("pay_bill", ("balance", 0.8), also="invoice"),
        predicted("pay_bill", ("pay_bill", 0.8), also="invoice"),
    ]
    report = score(predictions, ["balance", "pay_bill", "invoice"])
    assert report.accuracy == pytest.approx(1 / 3)
    assert report.second_intents.lines == 3
    assert report.second_intents.mistakes == 2
    assert report.second_intents.answered_the_other == 1
    text = format_eval(report, worst=15)
    assert "pay_bill → invoice [also invoice]" in text
    assert "3 lines name a second intent; 2 mistakes among them, 1 answered" in text


def test_evaluate_takes_labelled_lines_with_a_second_intent(model: NluModel) -> None:
    report = evaluate(model, [Labelled("pay my bill", "pay_bill", also="balance")])
    assert report.accuracy == 1.0
    assert report.second_intents.lines == 1


def test_a_mistake_below_the_threshold_names_the_best_guess() -> None:
    report = score([predicted("balance", ("balance", 0.3))], ["balance", OUT_OF_SCOPE])
    assert "0.30  balance → out_of_scope (best: balance): text" in format_eval(report, worst=15)
    assert report.as_dict()["mistakes"][0]["best"] == "balance"


def test_as_dict_is_json_ready(model: NluModel) -> None:
    data = evaluate(model, [*TRAIN, ("my balance", "pay_bill")]).as_dict(worst=1)
    assert json.loads(json.dumps(data)) == data
    assert set(data) == {
        "total",
        "accuracy",
        "macro_f1",
        "top2_accuracy",
        "out_of_scope",
        "per_intent",
        "confusion",
        "confused_pairs",
        "mistakes",
        "worst_mistakes",
        "did_you_mean",
        "second_intents",
    }
    assert set(data["per_intent"]["pay_bill"]) == {"precision", "recall", "f1", "support"}
    assert data["confused_pairs"] == [{"expected": "pay_bill", "predicted": "balance", "count": 1}]
    assert set(data["worst_mistakes"][0]) == {
        "text",
        "expected",
        "predicted",
        "confidence",
        "best",
        "also",
    }


def test_format_text_shows_summary_table_confusions_and_mistakes(model: NluModel) -> None:
    text = format_eval(evaluate(model, [*TRAIN, ("my balance", "pay_bill")]), worst=15)
    assert text.startswith("accuracy      0.857  (6/7)\nmacro F1      ")
    assert "top-2 " in text
    assert "precision" in text and "recall" in text and "support" in text
    assert "pay_bill → balance: 1" in text
    assert "worst mistakes (1 most confident of 1)" in text


def test_intent_table_fits_the_longest_name() -> None:
    predictions = [predicted("continue_service", ("continue_service", 0.9))]
    text = format_eval(score(predictions, ["continue_service"]), worst=15)
    header, row = text.splitlines()[4:6]
    assert header.startswith("intent             precision")  # 18 wide, then 10 for "precision"
    assert row.startswith("continue_service       1.000")


def test_long_mistake_lists_are_shortened(model: NluModel) -> None:
    pairs = [("my balance", "pay_bill")] * 30
    assert "… and 15 more" in format_eval(evaluate(model, pairs), worst=15)
    assert "… and 25 more" in format_eval(evaluate(model, pairs), worst=5)


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
