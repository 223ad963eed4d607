"""Money amounts in a message: "$20", "20 dollars", "€5", "12,50 €", a bare "12.50"."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from bot.nlu.types import Entity

Span = tuple[int, int, Entity]

_NUMBER = r"\d{1,3}(?:[,.]\d{3})+(?:[.,]\d{1,2})?|\d{1,9}(?:[.,]\d{1,2})?"
_BEFORE = r"us\$|[$€£]|usd|eur|gbp"
_AFTER = r"[$€£]|usd|eur|gbp|dollars?|d[oó]lares|bucks|euros?|pounds?|pesos?"
_AMOUNT = re.compile(
    rf"(?<![\w$€£.,])(?:(?:{_BEFORE})\s?(?P<a>{_NUMBER})(?![\d]|[.,]\d)"
    rf"|(?P<b>{_NUMBER})\s?(?:{_AFTER})(?![^\W\d_])"
    rf"|(?P<c>\d{{1,9}}[.,]\d{{2}})(?![\d]|[.,]\d))",
    re.IGNORECASE,
)
_CENT = Decimal("0.01")


def find_amounts(text: str) -> list[Span]:
    """Every amount with a currency, or written with cents, as a 2-decimal string."""
    spans: list[Span] = []
    for match in _AMOUNT.finditer(text):
        number = match.group("a") or match.group("b") or match.group("c")
        value = to_decimal(number)
        if value is not None:
            entity = Entity("amount", f"{value:.2f}", match.group().strip())
            spans.append((match.start(), match.end(), entity))
    return spans


def to_decimal(number: str) -> Decimal | None:
    """ "1,234.50" / "1.234,50" / "12,50" / "1,000" → Decimal with cents."""
    separators = [ch for ch in number if ch in ",."]
    if separators:
        decimal_sep = separators[-1]
        head, _, tail = number.rpartition(decimal_sep)
        if len(tail) == 3 and len(set(separators)) == 1:  # "1,000" or "1.000": thousands
            head, tail = number, ""
        number = re.sub(r"[,.]", "", head) + ("." + tail if tail else "")
    try:
        return Decimal(number).quantize(_CENT)
    except InvalidOperation:
        return None
