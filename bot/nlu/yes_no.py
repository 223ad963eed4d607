"""Yes/no answers leading a short reply: "yes please", "nope", "no, cancel that", "sí"."""

from __future__ import annotations

from bot.nlu.types import Entity
from bot.nlu.words import Word, fold_word, folded, words

Span = tuple[int, int, Entity]

MAX_ANSWER_WORDS = 6  # "yes please go ahead and block it"; longer texts are requests, not answers
# "si" is also Spanish for "if" and "ok so…" often starts a new request: only in very short replies
SHORT_ONLY_WORDS = 3

_YES = folded(
    "yes", "yep", "yeah", "yea", "ya", "yup", "sure", "ok", "okay", "okey", "confirm",
    "confirmed", "correct", "affirmative", "absolutely", "definitely", "aye", "si", "claro",
    "vale", "dale", "correcto", "confirmo",
)  # fmt: skip
_NO = folded(
    "no", "nope", "nah", "nay", "cancel", "dont", "negative", "nevermind", "nel", "cancelar",
    "cancela",
)  # fmt: skip
_SHORT_ONLY = folded("si", "ok", "okay", "sure")
# Words that answer only when they are the whole reply ("right" vs "right, what do I owe").
_ALONE: dict[str, bool] = {
    fold_word(word): value
    for word, value in (
        ("y", True), ("k", True), ("right", True), ("fine", True), ("alright", True),
        ("perfect", True), ("great", True), ("good", True), ("n", False), ("wrong", False),
        ("incorrect", False),
    )
}  # fmt: skip
_PHRASES: dict[tuple[str, str], bool] = {
    (fold_word(first), fold_word(second)): value
    for first, second, value in (
        ("go", "ahead", True), ("do", "it", True), ("of", "course", True),
        ("thats", "right", True), ("thats", "correct", True), ("sounds", "good", True),
        ("de", "acuerdo", True), ("por", "supuesto", True), ("esta", "bien", True),
        ("not", "now", False), ("not", "yet", False), ("not", "really", False),
        ("never", "mind", False), ("para", "nada", False), ("no", "way", False),
    )
}  # fmt: skip
_FILLERS = folded("oh", "um", "uh", "umm", "well", "hmm", "hm", "ah", "please", "pls", "and")
_COURTESY = folded("please", "pls", "thanks", "thank", "you", "thx", "ty", "gracias", "por")
# "no signal since monday" is a complaint, not an answer.
_NOT_AN_ANSWER_AFTER_NO = folded(
    "signal", "service", "internet", "data", "network", "coverage", "connection", "calls",
    "reception", "wifi", "bars", "credit", "money", "balance", "dial", "tone", "one", "tengo",
    "funciona", "hay", "me", "puedo", "se",
)  # fmt: skip


def find_yes_no(text: str) -> list[Span]:
    """At most one yes/no answer, at the start of the message."""
    found = words(text)
    while found and found[0][2] in _FILLERS and len(found) > 1:
        found = found[1:]
    if not found:
        return []
    answer = _phrase(found) or _alone(found) or _leading_word(found, text)
    if answer is None:
        return []
    count, value = answer
    start, end = found[0][0], found[count - 1][1]
    return [(start, end, Entity("yes_no", value, text[start:end]))]


def _phrase(found: list[Word]) -> tuple[int, bool] | None:
    if len(found) < 2:
        return None
    value = _PHRASES.get((found[0][2], found[1][2]))
    return None if value is None else (2, value)


def _alone(found: list[Word]) -> tuple[int, bool] | None:
    value = _ALONE.get(found[0][2])
    if value is None or any(word[2] not in _COURTESY for word in found[1:]):
        return None
    return 1, value


def _leading_word(found: list[Word], text: str) -> tuple[int, bool] | None:
    first = found[0][2]
    if first not in _YES and first not in _NO:
        return None
    if first == "no" and len(found) > 1 and found[1][2] in _NOT_AN_ANSWER_AFTER_NO:
        return None
    limit = SHORT_ONLY_WORDS if first in _SHORT_ONLY else MAX_ANSWER_WORDS
    if len(found) > limit and not _separated(text, found[0][1]):
        return None
    return 1, first in _YES


def _separated(text: str, end: int) -> bool:
    """True when punctuation closes the word at `end`: "Yes, and block the other line too"."""
    rest = text[end:].lstrip()
    return bool(rest) and rest[0] in ",.!;:-–"
