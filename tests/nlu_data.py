"""The NLU's held-out sets, read once for the tests: the development set
(tests/data/nlu_heldout.jsonl) and the independent evaluation set
(tests/data/nlu_eval_people.jsonl)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"
HELDOUT = DATA / "nlu_heldout.jsonl"
EVALUATION = DATA / "nlu_eval_people.jsonl"


@cache
def heldout() -> tuple[tuple[str, str], ...]:
    """(text, label) of every development-set line, in file order."""
    return _read(HELDOUT)


@cache
def evaluation() -> tuple[tuple[str, str], ...]:
    """(text, label) of every evaluation-set line, in file order."""
    return _read(EVALUATION)


def _read(path: Path) -> tuple[tuple[str, str], ...]:
    with path.open(encoding="utf-8") as lines:
        rows = [json.loads(line) for line in lines if line.strip()]
    return tuple((row["text"], row["label"]) for row in rows)
