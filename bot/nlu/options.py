"""Choices from a numbered menu: "2", "option 2", "#3", "the 2nd", "the second one"."""

from __future__ import annotations

import re

from bot.nlu.normalize import strip_accents
from bot.nlu.types import Entity
from bot.nlu.words import folded, words

Span = tuple[int, int, Entity]

MAX_OPTION = 99
SHORT_MESSAGE_WORDS = 4  # a bare "second" counts only in a reply this short

_ORDINALS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
    "eighth": 8, "ninth": 9, "tenth": 10, "primero": 1, "primera": 1, "segundo": 2,
    "segunda": 2, "tercero": 3, "tercera": 3, "cuarto": 4, "cuarta": 4, "quinto": 5, "quinta": 5,
}  # fmt: skip
_MARKED = re.compile(
    r"(?:\b(?:option|opt|number|num|no\.|nº|n°|opci[oó]n|n[uú]mero|choice)\s*|#\s*)"
    r"(?P<n>\d{1,2})(?!\d)",
    re.IGNORECASE,
)
_ORDINAL = re.compile(
    r"\b(?:(?P<n>\d{1,2})(?:st|nd|rd|th|º|ª|o|a)|(?P<w>[^\W\d_]+))(?!\w)", re.IGNORECASE
)
_BARE = re.compile(r"^\W*(?P<n>\d{1,2})(?!\d)\W*(?P<rest>\D*)$")
_ARTICLES = folded("the", "el", "la")
_PICKED = folded(
    "one", "option", "choice", "line", "number", "please", "pls", "uno", "una", "opcion", "linea",
)  # fmt: skip
_BARE_EXTRAS = folded("please", "pls", "thanks", "thank", "you", "thx", "one", "por", "favor")


def find_options(text: str) -> list[Span]:
    """Every option number written in `text` (callers drop the ones inside other entities)."""
    spans = [_span(m, m.span(), int(m.group("n"))) for m in _MARKED.finditer(text)]
    spans += _ordinals(text)
    bare = _BARE.match(text)
    if bare and all(word[2] in _BARE_EXTRAS for word in words(bare.group("rest"))):
        spans.append(_span(bare, bare.span("n"), int(bare.group("n"))))
    return [span for span in spans if 1 <= int(span[2].value) <= MAX_OPTION]


def _span(match: re.Match[str], span: tuple[int, int], value: int) -> Span:
    return span[0], span[1], Entity("option", value, match.string[span[0] : span[1]])


def _ordinals(text: str) -> list[Span]:
    short = len(words(text)) <= SHORT_MESSAGE_WORDS
    spans: list[Span] = []
    for match in _ORDINAL.finditer(text):
        value = _ordinal_value(match)
        if value is not None and (short or _picks_an_option(text, match)):
            spans.append(_span(match, match.span(), value))
    return spans


def _ordinal_value(match: re.Match[str]) -> int | None:
    if match.group("n"):
        return int(match.group("n"))
    return _ORDINALS.get(strip_accents(match.group("w").casefold()))


def _picks_an_option(text: str, match: re.Match[str]) -> bool:
    """ "…the 2nd one", "the second line please": an article before, a menu word (or the end)
    after. "the first bill I paid" is not a pick."""
    before = words(text[: match.start()])
    after = words(text[match.end() :])
    return bool(before) and before[-1][2] in _ARTICLES and (not after or after[0][2] in _PICKED)
