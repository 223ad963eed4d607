"""The NLU's development set (tests/data/nlu_heldout.jsonl), read once for the tests."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

HELDOUT = Path(__file__).resolve().parent / "data" / "nlu_heldout.jsonl"


@cache
def heldout() -> tuple[tuple[str, str], ...]:
    """(text, label) of every held-out line, in file order."""
    with HELDOUT.open(encoding="utf-8") as lines:
        rows = [json.loads(line) for line in lines if line.strip()]
    return tuple((row["text"], row["label"]) for row in rows)
