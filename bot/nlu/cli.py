"""`billbot nlu parse|predict|eval|cv`: try the classifier, batch-predict, score it, and
cross-validate it on its own training data.

The model comes from the composition root (`bot.bootstrap.build_nlu`), so its labels are the
intent registry's names; `eval` accepts only those labels.
Exit codes: 0 ok, 2 bad usage or input (one line on stderr), 1 failure.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any, Protocol, TextIO, TypeVar

from bot.nlu.crossval import DEFAULT_FOLDS, SEED, cross_validate
from bot.nlu.encoder import RememberingEncoder
from bot.nlu.evaluate import WORST_MISTAKES, EvalReport, Labelled, Prediction, predict, score
from bot.nlu.latency import Latency, measure_latency, timed
from bot.nlu.model import NluModel
from bot.nlu.report import format_cv, format_eval, format_latency, format_thresholds
from bot.nlu.thresholds import DEFAULT_THRESHOLDS, ThresholdRow, sweep
from bot.nlu.types import ParseResult
from bot.settings import Settings, SettingsError

OK, FAILURE, BAD_INPUT = 0, 1, 2
Command = Callable[[argparse.Namespace], int]
Row = tuple[int, Labelled]  # (line number, the labelled text)
ParserT = TypeVar("ParserT", bound=argparse.ArgumentParser)


class ModelBuilder(Protocol):
    """Builds the model from settings, optionally from another training folder: in billbot
    `bot.bootstrap.build_nlu`; tests pass one that trains once per test run."""

    def __call__(self, settings: Settings, *, data: Path | None) -> NluModel: ...


class CliError(Exception):
    """A one-line message for stderr and the exit code that goes with it."""

    def __init__(self, message: str, code: int = BAD_INPUT) -> None:
        super().__init__(message)
        self.code = code


def register(
    subparsers: argparse._SubParsersAction[ParserT], *, build: ModelBuilder | None = None
) -> None:
    """Add `nlu` and its subcommands; each sets `func(args) -> exit code`.

    The subcommands use the caller's parser class, so usage errors look like the rest of the CLI.
    `build` makes the model (default: `bot.bootstrap.build_nlu`, imported when first needed).
    """
    nlu = subparsers.add_parser("nlu", help="try, batch-run and score the intent classifier")
    nlu.set_defaults(build_model=build)
    commands = nlu.add_subparsers(
        dest="nlu_command", metavar="COMMAND", required=True, parser_class=type(nlu)
    )
    options = _model_options(type(nlu))
    parse = commands.add_parser("parse", parents=[options], help="intent and entities")
    parse.add_argument("text", metavar="TEXT")
    parse.add_argument("--json", action="store_true", help="print JSON")
    parse.set_defaults(func=_guarded(run_parse))
    batch = commands.add_parser(
        "predict", parents=[options], help='JSON lines {"text": ...} on stdin → intents'
    )
    batch.set_defaults(func=_guarded(run_predict))
    _add_eval(commands, options)
    _add_cv(commands, options)


def _add_eval(commands: argparse._SubParsersAction[ParserT], options: ParserT) -> None:
    command = commands.add_parser(
        "eval", parents=[options], help='score on a {"text", "label"} JSON-lines file'
    )
    command.add_argument("file", metavar="FILE.jsonl", type=Path)
    command.add_argument("--json", action="store_true", help="print JSON")
    command.add_argument("--min-accuracy", type=float, help="exit 1 when accuracy is lower")
    command.add_argument(
        "--worst",
        type=int,
        default=WORST_MISTAKES,
        metavar="N",
        help="show the N most confident mistakes (default %(default)s)",
    )
    _add_thresholds_option(command, "the file's parses")
    command.set_defaults(func=_guarded(run_eval))


def _add_cv(commands: argparse._SubParsersAction[ParserT], options: ParserT) -> None:
    command = commands.add_parser(
        "cv", parents=[options], help="stratified k-fold cross-validation on the training data"
    )
    command.add_argument("--folds", type=int, default=DEFAULT_FOLDS, help="default %(default)s")
    command.add_argument(
        "--seed", type=int, default=SEED, help="shuffle seed (default %(default)s)"
    )
    command.add_argument("--json", action="store_true", help="print JSON")
    _add_thresholds_option(command, "each example's parse by the fold that left it out")
    command.set_defaults(func=_guarded(run_cv))


def _add_thresholds_option(command: argparse.ArgumentParser, parses: str) -> None:
    command.add_argument(
        "--thresholds",
        action="store_true",
        help=f"also score out-of-scope thresholds 0.20-0.80 on {parses}, to choose one",
    )


def _model_options(parser_class: type[ParserT]) -> ParserT:
    options = parser_class(add_help=False)
    options.add_argument("--data", type=Path, help="folder of Rasa nlu.yml files to train on")
    options.add_argument(
        "--threshold", type=float, help="out_of_scope below this (default: BILLBOT_NLU_THRESHOLD)"
    )
    options.add_argument(
        "--region", help="region for national phone numbers (default: BILLBOT_DEFAULT_REGION)"
    )
    return options


def _guarded(command: Command) -> Command:
    """Turn a CliError into its one-line message and exit code: no tracebacks for user errors."""

    def run(args: argparse.Namespace) -> int:
        try:
            return command(args)
        except CliError as exc:
            print(f"billbot nlu {args.nlu_command}: {exc}", file=sys.stderr)
            return exc.code

    return run


def run_parse(args: argparse.Namespace) -> int:
    result = _model(args)[0].parse(args.text)
    print(json.dumps(parse_as_dict(result), ensure_ascii=False) if args.json else _text(result))
    return OK


def run_predict(args: argparse.Namespace) -> int:
    model, failed = _model(args)[0], False
    for number, line in _lines(sys.stdin):
        try:
            text = _field(_json_object(line), "text")
        except CliError as exc:
            print(f"billbot nlu predict: line {number}: {exc}", file=sys.stderr)
            failed = True
            continue
        result = model.parse(text)
        row = {"text": text, "intent": result.intent, "confidence": round(result.confidence, 4)}
        print(json.dumps(row, ensure_ascii=False), flush=True)
    return BAD_INPUT if failed else OK


def run_eval(args: argparse.Namespace) -> int:
    if args.worst < 0:
        raise CliError(f"--worst must be 0 or more, not {args.worst}")
    rows = _read_rows(args.file)  # a bad file fails before the model is trained
    model, startup = _model(args)
    predictions = predict(model, _known_labels(args.file, rows, model.labels))
    report = score(predictions, model.labels)
    latency = measure_latency(
        model.classify, [p.text for p in predictions], startup_seconds=startup
    )
    print(_eval_output(args, model, report, latency, predictions))
    if args.min_accuracy is not None and report.accuracy < args.min_accuracy:
        message = f"accuracy {report.accuracy:.3f} is below --min-accuracy {args.min_accuracy}"
        raise CliError(message, FAILURE)
    return OK


def _eval_output(
    args: argparse.Namespace,
    model: NluModel,
    report: EvalReport,
    latency: Latency,
    predictions: list[Prediction],
) -> str:
    """The report, timings and (with --thresholds) the threshold table, as text or JSON."""
    rows = _threshold_rows(args, model, predictions)
    if args.json:
        data = {**report.as_dict(worst=args.worst), "latency": latency.as_dict()}
        data["threshold"] = model.threshold
        data["encoder"] = model.reads_meaning or None
        data["meaning_gate"] = model.meaning_gate
        if rows is not None:
            data["thresholds"] = [row.as_dict() for row in rows]
        return json.dumps(data, ensure_ascii=False)
    parts = [format_eval(report, worst=args.worst), format_model(model), format_latency(latency)]
    if rows is not None:
        parts.append(format_thresholds(rows, current=model.threshold))
    return "\n\n".join(parts)


def format_model(model: NluModel) -> str:
    """Which recogniser was measured: words alone, or words and, when unsure, meaning."""
    if not model.reads_meaning:
        return "model         words alone (TF-IDF, logistic regression)"
    return (
        "model         words (TF-IDF, logistic regression); below "
        f"{model.meaning_gate:.2f} their meaning too ({model.reads_meaning})"
    )


def run_cv(args: argparse.Namespace) -> int:
    if args.folds < 2:
        raise CliError(f"--folds must be at least 2, not {args.folds}")
    model = _model(args)[0]  # the examples and settings it was trained with are the ones folded
    train = partial(
        NluModel.train,
        labels=model.labels,
        threshold=model.threshold,
        default_region=model.default_region,
        encoder=RememberingEncoder(model.encoder) if model.encoder is not None else None,
    )
    try:
        result = cross_validate(model.examples, train, folds=args.folds, seed=args.seed)
    except ValueError as exc:  # too many folds, or a fold left with a single intent
        raise CliError(str(exc)) from None
    rows = _threshold_rows(args, model, result.predictions)
    if args.json:
        data = result.as_dict()
        if rows is not None:
            data["thresholds"] = [row.as_dict() for row in rows]
        print(json.dumps(data, ensure_ascii=False))
    else:
        parts = [format_cv(result)]
        if rows is not None:
            parts.append(format_thresholds(rows, current=model.threshold))
        print("\n\n".join(parts))
    return OK


def _threshold_rows(
    args: argparse.Namespace, model: NluModel, predictions: Sequence[Prediction]
) -> list[ThresholdRow] | None:
    """With --thresholds, the sweep over `predictions`; the model's own threshold is always
    among the rows, for comparison."""
    if not args.thresholds:
        return None
    return sweep(predictions, model.labels, sorted({*DEFAULT_THRESHOLDS, model.threshold}))


def read_labelled(path: Path, labels: Collection[str]) -> list[tuple[str, str]]:
    """(text, label) pairs from a JSON-lines file; CliError naming the line when one is bad
    or its label is not among `labels` (a model's labels)."""
    return [(row.text, row.label) for row in _known_labels(path, _read_rows(path), labels)]


def _read_rows(path: Path) -> list[Row]:
    try:
        with path.open(encoding="utf-8") as lines:
            rows = [_labelled(number, line, path) for number, line in _lines(lines)]
    except FileNotFoundError:
        raise CliError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not UTF-8 text"
        raise CliError(f"{path}: cannot read: {reason}") from None
    if not rows:
        raise CliError(f"{path}: no examples")
    return rows


def _labelled(number: int, line: str, path: Path) -> Row:
    """One line; an "also" (a second intent in the message) is kept when it is a string and
    otherwise ignored: it is never scored, so it never fails a file."""
    try:
        row = _json_object(line)
        also = row.get("also")
        labelled = Labelled(
            _field(row, "text"), _field(row, "label"), also if isinstance(also, str) else None
        )
        return number, labelled
    except CliError as exc:
        raise CliError(f"{path}:{number}: {exc}") from None


def _known_labels(path: Path, rows: list[Row], labels: Collection[str]) -> list[Labelled]:
    for number, row in rows:
        if row.label not in labels:
            known = ", ".join(labels)
            raise CliError(f"{path}:{number}: unknown label {row.label!r} (known: {known})")
    return [row for _, row in rows]


def _lines(stream: TextIO) -> Iterator[tuple[int, str]]:
    """Numbered non-blank lines."""
    return ((n, line) for n, line in enumerate(stream, 1) if line.strip())


def _json_object(line: str) -> dict[str, Any]:
    try:
        row = json.loads(line)
    except json.JSONDecodeError:
        raise CliError("not valid JSON") from None
    if not isinstance(row, dict):
        raise CliError("expected a JSON object")
    return row


def _field(row: dict[str, Any], name: str) -> str:
    value = row.get(name)
    if not isinstance(value, str):
        raise CliError(f'"{name}" must be a string')
    return value


def _model(args: argparse.Namespace) -> tuple[NluModel, float]:
    """The composition root's model, with --threshold and --region over the settings, and the
    seconds building it took (what start-up spends on the NLU: scikit-learn's import when it
    is the first model of the process, and training)."""
    settings = Settings()  # both given on the command line: the environment is not consulted
    if args.threshold is None or args.region is None:
        try:
            settings = Settings.from_env(checked=False)  # no secrets needed here
        except SettingsError as exc:
            raise CliError(str(exc)) from None
    if args.threshold is not None:
        settings = replace(settings, nlu_threshold=args.threshold)
    if args.region is not None:
        settings = replace(settings, default_region=args.region.upper())
    if not 0.0 <= settings.nlu_threshold <= 1.0:
        raise CliError(f"--threshold must be between 0 and 1, not {settings.nlu_threshold}")
    build = args.build_model or _build_nlu()
    try:
        return timed(lambda: build(settings, data=args.data))
    except ValueError as exc:  # the training data is malformed or names an unknown intent
        raise CliError(str(exc), BAD_INPUT if args.data else FAILURE) from None


def _build_nlu() -> ModelBuilder:
    from bot.bootstrap import build_nlu  # at use: building the parser stays quick

    return build_nlu


def parse_as_dict(result: ParseResult) -> dict[str, Any]:
    """JSON-ready form of a ParseResult."""
    return {
        "text": result.text,
        "intent": result.intent,
        "confidence": round(result.confidence, 4),
        "entities": [{"kind": e.kind, "value": e.value, "text": e.text} for e in result.entities],
        "ranking": [{"intent": i, "confidence": round(c, 4)} for i, c in result.ranking],
        "did_you_mean": [
            {"intent": i, "confidence": round(c, 4)} for i, c in result.did_you_mean() or ()
        ],
    }


def _text(result: ParseResult) -> str:
    entities = ", ".join(f"{e.kind}={e.value} ({e.text!r})" for e in result.entities) or "-"
    ranking = ", ".join(f"{intent} {score:.2f}" for intent, score in result.ranking[:3])
    close = " or ".join(f"{intent} {score:.2f}" for intent, score in result.did_you_mean() or ())
    return "\n".join(
        [
            f"intent      {result.intent}",
            f"confidence  {result.confidence:.2f}",
            f"entities    {entities}",
            f"ranking     {ranking}",
            f"close call  {close or '-'}",
        ]
    )
