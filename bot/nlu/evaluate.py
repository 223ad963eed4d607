"""Score a model on labelled examples: accuracy, per-intent precision/recall/F1, confusion, the
most confident mistakes, and what "did you mean A or B?" would have done.

Parsing (`predict`) and scoring (`score`) are separate steps so that the threshold sweep and
cross-validation score other decisions, or other models, with the same arithmetic.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from bot.nlu.types import CLOSE_CALL_MARGIN, OUT_OF_SCOPE, ParseResult

if TYPE_CHECKING:
    from bot.nlu.model import NluModel

WORST_MISTAKES = 15  # how many of the most confident mistakes a report shows


class Labelled(NamedTuple):
    """One line of an evaluation file. `also` is a second intent the same message asks for:
    shown beside a mistake, never scored (the model answers one intent per message)."""

    text: str
    label: str
    also: str | None = None


@dataclass(frozen=True, slots=True)
class IntentScores:
    precision: float
    recall: float
    f1: float
    support: int  # how many examples carry this label


@dataclass(frozen=True, slots=True)
class Prediction:
    """One labelled message and what the model made of it."""

    expected: str
    result: ParseResult
    also: str | None = None

    @property
    def text(self) -> str:
        return self.result.text

    @property
    def predicted(self) -> str:
        return self.result.intent

    @property
    def confidence(self) -> float:
        return self.result.confidence

    @property
    def correct(self) -> bool:
        return self.result.intent == self.expected


@dataclass(frozen=True, slots=True)
class DidYouMean:
    """What asking "did you mean A or B?" on every close call (`ParseResult.did_you_mean`)
    would have done: `rescued` mistakes had the right intent among the two offered,
    `needless` questions were asked about messages the model already got right."""

    margin: float
    asked: int
    rescued: int
    needless: int


@dataclass(frozen=True, slots=True)
class SecondIntents:
    """Lines naming a second intent ("also"), their mistakes, and how many of those answered
    the second intent: a mistake only in the scoring's one-intent-per-message sense."""

    lines: int
    mistakes: int
    answered_the_other: int


@dataclass(frozen=True, slots=True)
class EvalReport:
    """What `evaluate` measured. `confusion[expected][predicted]` counts examples; `mistakes`
    are in the order of the input."""

    total: int
    accuracy: float
    macro_f1: float
    per_intent: Mapping[str, IntentScores]
    confusion: Mapping[str, Mapping[str, int]]
    mistakes: tuple[Prediction, ...]
    top2_accuracy: float  # right, or the right intent among the two best of the ranking
    did_you_mean: DidYouMean
    second_intents: SecondIntents

    @property
    def out_of_scope(self) -> IntentScores | None:
        """The fallback's scores: recall is how many off-topic messages were turned away,
        precision how many turned-away messages were really off-topic."""
        return self.per_intent.get(OUT_OF_SCOPE)

    def worst(self, count: int = WORST_MISTAKES) -> tuple[Prediction, ...]:
        """The `count` most confident mistakes: what the model is surest of and wrong about."""
        return tuple(sorted(self.mistakes, key=lambda m: -m.confidence)[:count])

    def confused_pairs(self) -> list[tuple[str, str, int]]:
        """(expected, predicted, count) for every kind of mistake, the commonest first."""
        order = {label: n for n, label in enumerate(self.confusion)}
        pairs = [
            (expected, predicted, count)
            for expected, row in self.confusion.items()
            for predicted, count in row.items()
            if count and expected != predicted
        ]
        return sorted(pairs, key=lambda p: (-p[2], order[p[0]], order[p[1]]))

    def as_dict(self, *, worst: int = WORST_MISTAKES) -> dict[str, Any]:
        """Plain JSON-ready data: what `bot.nlu.report.format_eval` shows, and all confusions."""
        return {
            "total": self.total,
            "accuracy": round(self.accuracy, 4),
            "macro_f1": round(self.macro_f1, 4),
            "top2_accuracy": round(self.top2_accuracy, 4),
            "out_of_scope": _rounded(asdict(self.out_of_scope)) if self.out_of_scope else None,
            "per_intent": {k: _rounded(asdict(v)) for k, v in self.per_intent.items()},
            "confusion": {k: dict(v) for k, v in self.confusion.items()},
            "confused_pairs": [
                {"expected": e, "predicted": p, "count": n} for e, p, n in self.confused_pairs()
            ],
            "mistakes": [mistake_as_dict(m) for m in self.mistakes],
            "worst_mistakes": [mistake_as_dict(m) for m in self.worst(worst)],
            "did_you_mean": _rounded(asdict(self.did_you_mean)),
            "second_intents": asdict(self.second_intents),
        }


def evaluate(model: NluModel, pairs: Sequence[tuple[str, str]] | Sequence[Labelled]) -> EvalReport:
    """Parse every (text, expected intent) pair and score the predictions.

    Labels must be among the model's (`model.labels`, the registry's names); the report lists
    intents in the model's label order.
    """
    return score(predict(model, pairs), model.labels)


def predict(
    model: NluModel, pairs: Sequence[tuple[str, str]] | Sequence[Labelled]
) -> list[Prediction]:
    """Parse each labelled text; ValueError when there are none or a label is not the model's.

    A second intent (`Labelled.also`) is carried along unchecked: it is never scored.
    """
    rows = [Labelled(*pair) for pair in pairs]
    if not rows:
        raise ValueError("nothing to evaluate: no examples")
    unknown = sorted({row.label for row in rows} - set(model.labels))
    if unknown:
        raise ValueError(f"unknown labels {unknown}; expected one of {list(model.labels)}")
    return [Prediction(row.label, model.parse(row.text), row.also) for row in rows]


def score(
    predictions: Sequence[Prediction],
    labels: Sequence[str],
    *,
    margin: float = CLOSE_CALL_MARGIN,
) -> EvalReport:
    """Score predictions; intents expected or predicted are listed in `labels` order."""
    if not predictions:
        raise ValueError("nothing to evaluate: no examples")
    expected = [p.expected for p in predictions]
    predicted = [p.predicted for p in predictions]
    present = set(expected) | set(predicted)
    shown = [label for label in labels if label in present]
    per_intent = {label: _scores(label, expected, predicted) for label in shown}
    total = len(predictions)
    return EvalReport(
        total=total,
        accuracy=sum(p.correct for p in predictions) / total,
        macro_f1=macro_f1(per_intent.values()),
        per_intent=per_intent,
        confusion=_confusion(shown, expected, predicted),
        mistakes=tuple(p for p in predictions if not p.correct),
        top2_accuracy=sum(_in_top_two(p) for p in predictions) / total,
        did_you_mean=_did_you_mean(predictions, margin),
        second_intents=_second_intents(predictions),
    )


def macro_f1(scores: Iterable[IntentScores]) -> float:
    """The mean F1 of the intents that have examples (support > 0).

    An intent that is only predicted (a new intent the file has no lines for) has no recall to
    measure; its false alarms already cost the intents they were taken from, and its precision
    in the table shows them. Counting its F1 of 0 would also make the figure jump whenever a
    threshold or a fold happens to remove its last false alarm.
    """
    measured = [s.f1 for s in scores if s.support]
    return sum(measured) / len(measured) if measured else 0.0


def mistake_as_dict(mistake: Prediction) -> dict[str, Any]:
    """A mistake for JSON; `best` is the classifier's first choice, which differs from
    `predicted` when the threshold turned it into out_of_scope."""
    return {
        "text": mistake.text,
        "expected": mistake.expected,
        "predicted": mistake.predicted,
        "confidence": round(mistake.confidence, 4),
        "best": mistake.result.ranking[0][0],
        "also": mistake.also,
    }


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


def _in_top_two(prediction: Prediction) -> bool:
    return prediction.correct or prediction.expected in (
        name for name, _ in prediction.result.ranking[:2]
    )


def _did_you_mean(predictions: Sequence[Prediction], margin: float) -> DidYouMean:
    asked = [(p, pair) for p in predictions if (pair := p.result.did_you_mean(margin))]
    rescued = sum(not p.correct and p.expected in (pair[0][0], pair[1][0]) for p, pair in asked)
    return DidYouMean(margin, len(asked), rescued, sum(p.correct for p, _ in asked))


def _second_intents(predictions: Sequence[Prediction]) -> SecondIntents:
    lines = [p for p in predictions if p.also]
    wrong = [p for p in lines if not p.correct]
    return SecondIntents(len(lines), len(wrong), sum(p.predicted == p.also for p in wrong))


def _rounded(data: dict[str, Any]) -> dict[str, Any]:
    return {k: round(v, 4) if isinstance(v, float) else v for k, v in data.items()}
