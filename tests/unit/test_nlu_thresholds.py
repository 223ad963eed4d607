"""The out-of-scope threshold sweep: the same decision `parse` makes, at other thresholds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.nlu import NluModel
from bot.nlu.evaluate import Prediction, predict, score
from bot.nlu.model import decide
from bot.nlu.thresholds import DEFAULT_THRESHOLDS, sweep, with_threshold
from bot.nlu.types import OUT_OF_SCOPE, ParseResult

HELDOUT = Path(__file__).resolve().parents[1] / "data" / "nlu_heldout.jsonl"
LABELS = ["balance", "pay_bill", OUT_OF_SCOPE]


def predicted(expected: str, *ranking: tuple[str, float]) -> Prediction:
    result = ParseResult("text", decide(ranking, 0.4), ranking[0][1], (), ranking)
    return Prediction(expected, result)


PREDICTIONS = [
    predicted("balance", ("balance", 0.6)),
    predicted("balance", ("balance", 0.35)),
    predicted(OUT_OF_SCOPE, ("pay_bill", 0.45)),
    predicted(OUT_OF_SCOPE, (OUT_OF_SCOPE, 0.9)),
    predicted("pay_bill", ("pay_bill", 0.55)),
]


@pytest.fixture(scope="module")
def heldout_predictions(nlu_model: NluModel) -> list[Prediction]:
    with HELDOUT.open(encoding="utf-8") as lines:
        rows = [json.loads(line) for line in lines if line.strip()]
    return predict(nlu_model, [(row["text"], row["label"]) for row in rows])


def test_default_thresholds_run_from_0_20_to_0_80_in_steps_of_0_05() -> None:
    assert DEFAULT_THRESHOLDS[0] == 0.20 and DEFAULT_THRESHOLDS[-1] == 0.80
    assert len(DEFAULT_THRESHOLDS) == 13
    assert 0.40 in DEFAULT_THRESHOLDS  # the default threshold, exactly


def test_a_low_threshold_lets_doubtful_answers_through() -> None:
    row = sweep(PREDICTIONS, LABELS, [0.3])[0]
    assert (row.oos_precision, row.oos_recall) == (1.0, 0.5)
    assert row.in_scope_accuracy == 1.0
    assert row.in_scope_macro_f1 == pytest.approx((1.0 + 2 / 3) / 2)
    assert row.accuracy == pytest.approx(4 / 5)


def test_a_higher_threshold_turns_more_away() -> None:
    middle, high = sweep(PREDICTIONS, LABELS, [0.5, 0.6])
    assert (middle.oos_precision, middle.oos_recall) == (pytest.approx(2 / 3), 1.0)
    assert middle.in_scope_accuracy == pytest.approx(2 / 3)
    assert (high.oos_precision, high.oos_recall) == (0.5, 1.0)
    assert high.in_scope_accuracy == pytest.approx(1 / 3)
    assert high.accuracy == pytest.approx(3 / 5)


def test_rows_are_json_ready() -> None:
    data = sweep(PREDICTIONS, LABELS, [0.5])[0].as_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["threshold"] == 0.5 and data["oos_precision"] == 0.6667


def test_re_deciding_at_the_model_threshold_gives_the_model_answers(
    nlu_model: NluModel, heldout_predictions: list[Prediction]
) -> None:
    again = with_threshold(heldout_predictions, nlu_model.threshold)
    assert [p.predicted for p in again] == [p.predicted for p in heldout_predictions]


def test_the_row_at_the_model_threshold_matches_evaluate(
    nlu_model: NluModel, heldout_predictions: list[Prediction]
) -> None:
    report = score(heldout_predictions, nlu_model.labels)
    row = sweep(heldout_predictions, nlu_model.labels, [nlu_model.threshold])[0]
    assert (row.accuracy, row.macro_f1) == (report.accuracy, report.macro_f1)
    assert report.out_of_scope is not None
    assert (row.oos_precision, row.oos_recall) == (
        report.out_of_scope.precision,
        report.out_of_scope.recall,
    )


def test_raising_the_threshold_catches_more_off_topic_and_fewer_requests(
    nlu_model: NluModel, heldout_predictions: list[Prediction]
) -> None:
    rows = sweep(heldout_predictions, nlu_model.labels)
    recalls = [row.oos_recall for row in rows]
    in_scope = [row.in_scope_accuracy for row in rows]
    assert recalls == sorted(recalls)
    assert in_scope == sorted(in_scope, reverse=True)
    assert in_scope[0] > in_scope[-1]
