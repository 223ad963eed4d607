"""Cleaning what customers send before anything reads it."""

from __future__ import annotations

import re
import unicodedata

MAX_PROCESSED_CHARS = 1000
_CARD_CANDIDATE = re.compile(r"(?<!\d)(?:\d[ -]?){12,18}\d(?!\d)")


def clean(text: str) -> str:
    """Drop control and unassigned characters, normalise width forms, collapse whitespace."""
    text = unicodedata.normalize("NFKC", text)
    kept = (ch for ch in text if ch in "\n\t" or unicodedata.category(ch)[0] != "C")
    return " ".join("".join(kept).split())


def has_words(text: str) -> bool:
    """True when the text has at least one letter or digit (not only emoji or punctuation)."""
    return any(ch.isalnum() for ch in text)


def redact_card_numbers(text: str) -> tuple[str, bool]:
    """Replace anything that passes the Luhn check as a 13–19 digit card number."""
    found = False

    def replace(match: re.Match[str]) -> str:
        nonlocal found
        digits = re.sub(r"\D", "", match.group())
        if not luhn_ok(digits):
            return match.group()
        found = True
        return "[card number removed]"

    return _CARD_CANDIDATE.sub(replace, text), found


def luhn_ok(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return len(digits) >= 13 and total % 10 == 0
