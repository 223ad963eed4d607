"""What makes a new account PIN acceptable: the same rules in chat and in the billing core.

4 to 8 digits, not one digit repeated ("1111") and not a run up or down ("1234", "98765"):
the PINs people guess first.
"""

from __future__ import annotations

import re
from itertools import pairwise
from typing import Literal

MIN_LENGTH, MAX_LENGTH = 4, 8
_DIGITS = re.compile(rf"\d{{{MIN_LENGTH},{MAX_LENGTH}}}")

PinProblem = Literal["format", "repeated", "run"]


def pin_problem(pin: str) -> PinProblem | None:
    """Why `pin` cannot be a new PIN, or None when it can."""
    if not _DIGITS.fullmatch(pin):
        return "format"
    if len(set(pin)) == 1:
        return "repeated"
    steps = {int(b) - int(a) for a, b in pairwise(pin)}
    if steps in ({1}, {-1}):
        return "run"
    return None
