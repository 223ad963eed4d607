"""Short answers inside a flow: yes/no ("yep", "nah", "sí") and option numbers ("2", "#3")."""

from __future__ import annotations

import re

from bot.nlu.normalize import fold_repeats, strip_accents
from bot.nlu.types import Entity

Span = tuple[int, int, Entity]
Word = tuple[int, int, str]  # start, end, folded lowercase form

_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")
_APOSTROPHES = re.compile(r"['’]")
_MAX_ANSWER_WORDS = 6  # "yes please go ahead and block it"; longer texts are requests, not answers


def _folded(*words: str) -> frozenset[str]:
    return frozenset(fold_repeats(w) for w in words)


_YES = _folded(
    "yes", "yep", "yeah", "yea", "ya", "yup", "sure", "ok", "okay", "okey", "confirm",
    "confirmed", "correct", "affirmative", "absolutely", "definitely", "aye", "si", "claro",
    "vale", "dale", "correcto", "confirmo",
)  # fmt: skip
_NO = _folded(
    "no", "nope", "nah", "nay", "cancel", "dont", "negative", "nevermind", "nel", "cancelar",
    "cancela",
)  # fmt: skip
_ALONE: dict[str, bool] = {
    "y": True, "k": True, "kk": True, "right": True, "fine": True, "alright": True,
    "perfect": True, "great": True, "good": True, "n": False, "wrong": False, "incorrect": False,
}  # fmt: skip
_PHRASES: dict[tuple[str, ...], bool] = {
    ("go", "ahead"): True, ("do", "it"): True, ("of", "course"): True,
    ("thats", "right"): True, ("thats", "correct"): True, ("sounds", "good"): True,
    ("de", "acuerdo"): True, ("por", "supuesto"): True, ("esta", "bien"): True,
    ("not", "now"): False, ("not", "yet"): False, ("not", "really"): False,
    ("never", "mind"): False, ("para", "nada"): False, ("no", "way"): False,
}  # fmt: skip
_FILLERS = _folded("oh", "um", "uh", "umm", "well", "hmm", "hm", "ah", "please", "pls", "and")
_COURTESY = _folded("please", "pls", "thanks", "thank", "you", "thx", "ty", "gracias", "por")
# "no signal since monday" is a complaint, not an answer.
_NOT_AN_ANSWER_AFTER_NO = _folded(
    "signal", "service", "internet", "data", "network", "coverage", "connection", "calls",
    "reception", "wifi", "bars", "credit", "money", "balance", "dial", "tone", "one", "tengo",
    "funciona", "hay", "me", "puedo", "se",
)  # fmt: skip
_SHORT_ONLY = _folded("si", "ok", "okay", "sure")  # "si" is also Spanish "if"; "ok so…" goes on


def find_yes_no(text: str) -> list[Span]:
    """A yes/no answer leading a short message ("yes please", "nope", "no, cancel that")."""
    words = _words(text)
    while words and words[0][2] in _FILLERS and len(words) > 1:
        words = words[1:]
    if not words:
        return []
    found = _phrase(words) or _alone(words) or _leading_word(words, text)
    if found is None:
        return []
    count, value = found
    start, end = words[0][0], words[count - 1][1]
    return [(start, end, Entity("yes_no", value, text[start:end]))]


def _words(text: str) -> list[Word]:
    return [(m.start(), m.end(), _fold_word(m.group())) for m in _WORD.finditer(text)]


def _fold_word(word: str) -> str:
    return fold_repeats(_APOSTROPHES.sub("", strip_accents(word.casefold())))


def _phrase(words: list[Word]) -> tuple[int, bool] | None:
    key = (words[0][2], words[1][2]) if len(words) > 1 else ()
    folded = {tuple(fold_repeats(w) for w in k): v for k, v in _PHRASES.items()}
    value = folded.get(key)
    return None if value is None else (2, value)


def _alone(words: list[Word]) -> tuple[int, bool] | None:
    value = _ALONE.get(words[0][2])
    if value is None or any(w[2] not in _COURTESY for w in words[1:]):
        return None
    return 1, value


def _leading_word(words: list[Word], text: str) -> tuple[int, bool] | None:
    first = words[0][2]
    if first not in _YES and first not in _NO:
        return None
    if first == "no" and len(words) > 1 and words[1][2] in _NOT_AN_ANSWER_AFTER_NO:
        return None
    limit = 3 if first in _SHORT_ONLY else _MAX_ANSWER_WORDS
    if len(words) > limit and not _separated(text, words[0][1]):
        return None
    return 1, first in _YES


def _separated(text: str, end: int) -> bool:
    """True when punctuation closes the word at `end`: "Yes, and block the other line too"."""
    rest = text[end:].lstrip()
    return bool(rest) and rest[0] in ",.!;:-–"


_ORDINALS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
    "eighth": 8, "ninth": 9, "tenth": 10, "primero": 1, "primera": 1, "segundo": 2,
    "segunda": 2, "tercero": 3, "tercera": 3, "cuarto": 4, "cuarta": 4, "quinto": 5, "quinta": 5,
}  # fmt: skip
_MARKED_OPTION = re.compile(
    r"(?:\b(?:option|opt|number|num|no\.|nº|n°|opci[oó]n|n[uú]mero|choice)\s*|#\s*)"
    r"(?P<n>\d{1,2})(?!\d)",
    re.IGNORECASE,
)
_ORDINAL_OPTION = re.compile(
    r"\b(?:(?P<n>\d{1,2})(?:st|nd|rd|th|º|ª|o|a)|(?P<w>[^\W\d_]+))(?!\w)", re.IGNORECASE
)
_BARE_OPTION = re.compile(r"^\W*(?P<n>\d{1,2})(?!\d)[\W]*(?P<rest>[^\d]*)$")
_SHORT_MESSAGE_WORDS = 4


def find_options(text: str) -> list[Span]:
    """A choice from a numbered menu: "2", "option 2", "#3", "the 2nd", "the second one"."""
    spans = [_span(m, m.span(), int(m.group("n"))) for m in _MARKED_OPTION.finditer(text)]
    spans += _ordinals(text)
    bare = _BARE_OPTION.match(text)
    if bare and all(w[2] in _COURTESY | {"one"} for w in _words(bare.group("rest"))):
        spans.append(_span(bare, bare.span("n"), int(bare.group("n"))))
    return [s for s in spans if 1 <= int(s[2].value) <= 99]


def _span(match: re.Match[str], span: tuple[int, int], value: int) -> Span:
    return span[0], span[1], Entity("option", value, match.string[span[0] : span[1]])


def _ordinals(text: str) -> list[Span]:
    short = len(_words(text)) <= _SHORT_MESSAGE_WORDS
    spans: list[Span] = []
    for match in _ORDINAL_OPTION.finditer(text):
        value = _ordinal_value(match)
        if value is not None and (short or _after_article(text, match.start())):
            spans.append(_span(match, match.span(), value))
    return spans


def _ordinal_value(match: re.Match[str]) -> int | None:
    if match.group("n"):
        return int(match.group("n"))
    return _ORDINALS.get(strip_accents(match.group("w").casefold()))


def _after_article(text: str, start: int) -> bool:
    """"the 2nd" anywhere in a message counts; a bare "second" only in a short answer."""
    before = text[:start].rstrip().casefold()
    return before.endswith((" the", " el", " la")) or before in ("the", "el", "la")
