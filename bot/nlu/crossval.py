"""Stratified k-fold cross-validation on the training examples.

Each fold trains a model on the other folds with the caller's `train` (in billbot the same
`NluModel.train`, featurisation and fitting the running model uses), then scores the fold it
left out. It estimates how the model does on phrasings it has not seen, from the training data
alone, and shows how much the figures move from fold to fold.
"""

from __future__ import annotations

import random
import statistics
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from bot.nlu.evaluate import EvalReport, Prediction, predict, score

if TYPE_CHECKING:
    from bot.nlu.model import NluModel

DEFAULT_FOLDS = 5
SEED = 0  # fixed: the same examples give the same folds, so runs can be compared
Example = tuple[str, str]  # (text, intent)
Trainer = Callable[[Sequence[Example]], "NluModel"]


@dataclass(frozen=True, slots=True)
class Spread:
    """A figure across folds: mean, sample standard deviation, and how many folds had it."""

    mean: float
    std: float
    folds: int

    @classmethod
    def of(cls, values: Sequence[float]) -> Spread:
        std = statistics.stdev(values) if len(values) > 1 else 0.0
        return cls(statistics.fmean(values), std, len(values))


@dataclass(frozen=True, slots=True)
class CrossValidation:
    """One `EvalReport` per fold, and the spreads of the figures across them."""

    seed: int
    examples: int
    reports: tuple[EvalReport, ...]
    # every example's parse by the model that did not see it, folds pooled: what a threshold
    # sweep re-decides to choose the threshold on training data (`billbot nlu cv --thresholds`)
    predictions: tuple[Prediction, ...] = ()

    @property
    def folds(self) -> int:
        return len(self.reports)

    @property
    def accuracy(self) -> Spread:
        return Spread.of([r.accuracy for r in self.reports])

    @property
    def macro_f1(self) -> Spread:
        return Spread.of([r.macro_f1 for r in self.reports])

    def out_of_scope(self) -> tuple[Spread, Spread] | None:
        """Precision and recall of out_of_scope over the folds with out-of-scope examples: in
        a fold, in-scope phrasings it never saw fall under the threshold and cost precision."""
        scores = [s for r in self.reports if (s := r.out_of_scope) is not None and s.support]
        if not scores:
            return None
        return Spread.of([s.precision for s in scores]), Spread.of([s.recall for s in scores])

    def per_intent_f1(self) -> dict[str, Spread]:
        """F1 of each intent over the folds that had examples of it (as in `macro_f1`)."""
        labels = dict.fromkeys(label for r in self.reports for label in r.per_intent)
        measured = {
            label: [r.per_intent[label].f1 for r in self.reports if _supports(r, label)]
            for label in labels
        }
        return {label: Spread.of(f1s) for label, f1s in measured.items() if f1s}

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data."""
        return {
            "folds": self.folds,
            "seed": self.seed,
            "examples": self.examples,
            "accuracy": _rounded(self.accuracy),
            "macro_f1": _rounded(self.macro_f1),
            "out_of_scope": _out_of_scope_dict(self.out_of_scope()),
            "per_intent_f1": {k: _rounded(v) for k, v in self.per_intent_f1().items()},
            "fold_macro_f1": [round(r.macro_f1, 4) for r in self.reports],
        }


def cross_validate(
    examples: Sequence[Example],
    train: Trainer,
    *,
    folds: int = DEFAULT_FOLDS,
    seed: int = SEED,
) -> CrossValidation:
    """Train on all folds but one and score that one, for each fold in turn."""
    tests = stratified_folds([intent for _, intent in examples], folds, seed=seed)
    runs = [_run_fold(examples, set(test), train) for test in tests]
    return CrossValidation(
        seed=seed,
        examples=len(examples),
        reports=tuple(report for report, _ in runs),
        predictions=tuple(p for _, predictions in runs for p in predictions),
    )


def stratified_folds(labels: Sequence[str], folds: int, *, seed: int = SEED) -> list[list[int]]:
    """The example indices each fold holds out. Each label's examples are shuffled with
    `seed` and dealt round-robin, the deal carrying on from label to label: every fold gets
    about 1/`folds` of every intent, and fold sizes differ by at most one."""
    if not 2 <= folds <= len(labels):
        raise ValueError(f"folds must be between 2 and the number of examples ({len(labels)})")
    by_label: dict[str, list[int]] = {}
    for index, label in enumerate(labels):
        by_label.setdefault(label, []).append(index)
    rng = random.Random(seed)
    dealt: list[list[int]] = [[] for _ in range(folds)]
    position = 0
    for indices in by_label.values():
        rng.shuffle(indices)
        for index in indices:
            dealt[position % folds].append(index)
            position += 1
    return [sorted(fold) for fold in dealt]


def _run_fold(
    examples: Sequence[Example], held_out: set[int], train: Trainer
) -> tuple[EvalReport, list[Prediction]]:
    model = train([ex for n, ex in enumerate(examples) if n not in held_out])
    predictions = predict(model, [ex for n, ex in enumerate(examples) if n in held_out])
    return score(predictions, model.labels), predictions


def _supports(report: EvalReport, label: str) -> bool:
    scores = report.per_intent.get(label)
    return scores is not None and scores.support > 0


def _rounded(spread: Spread) -> dict[str, Any]:
    return {k: round(v, 4) if isinstance(v, float) else v for k, v in asdict(spread).items()}


def _out_of_scope_dict(spreads: tuple[Spread, Spread] | None) -> dict[str, Any] | None:
    if spreads is None:
        return None
    return {"precision": _rounded(spreads[0]), "recall": _rounded(spreads[1])}
