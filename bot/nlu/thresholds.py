"""The out-of-scope threshold's trade-off, to choose it on held-out data.

A higher threshold turns more doubtful answers into out_of_scope: off-topic messages are caught
more often (out-of-scope recall up) at the price of refusing in-scope ones (in-scope accuracy
and out-of-scope precision down). The ranking of a message does not depend on the threshold, so
one set of parses is re-decided at every threshold with `decide`, the rule `parse` applies.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

from bot.nlu.evaluate import Prediction, macro_f1, score
from bot.nlu.model import decide
from bot.nlu.types import OUT_OF_SCOPE

DEFAULT_THRESHOLDS: tuple[float, ...] = tuple(round(0.20 + 0.05 * step, 2) for step in range(13))


@dataclass(frozen=True, slots=True)
class ThresholdRow:
    """Scores as a model with this threshold would have got them."""

    threshold: float
    oos_precision: float
    oos_recall: float
    in_scope_accuracy: float  # in-scope messages given their own intent
    in_scope_macro_f1: float  # macro F1 of the intents other than out_of_scope
    accuracy: float
    macro_f1: float

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data."""
        return {k: round(v, 4) for k, v in asdict(self).items()}


def sweep(
    predictions: Sequence[Prediction],
    labels: Sequence[str],
    thresholds: Sequence[float] = DEFAULT_THRESHOLDS,
) -> list[ThresholdRow]:
    """One row per threshold, in the order given; `labels` as for `score`."""
    return [_row(with_threshold(predictions, t), labels, t) for t in thresholds]


def with_threshold(predictions: Sequence[Prediction], threshold: float) -> list[Prediction]:
    """The predictions a model with `threshold` would have made: same rankings, re-decided.

    A message read as two requests keeps its first one: the pieces' own bar
    (`bot.nlu.requests.PIECE_CONFIDENCE`) chose it, not the threshold."""
    return [
        replace(p, result=replace(p.result, intent=_redecided(p, threshold))) for p in predictions
    ]


def _redecided(prediction: Prediction, threshold: float) -> str:
    result = prediction.result
    return result.intent if result.also is not None else decide(result.ranking, threshold)


def _row(predictions: list[Prediction], labels: Sequence[str], threshold: float) -> ThresholdRow:
    report = score(predictions, labels)
    oos = report.out_of_scope
    in_scope = [p for p in predictions if p.expected != OUT_OF_SCOPE]
    in_scope_scores = [s for label, s in report.per_intent.items() if label != OUT_OF_SCOPE]
    return ThresholdRow(
        threshold=threshold,
        oos_precision=oos.precision if oos else 0.0,
        oos_recall=oos.recall if oos else 0.0,
        in_scope_accuracy=_share(sum(p.correct for p in in_scope), len(in_scope)),
        in_scope_macro_f1=macro_f1(in_scope_scores),
        accuracy=report.accuracy,
        macro_f1=report.macro_f1,
    )


def _share(part: float, whole: int) -> float:
    return part / whole if whole else 0.0
