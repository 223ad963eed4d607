"""Plain-text reports for people: `billbot nlu eval` (with `--thresholds`) and `billbot nlu cv`.

Only layout lives here; the figures come from `evaluate`, `latency`, `thresholds` and
`crossval`, whose `as_dict` gives the same data for machines.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from bot.nlu.types import OUT_OF_SCOPE

if TYPE_CHECKING:
    from bot.nlu.crossval import CrossValidation
    from bot.nlu.evaluate import EvalReport, Prediction
    from bot.nlu.latency import Latency
    from bot.nlu.thresholds import ThresholdRow

TEXT_CHARS = 80  # of a mistake's text


def format_eval(report: EvalReport, *, worst: int) -> str:
    """Summary, per-intent table, confusions, the most confident mistakes, did-you-mean."""
    sections = [
        _summary(report),
        _intent_table(report),
        _confusions(report),
        _worst(report, worst),
        _did_you_mean(report),
    ]
    return "\n\n".join("\n".join(lines) for lines in sections if lines)


def format_latency(latency: Latency) -> str:
    """Start-up and warm per-utterance parse times."""
    return "\n".join(
        [
            f"start-up      {latency.startup_seconds:.2f} s  (building the model: imports and "
            "training)",
            f"parse         median {latency.median_ms:.2f} ms   p95 {latency.p95_ms:.2f} ms   "
            f"p99 {latency.p99_ms:.2f} ms   max {latency.max_ms:.2f} ms",
            f"              ({latency.utterances} utterances × {latency.rounds}, warm, "
            "not remembered)",
        ]
    )


def format_thresholds(rows: Sequence[ThresholdRow], *, current: float) -> str:
    """The threshold table; marks the model's threshold and the one with the best macro F1."""
    best = max(rows, key=lambda r: r.macro_f1).threshold if rows else None
    lines = [
        "out-of-scope threshold (a best intent below it becomes out_of_scope)",
        f"{'threshold':>9}{'oos prec':>10}{'oos rec':>9}{'in-scope acc':>14}"
        f"{'in-scope F1':>13}{'accuracy':>10}{'macro F1':>10}",
    ]
    for r in rows:
        marks = [
            name for name, t in (("current", current), ("best macro F1", best)) if t == r.threshold
        ]
        lines.append(
            f"{r.threshold:>9.2f}{r.oos_precision:>10.3f}{r.oos_recall:>9.3f}"
            f"{r.in_scope_accuracy:>14.3f}{r.in_scope_macro_f1:>13.3f}{r.accuracy:>10.3f}"
            f"{r.macro_f1:>10.3f}{'  ← ' + ', '.join(marks) if marks else ''}"
        )
    return "\n".join(lines)


def format_cv(cv: CrossValidation) -> str:
    """Mean ± standard deviation across folds, overall and per intent."""
    per_intent = cv.per_intent_f1()
    width = _name_width(per_intent)
    lines = [
        f"{cv.folds}-fold cross-validation on {cv.examples} training examples "
        f"(stratified, seed {cv.seed})",
        f"accuracy  {cv.accuracy.mean:.3f} ± {cv.accuracy.std:.3f}",
        f"macro F1  {cv.macro_f1.mean:.3f} ± {cv.macro_f1.std:.3f}"
        f"  (folds: {', '.join(f'{r.macro_f1:.3f}' for r in cv.reports)})",
        *_cv_out_of_scope(cv),
        "",
        f"{'intent':<{width}}{'f1 mean':>8}{'± std':>8}",
    ]
    lines += [f"{name:<{width}}{s.mean:>8.3f}{s.std:>8.3f}" for name, s in per_intent.items()]
    return "\n".join(lines)


def _cv_out_of_scope(cv: CrossValidation) -> list[str]:
    spreads = cv.out_of_scope()
    if spreads is None:
        return []
    precision, recall = spreads
    return [
        f"out_of_scope  precision {precision.mean:.3f} ± {precision.std:.3f}   "
        f"recall {recall.mean:.3f} ± {recall.std:.3f}"
    ]


def _summary(report: EvalReport) -> list[str]:
    correct = report.total - len(report.mistakes)
    return [
        f"accuracy      {report.accuracy:.3f}  ({correct}/{report.total})",
        f"macro F1      {report.macro_f1:.3f}",
        f"top-2         {report.top2_accuracy:.3f}  (the right intent first or second)",
        *_out_of_scope(report),
    ]


def _out_of_scope(report: EvalReport) -> list[str]:
    scores = report.out_of_scope
    if scores is None:
        return []
    caught = report.confusion[OUT_OF_SCOPE][OUT_OF_SCOPE]
    refused = sum(row[OUT_OF_SCOPE] for row in report.confusion.values())
    recall = (
        f"recall {scores.recall:.3f}  ({caught} of {scores.support} off-topic messages turned "
        "away)"
        if scores.support
        else "recall -  (no off-topic messages in the file)"
    )
    return [
        f"out_of_scope  {recall}",
        f"              precision {scores.precision:.3f}  ({caught} of {refused} turned-away "
        "messages were off-topic)",
    ]


def _intent_table(report: EvalReport) -> list[str]:
    width = _name_width(report.per_intent)
    lines = [f"{'intent':<{width}}{'precision':>10}{'recall':>8}{'f1':>7}{'support':>9}"]
    for name, s in report.per_intent.items():
        recall, f1 = (f"{s.recall:.3f}", f"{s.f1:.3f}") if s.support else ("-", "-")
        lines.append(f"{name:<{width}}{s.precision:>10.3f}{recall:>8}{f1:>7}{s.support:>9}")
    unmeasured = [name for name, s in report.per_intent.items() if not s.support]
    if unmeasured:
        lines.append(
            f"(predicted but never expected here, left out of macro F1: {', '.join(unmeasured)})"
        )
    return lines


def _confusions(report: EvalReport) -> list[str]:
    pairs = report.confused_pairs()
    if not pairs:
        return ["confusions: none"]
    head = f"confusions (expected → predicted: count; {len(pairs)} kinds)"
    return [head, *(f"  {e} → {p}: {n}" for e, p, n in pairs)]


def _worst(report: EvalReport, count: int) -> list[str]:
    shown = report.worst(count)
    if not shown:
        return []
    head = f"worst mistakes ({len(shown)} most confident of {len(report.mistakes)})"
    hidden = len(report.mistakes) - len(shown)
    return [head, *map(_mistake_line, shown), *([f"  … and {hidden} more"] if hidden else [])]


def _mistake_line(m: Prediction) -> str:
    best = m.result.ranking[0][0]
    notes = f" (best: {best})" if best != m.predicted else ""
    notes += f" [also {m.also}]" if m.also else ""
    return f"  {m.confidence:.2f}  {m.expected} → {m.predicted}{notes}: {m.text[:TEXT_CHARS]}"


def _did_you_mean(report: EvalReport) -> list[str]:
    d, second = report.did_you_mean, report.second_intents
    lines = [
        f"did you mean  asked on {d.asked} close calls (the two best in scope within "
        f"{d.margin:.2f})",
        f"              rescues {d.rescued} of {len(report.mistakes)} mistakes; questions "
        f"{d.needless} right answers",
    ]
    if second.lines:
        lines.append(
            f"also          {second.lines} lines name a second intent; {second.mistakes} "
            f"mistakes among them, {second.answered_the_other} answered the second intent"
        )
    return lines


def _name_width(names: Iterable[str]) -> int:
    return max([len("intent"), *map(len, names)]) + 2
