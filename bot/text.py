"""Cleaning what customers send before anything reads it.

Card numbers (`redact_card_numbers`) are found the way people type them, on raw or cleaned text:

- A *digit run* is digits (any script's decimal digits, full-width ones included) joined by
  separators: up to three spaces (any Unicode space: NBSP, thin, ideographic… and zero-width
  ones), a dash (`-`, en dash, minus, full-width…) with at most one space on either side, or
  one of `. / _ ,` (and their full-width and ideographic forms) between two digits. "4111 1111
  1111 1111 12/29 123" is one run of seven groups; "2023, 2024, 2025, 2026" is four runs (a
  comma and a space end a run: that is how lists are written, not cards).
- A *window* is 13–19 consecutive digits of a run. Every window that could be a card is tested
  with Luhn, and every hit is removed (the whole window; overlapping hits as one), keeping the
  rest of the text: "4111 1111 1111 1111 12/29 123" → "[card number removed] 12/29 123".
- A window could be a card when it *starts like one*:
  - it starts where a digit group starts (people type a card as one block or in groups, never
    glued after other digits) and ends where a group ends, or inside the group it started in
    (a card glued to its CVV: "4111111111111111123"). Windows that cut groups elsewhere are
    what make lists of numbers ("2025550101, 2025550102") look like cards, so they are skipped;
  - when it spans several groups, every group but its last has at least 4 digits, as cards are
    grouped (4-4-4-4, Amex 4-6-5, 4-4-4-4-3): phone numbers (202-555-0101), amounts
    (1,234.56) and dates (2026-11-30) are grouped in 2s and 3s, so a list of them
    ("202-555-0101/202-555-0102") is not read as a card;
  - its first digit is 2–6, the major industry identifiers of the networks a billing customer
    pays with (Mastercard 2/5, Amex/Diners/JCB 3, Visa 4, Discover/UnionPay/Maestro 6).
    Numbers starting 0, 1, 7, 8 or 9 are not cards here: national phone numbers (0…), the
    NANP "1 …" prefix, and SIM serial numbers (ICCIDs, 89…, Luhn-checked like cards) stay;
  - it does not start inside a phone number written with "+": the fewest groups right after a
    "+" that form a valid phone number (`phonenumbers`, at most 15 digits as in E.164) — or,
    when none does, the first group, the country code — start no window. That keeps glued
    numbers such as "+5511987654321" (13 digits) whole; a card typed after such a number in the
    same run is still found. (Nobody types "+" before a card; if someone did, the digits that
    read as a phone number would be skipped.)
- Ordinary things are too short to hold a window or fail those rules: phone numbers
  ("+1 202-555-0101", "(202) 555-0101", "+44 20 7946 0958"), amounts ("$64.20", "1,234.56"),
  dates ("12/29", "2026-11-30"), PINs, invoice numbers ("INV-2026-0001"), references (B-000001).
  A 15-digit IMEI starting with 3 is Luhn-checked like a card and is removed (a harmless loss).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import phonenumbers

MAX_PROCESSED_CHARS = 1000
CARD_PLACEHOLDER = "[card number removed]"
MIN_CARD_DIGITS, MAX_CARD_DIGITS = 13, 19
MIN_CARD_GROUP_DIGITS = 4  # cards are typed 4-4-4-4, 4-6-5 (Amex), 4-4-4-4-3 (19 digits)
CARD_FIRST_DIGITS = frozenset(range(2, 7))
MAX_PHONE_DIGITS = 15  # E.164

_SPACES = "\t \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
_SPACES += "\u200b\u200c\u200d\u202f\u205f\u2060\u3000\ufeff"
_DASHES = "-\u00ad\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"
_MARKS = "./_,\u3001\u3002\uff0c\uff0e\uff0f\uff3f"
_PLUSES = "+\uff0b"


def _chars(chars: str) -> str:
    return "[" + "".join(re.escape(char) for char in chars) + "]"


_JOINT = (
    f"(?:{_chars(_SPACES)}{{1,3}}|{_chars(_SPACES)}?{_chars(_DASHES)}{_chars(_SPACES)}?"
    f"|{_chars(_MARKS)})"
)
_DIGIT_RUN = re.compile(rf"{_chars(_PLUSES)}?\d+(?:{_JOINT}\d+)*")
_GROUP = re.compile(r"\d+")


def clean(text: str) -> str:
    """Drop control and unassigned characters, normalise width forms, collapse whitespace."""
    text = unicodedata.normalize("NFKC", text)
    kept = (ch for ch in text if ch in "\n\t" or unicodedata.category(ch)[0] != "C")
    return " ".join("".join(kept).split())


def has_words(text: str) -> bool:
    """True when the text has at least one letter or digit (not only emoji or punctuation)."""
    return any(ch.isalnum() for ch in text)


def redact_card_numbers(text: str) -> tuple[str, bool]:
    """`text` with every card number replaced by CARD_PLACEHOLDER, and whether there was one.

    See the module docstring for what counts as a card number.
    """
    spans = [span for run in _DIGIT_RUN.finditer(text) for span in _card_spans(run)]
    if not spans:
        return text, False
    pieces, position = [], 0
    for start, end in _merged(spans):
        pieces += [text[position:start], CARD_PLACEHOLDER]
        position = end
    pieces.append(text[position:])
    return "".join(pieces), True


def luhn_ok(digits: str) -> bool:
    """True when the 13+ decimal digits in `digits` pass the Luhn check."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return len(digits) >= MIN_CARD_DIGITS and total % 10 == 0


@dataclass(frozen=True, slots=True)
class _Run:
    """One digit run: its digits' values and text positions, and where each group starts."""

    values: list[int]
    positions: list[int]  # index in the text of each digit
    group_starts: list[int]  # index into `values` where each group starts, then len(values)

    def group_length(self, group: int) -> int:
        return self.group_starts[group + 1] - self.group_starts[group]


def _card_spans(match: re.Match[str]) -> list[tuple[int, int]]:
    """(start, end) text offsets of the Luhn-valid windows of one digit run."""
    if sum(char.isdecimal() for char in match.group()) < MIN_CARD_DIGITS:
        return []
    run = _read_run(match)
    first_group = _phone_groups(run) if match.group()[0] in _PLUSES else 0
    sums = _luhn_prefix_sums(run.values)
    spans = []
    for group in range(first_group, len(run.group_starts) - 1):
        start = run.group_starts[group]
        if run.values[start] not in CARD_FIRST_DIGITS:
            continue
        for end in _window_ends(run, group):
            parity = end % 2
            if (sums[parity][end] - sums[parity][start]) % 10 == 0:
                spans.append((run.positions[start], run.positions[end - 1] + 1))
    return spans


def _read_run(match: re.Match[str]) -> _Run:
    values: list[int] = []
    positions: list[int] = []
    group_starts: list[int] = []
    for group in _GROUP.finditer(match.group()):
        group_starts.append(len(values))
        values += [int(char) for char in group.group()]
        positions += range(match.start() + group.start(), match.start() + group.end())
    return _Run(values, positions, [*group_starts, len(values)])


def _window_ends(run: _Run, group: int) -> list[int]:
    """Ends (exclusive digit indices) of the windows starting at `group` worth testing: inside
    the starting group, or at the end of a later group when every group before that one has
    the length of a card's group (4 or more digits)."""
    start, starts = run.group_starts[group], run.group_starts
    ends = set(range(start + MIN_CARD_DIGITS, min(start + MAX_CARD_DIGITS, starts[group + 1]) + 1))
    last = group + 1
    while last < len(starts) - 1 and run.group_length(last - 1) >= MIN_CARD_GROUP_DIGITS:
        end = starts[last + 1]
        if end - start > MAX_CARD_DIGITS:
            break
        if end - start >= MIN_CARD_DIGITS:
            ends.add(end)
        last += 1
    return sorted(ends)


def _luhn_prefix_sums(values: list[int]) -> tuple[list[int], list[int]]:
    """Prefix sums making any window's Luhn total one subtraction.

    In a window ending before digit index `end`, digit j is doubled when j and `end` have the
    same parity; `sums[p][i]` adds digits before i, doubling those whose index parity is p.
    """
    sums: tuple[list[int], list[int]] = ([0], [0])
    for index, value in enumerate(values):
        doubled = value * 2 - 9 if value > 4 else value * 2
        for parity in (0, 1):
            sums[parity].append(sums[parity][-1] + (doubled if index % 2 == parity else value))
    return sums


def _phone_groups(run: _Run) -> int:
    """How many leading groups of a run written after "+" are a phone number (at least one).

    The fewest groups that make a valid number: some numbering plans have numbers of several
    lengths, and a longer reading could swallow the first group of a card typed after it.
    """
    for count in range(1, len(run.group_starts)):
        digits = run.group_starts[count]
        if digits > MAX_PHONE_DIGITS:
            break
        number = "+" + "".join(map(str, run.values[:digits]))
        try:
            if phonenumbers.is_valid_number(phonenumbers.parse(number, None)):
                return count
        except phonenumbers.NumberParseException:
            continue
    return 1


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Overlapping spans joined, in text order."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged
