"""Two requests in one message: "pay my bill and block my sim", "saldo y recargar 10".

A message is cut at the words people join requests with ("and", "also", "then", "plus", "y",
"también", "además"); each piece long enough to mean something is classified alone. When two
pieces are confident and different, the message asks for two things: the first in the
message's own order leads, the other is `ParseResult.also`. Most messages have no such word
and pay nothing for this; "my phone was lost and I need to block it" has one, but both pieces
mean `bar_sim`, so it stays one request.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from bot.nlu.types import OUT_OF_SCOPE

# The confidence each piece needs: higher than the model's threshold, since a piece is short
# and a wrong second request costs a question the customer did not ask.
PIECE_CONFIDENCE = 0.55
MIN_PIECE_WORDS = 2
_JOINS = re.compile(
    r"\s*(?:,\s*)?\b(?:and then|and also|and|also|then|plus|as well as|"
    r"y tambi[eé]n|y luego|y|tambi[eé]n|adem[aá]s|luego)\b\s*",
    re.IGNORECASE,
)

Classify = Callable[[str], tuple[str, float]]  # a piece → (best intent, its confidence)


def pieces(text: str) -> list[str]:
    """The parts of `text` between joining words, each at least two words long."""
    parts = [part.strip(" ,.;!?") for part in _JOINS.split(text)]
    return [part for part in parts if len(part.split()) >= MIN_PIECE_WORDS]


def requests(text: str, classify: Classify) -> list[str]:
    """The confident in-scope intents of the message's pieces, in order, each once."""
    found: list[str] = []
    for piece in pieces(text) if _JOINS.search(text) else []:
        intent, confidence = classify(piece)
        if intent != OUT_OF_SCOPE and confidence >= PIECE_CONFIDENCE and intent not in found:
            found.append(intent)
    return found


def lead_and_also(whole: str, found: list[str]) -> tuple[str, str | None]:
    """(the intent to answer first, the other one): with two requests, the one asked first
    leads — in the customer's order, which is what they expect to be answered first."""
    if len(found) < 2:
        return whole, None
    return found[0], found[1]
