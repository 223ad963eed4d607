"""Score a model on labelled examples: accuracy, per-intent precision/recall/F1, confusion."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.nlu.model import NluModel

SHOWN_MISTAKES = 25


@dataclass(frozen=True, slots=True)
class IntentScores:
    precision: float
    recall: float
    f1: float
    support: int  # how many examples carry this label


@dataclass(frozen=True, slots=True)
class Mistake:
    text: str
    expected: str
    predicted: str
    confidence: float


@dataclass(frozen=True, slots=True)
class EvalReport:
    """What `evaluate` measured. `confusion[expected][predicted]` counts examples."""

    total: int
    accuracy: float
    macro_f1: float
    per_intent: Mapping[str, IntentScores]
    confusion: Mapping[str, Mapping[str, int]]
    mistakes: tuple[Mistake, ...]

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data."""
        return {
            "total": self.total,
            "accuracy": round(self.accuracy, 4),
            "macro_f1": round(self.macro_f1, 4),
            "per_intent": {k: _rounded(asdict(v)) for k, v in self.per_intent.items()},
            "confusion": {k: dict(v) for k, v in self.confusion.items()},
            "mistakes": [_rounded(asdict(m)) for m in self.mistakes],
        }

    def format_text(self) -> str:
        """A report for people: summary, per-intent table, confusion matrix, some mistakes."""
        correct = round(self.accuracy * self.total)
        lines = [
            f"accuracy  {self.accuracy:.3f}  ({correct}/{self.total})",
            f"macro F1  {self.macro_f1:.3f}",
            "",
            f"{'intent':<14}{'precision':>10}{'recall':>8}{'f1':>7}{'support':>9}",
        ]
        for name, s in self.per_intent.items():
            lines.append(
                f"{name:<14}{s.precision:>10.3f}{s.recall:>8.3f}{s.f1:>7.3f}{s.support:>9}"
            )
        return "\n".join([*lines, "", *self._confusion_lines(), *self._mistake_lines()])

    def _confusion_lines(self) -> list[str]:
        labels = list(self.per_intent)
        header = "".join(f"{label[:7]:>8}" for label in labels)
        rows = [f"{'':<14}{header}"]
        for expected in labels:
            counts = "".join(f"{self.confusion[expected][p]:>8}" for p in labels)
            rows.append(f"{expected:<14}{counts}")
        return ["confusion (rows: expected, columns: predicted)", *rows]

    def _mistake_lines(self) -> list[str]:
        if not self.mistakes:
            return []
        shown = [
            f"  {m.expected} → {m.predicted} ({m.confidence:.2f}): {m.text[:70]}"
            for m in self.mistakes[:SHOWN_MISTAKES]
        ]
        hidden = len(self.mistakes) - len(shown)
        tail = [f"  … and {hidden} more"] if hidden else []
        return ["", f"mistakes ({len(self.mistakes)})", *shown, *tail]


def evaluate(model: NluModel, pairs: Sequence[tuple[str, str]]) -> EvalReport:
    """Parse every (text, expected intent) pair and score the predictions.

    Labels must be among the model's (`model.labels`, the registry's names); the report lists
    intents in the model's label order.
    """
    if not pairs:
        raise ValueError("nothing to evaluate: no examples")
    unknown = sorted({label for _, label in pairs} - set(model.labels))
    if unknown:
        raise ValueError(f"unknown labels {unknown}; expected one of {list(model.labels)}")
    results = [model.parse(text) for text, _ in pairs]
    predicted = [r.intent for r in results]
    expected = [label for _, label in pairs]
    labels = [i for i in model.labels if i in set(expected) | set(predicted)]
    per_intent = {label: _scores(label, expected, predicted) for label in labels}
    mistakes = tuple(
        Mistake(r.text, want, r.intent, r.confidence)
        for r, want in zip(results, expected, strict=True)
        if r.intent != want
    )
    return EvalReport(
        total=len(pairs),
        accuracy=sum(e == p for e, p in zip(expected, predicted, strict=True)) / len(pairs),
        macro_f1=sum(s.f1 for s in per_intent.values()) / len(per_intent),
        per_intent=per_intent,
        confusion=_confusion(labels, expected, predicted),
        mistakes=mistakes,
    )


def _scores(label: str, expected: list[str], predicted: list[str]) -> IntentScores:
    hits = sum(e == p == label for e, p in zip(expected, predicted, strict=True))
    support, claimed = expected.count(label), predicted.count(label)
    precision = hits / claimed if claimed else 0.0
    recall = hits / support if support else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return IntentScores(precision, recall, f1, support)


def _confusion(
    labels: list[str], expected: list[str], predicted: list[str]
) -> dict[str, dict[str, int]]:
    counts = Counter(zip(expected, predicted, strict=True))
    return {e: {p: counts[(e, p)] for p in labels} for e in labels}


def _rounded(data: dict[str, Any]) -> dict[str, Any]:
    return {k: round(v, 4) if isinstance(v, float) else v for k, v in data.items()}
