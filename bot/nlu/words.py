"""Words as written, with their positions, for the entity finders that must quote spans."""

from __future__ import annotations

import re

from bot.nlu.normalize import fold_repeats, strip_accents

Word = tuple[int, int, str]  # start, end, folded form ("Yesss" → "yes", "Don’t" → "dont")

_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")
_APOSTROPHES = re.compile(r"['’]")


def words(text: str) -> list[Word]:
    """Every run of letters in `text`, with its span and folded form."""
    return [(m.start(), m.end(), fold_word(m.group())) for m in _WORD.finditer(text)]


def fold_word(word: str) -> str:
    """Lowercase, no accents or apostrophes, doubled letters folded: "Sííí" → "si"."""
    return fold_repeats(_APOSTROPHES.sub("", strip_accents(word.casefold())))


def folded(*items: str) -> frozenset[str]:
    """A set of words in the form `words` yields, so lookups compare like with like."""
    return frozenset(fold_word(item) for item in items)
