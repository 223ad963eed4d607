"""Stratified k-fold cross-validation: fair folds, no leakage, the same figures every run."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence

import pytest

from bot.nlu import NluModel
from bot.nlu.crossval import Spread, cross_validate, stratified_folds
from bot.nlu.report import format_cv

LABELS = ("balance", "pay_bill", "out_of_scope")
EXAMPLES = [
    *((text, "balance") for text in (
        "what do I owe", "my balance", "how much do i owe", "balance please", "amount due",
        "what is my balance", "owe anything", "cuanto debo", "current balance", "due amount",
    )),
    *((text, "pay_bill") for text in (
        "pay my bill", "make a payment", "pay now", "i want to pay", "take my payment",
        "settle my bill", "pay the bill", "quiero pagar", "pay online", "payment please",
    )),
    *((text, "out_of_scope") for text in (
        "hello", "tell me a joke", "weather today", "who are you", "good morning",
        "what time is it", "lol", "thanks", "sing a song", "nice day",
    )),
]  # fmt: skip


def train(examples: Sequence[tuple[str, str]]) -> NluModel:
    return NluModel.train(examples, labels=LABELS)


def test_folds_partition_the_examples() -> None:
    folds = stratified_folds([label for _, label in EXAMPLES], 4)
    indices = [index for fold in folds for index in fold]
    assert sorted(indices) == list(range(len(EXAMPLES)))


def test_each_fold_gets_its_share_of_every_intent() -> None:
    labels = ["a"] * 12 + ["b"] * 7 + ["c"] * 3
    folds = stratified_folds(labels, 3)
    assert [len(fold) for fold in folds] in ([8, 7, 7], [7, 8, 7], [7, 7, 8])
    for label, count in Counter(labels).items():
        shares = [sum(labels[i] == label for i in fold) for fold in folds]
        assert max(shares) - min(shares) <= 1, (label, shares)
        assert sum(shares) == count


def test_folds_are_the_same_for_the_same_seed_and_differ_for_another() -> None:
    labels = [label for _, label in EXAMPLES]
    assert stratified_folds(labels, 5, seed=0) == stratified_folds(labels, 5, seed=0)
    assert stratified_folds(labels, 5, seed=0) != stratified_folds(labels, 5, seed=1)


@pytest.mark.parametrize("folds", [0, 1, 31])
def test_impossible_fold_counts_are_refused(folds: int) -> None:
    with pytest.raises(ValueError, match="folds must be between 2 and"):
        stratified_folds([label for _, label in EXAMPLES], folds)


def test_each_model_is_scored_only_on_examples_it_never_saw() -> None:
    trained_on: list[set[str]] = []

    def recording(examples: Sequence[tuple[str, str]]) -> NluModel:
        trained_on.append({text for text, _ in examples})
        return train(examples)

    result = cross_validate(EXAMPLES, recording, folds=5)
    held_out = stratified_folds([label for _, label in EXAMPLES], 5)
    assert len(result.reports) == len(trained_on) == 5
    for seen, fold, report in zip(trained_on, held_out, result.reports, strict=True):
        fold_texts = {EXAMPLES[i][0] for i in fold}
        assert seen.isdisjoint(fold_texts)
        assert seen | fold_texts == {text for text, _ in EXAMPLES}
        assert report.total == len(fold)


def test_figures_are_means_and_spreads_of_the_folds() -> None:
    result = cross_validate(EXAMPLES, train, folds=3)
    f1s = [report.macro_f1 for report in result.reports]
    assert result.macro_f1 == Spread.of(f1s)
    assert result.macro_f1.mean == pytest.approx(sum(f1s) / 3)
    assert list(result.per_intent_f1()) == list(LABELS)
    assert all(spread.folds == 3 for spread in result.per_intent_f1().values())
    assert (result.folds, result.examples, result.seed) == (3, 30, 0)


def test_the_same_data_gives_the_same_figures() -> None:
    assert cross_validate(EXAMPLES, train).as_dict() == cross_validate(EXAMPLES, train).as_dict()


def test_spread_is_the_mean_and_the_sample_standard_deviation() -> None:
    spread = Spread.of([0.8, 0.9, 1.0])
    assert spread.mean == pytest.approx(0.9)
    assert spread.std == pytest.approx(0.1)
    assert Spread.of([0.7]) == Spread(0.7, 0.0, 1)


def test_reports_for_people_and_machines() -> None:
    result = cross_validate(EXAMPLES, train, folds=3)
    data = result.as_dict()
    assert json.loads(json.dumps(data)) == data
    assert set(data) == {
        "folds",
        "seed",
        "examples",
        "accuracy",
        "macro_f1",
        "out_of_scope",
        "per_intent_f1",
        "fold_macro_f1",
    }
    assert set(data["macro_f1"]) == {"mean", "std", "folds"}
    text = format_cv(result)
    assert text.startswith("3-fold cross-validation on 30 training examples (stratified, seed 0)")
    assert f"macro F1  {result.macro_f1.mean:.3f} ± {result.macro_f1.std:.3f}" in text
    assert "pay_bill " in text
    assert "out_of_scope  precision " in text and " recall " in text


def test_out_of_scope_precision_and_recall_are_spread_over_the_folds() -> None:
    result = cross_validate(EXAMPLES, train, folds=3)
    spreads = result.out_of_scope()
    assert spreads is not None
    precisions = [r.out_of_scope.precision for r in result.reports if r.out_of_scope]
    assert spreads[0] == Spread.of(precisions)
    assert result.as_dict()["out_of_scope"]["recall"]["folds"] == 3


def test_no_out_of_scope_figures_without_out_of_scope_examples() -> None:
    def turn_everything_away(examples: Sequence[tuple[str, str]]) -> NluModel:
        return NluModel.train(examples, labels=LABELS, threshold=1.0)

    in_scope = [(text, label) for text, label in EXAMPLES if label != "out_of_scope"]
    result = cross_validate(in_scope, turn_everything_away, folds=2)
    assert all(r.per_intent["out_of_scope"].support == 0 for r in result.reports)
    assert result.out_of_scope() is None
    assert list(result.per_intent_f1()) == ["balance", "pay_bill"]  # predicted only: no F1
    assert result.as_dict()["out_of_scope"] is None
    assert "out_of_scope  precision" not in format_cv(result)
