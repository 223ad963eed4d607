"""`billbot nlu parse|predict|eval`: try the classifier, batch-predict, and score it.

The model comes from the composition root (`bot.bootstrap.build_nlu`), so its labels are the
intent registry's names; `eval` accepts only those labels.
Exit codes: 0 ok, 2 bad usage or input (one line on stderr), 1 failure.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Collection, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any, TextIO, TypeVar

from bot.nlu.evaluate import evaluate
from bot.nlu.model import NluModel
from bot.nlu.types import ParseResult
from bot.settings import Settings, SettingsError

OK, FAILURE, BAD_INPUT = 0, 1, 2
Command = Callable[[argparse.Namespace], int]
Row = tuple[int, str, str]  # (line number, text, label)
ParserT = TypeVar("ParserT", bound=argparse.ArgumentParser)


class CliError(Exception):
    """A one-line message for stderr and the exit code that goes with it."""

    def __init__(self, message: str, code: int = BAD_INPUT) -> None:
        super().__init__(message)
        self.code = code


def register(subparsers: argparse._SubParsersAction[ParserT]) -> None:
    """Add `nlu` and its subcommands; each sets `func(args) -> exit code`.

    The subcommands use the caller's parser class, so usage errors look like the rest of the CLI.
    """
    nlu = subparsers.add_parser("nlu", help="try, batch-run and score the intent classifier")
    commands = nlu.add_subparsers(
        dest="nlu_command", metavar="COMMAND", required=True, parser_class=type(nlu)
    )
    model_options = _model_options(type(nlu))
    parse = commands.add_parser("parse", parents=[model_options], help="intent and entities")
    parse.add_argument("text", metavar="TEXT")
    parse.add_argument("--json", action="store_true", help="print JSON")
    parse.set_defaults(func=_guarded(run_parse))
    predict = commands.add_parser(
        "predict", parents=[model_options], help='JSON lines {"text": ...} on stdin → intents'
    )
    predict.set_defaults(func=_guarded(run_predict))
    score = commands.add_parser(
        "eval", parents=[model_options], help='score on a {"text", "label"} JSON-lines file'
    )
    score.add_argument("file", metavar="FILE.jsonl", type=Path)
    score.add_argument("--json", action="store_true", help="print JSON")
    score.add_argument("--min-accuracy", type=float, help="exit 1 when accuracy is lower")
    score.set_defaults(func=_guarded(run_eval))


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
    result = _model(args).parse(args.text)
    print(json.dumps(parse_as_dict(result), ensure_ascii=False) if args.json else _text(result))
    return OK


def run_predict(args: argparse.Namespace) -> int:
    model, failed = _model(args), False
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
    rows = _read_rows(args.file)  # a bad file fails before the model is trained
    model = _model(args)
    report = evaluate(model, _known_labels(args.file, rows, model.labels))
    print(json.dumps(report.as_dict(), ensure_ascii=False) if args.json else report.format_text())
    if args.min_accuracy is not None and report.accuracy < args.min_accuracy:
        message = f"accuracy {report.accuracy:.3f} is below --min-accuracy {args.min_accuracy}"
        raise CliError(message, FAILURE)
    return OK


def read_labelled(path: Path, labels: Collection[str]) -> list[tuple[str, str]]:
    """(text, label) pairs from a JSON-lines file; CliError naming the line when one is bad
    or its label is not among `labels` (a model's labels)."""
    return _known_labels(path, _read_rows(path), labels)


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
    try:
        row = _json_object(line)
        return number, _field(row, "text"), _field(row, "label")
    except CliError as exc:
        raise CliError(f"{path}:{number}: {exc}") from None


def _known_labels(path: Path, rows: list[Row], labels: Collection[str]) -> list[tuple[str, str]]:
    for number, _, label in rows:
        if label not in labels:
            known = ", ".join(labels)
            raise CliError(f"{path}:{number}: unknown label {label!r} (known: {known})")
    return [(text, label) for _, text, label in rows]


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


def _model(args: argparse.Namespace) -> NluModel:
    """The composition root's model, with --threshold and --region over the settings."""
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
    try:
        from bot.bootstrap import build_nlu  # at use: building the parser stays quick

        return build_nlu(settings, data=args.data)
    except ValueError as exc:  # the training data is malformed or names an unknown intent
        raise CliError(str(exc), BAD_INPUT if args.data else FAILURE) from None


def parse_as_dict(result: ParseResult) -> dict[str, Any]:
    """JSON-ready form of a ParseResult."""
    return {
        "text": result.text,
        "intent": result.intent,
        "confidence": round(result.confidence, 4),
        "entities": [{"kind": e.kind, "value": e.value, "text": e.text} for e in result.entities],
        "ranking": [{"intent": i, "confidence": round(c, 4)} for i, c in result.ranking],
    }


def _text(result: ParseResult) -> str:
    entities = ", ".join(f"{e.kind}={e.value} ({e.text!r})" for e in result.entities) or "-"
    ranking = ", ".join(f"{intent} {score:.2f}" for intent, score in result.ranking[:3])
    return "\n".join(
        [
            f"intent      {result.intent}",
            f"confidence  {result.confidence:.2f}",
            f"entities    {entities}",
            f"ranking     {ranking}",
        ]
    )
