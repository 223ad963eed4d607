"""Entities in a message: phone numbers, amounts, yes/no answers and option numbers."""

from __future__ import annotations

import phonenumbers

from bot.nlu.amounts import find_amounts
from bot.nlu.normalize import MAX_CHARS
from bot.nlu.options import find_options
from bot.nlu.types import Entity
from bot.nlu.yes_no import find_yes_no

Span = tuple[int, int, Entity]
_E164 = phonenumbers.PhoneNumberFormat.E164


def extract_entities(text: str, *, default_region: str = "US") -> tuple[Entity, ...]:
    """Every entity found, in the order written. A phone number's digits are only a phone,
    and an amount's digits never count as an option number."""
    text = text[:MAX_CHARS]
    taken = find_phones(text, default_region=default_region)
    for finder in (find_amounts, find_yes_no, find_options):
        for span in finder(text):
            if not _overlaps(span, taken):
                taken.append(span)
    return tuple(entity for _, _, entity in sorted(taken, key=lambda s: (s[0], s[1])))


def find_phones(text: str, *, default_region: str = "US") -> list[Span]:
    """Valid phone numbers, international or national to `default_region`, as E.164."""
    matcher = phonenumbers.PhoneNumberMatcher(text, default_region)
    return [
        (
            m.start,
            m.end,
            Entity("phone", phonenumbers.format_number(m.number, _E164), m.raw_string),
        )
        for m in matcher
    ]


def _overlaps(span: Span, taken: list[Span]) -> bool:
    return any(span[0] < end and start < span[1] for start, end, _ in taken)
