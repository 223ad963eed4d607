"""Card numbers typed into chat are removed, however they are written; ordinary numbers stay."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.text import CARD_PLACEHOLDER, clean, luhn_ok, redact_card_numbers

CARD = CARD_PLACEHOLDER
# Deterministic, no example database written into the working tree, no timing flakiness on a
# shared machine.
PROPERTY = settings(max_examples=300, derandomize=True, database=None, deadline=None)

# --- a table of card texts ------------------------------------------------------------------

CARD_TEXTS = [
    # the cases: the longest digit run fails Luhn, or uses other separators
    ("4111 1111 1111 1111 12/29 123", f"{CARD} 12/29 123"),
    ("4111111111111111 123", f"{CARD} 123"),
    ("4111.1111.1111.1111", CARD),
    ("4111/1111/1111/1111", CARD),
    ("4111_1111_1111_1111", CARD),
    ("4111,1111,1111,1111", CARD),
    # and their friends: every separator
    ("4111 1111 1111 1111", CARD),
    ("4111-1111-1111-1111", CARD),
    ("4111 - 1111 - 1111 - 1111", CARD),
    ("4111  1111  1111  1111", CARD),
    ("4111\u00a01111\u00a01111\u00a01111", CARD),  # NBSP
    ("4111\u202f1111\u202f1111\u202f1111", CARD),  # narrow NBSP
    ("4111\u20091111\u20091111\u20091111", CARD),  # thin space
    ("4111\u30001111\u30001111\u30001111", CARD),  # ideographic space
    ("4111\u200b1111\u200b1111\u200b1111", CARD),  # zero-width space
    ("4111\t1111\t1111\t1111", CARD),
    ("4111\u20131111\u20131111\u20131111", CARD),  # en dash
    ("4111\u22121111\u22121111\u22121111", CARD),  # minus sign
    ("4111\uff0d1111\uff0d1111\uff0d1111", CARD),  # full-width hyphen
    ("4111\uff0e1111\uff0e1111\uff0e1111", CARD),  # full-width full stop
    # full-width digits, alone and with an ideographic space
    ("\uff14" + "\uff11" * 15, CARD),
    ("カード ４１１１　１１１１　１１１１　１１１１ です", f"カード {CARD} です"),
    # card + expiry + CVV, however glued
    ("card 4111 1111 1111 1111 exp 12/29 cvv 123", f"card {CARD} exp 12/29 cvv 123"),
    ("4111-1111-1111-1111 12/29 123", f"{CARD} 12/29 123"),
    ("4111111111111111123", f"{CARD}123"),
    ("41111111111111111111111", f"{CARD}1111111"),  # glued to more digits
    ("4111 1111 1111 1111\n12/29", f"{CARD}\n12/29"),
    # two cards in one message, apart or in one run
    ("4111 1111 1111 1111 and 5555 5555 5555 4444", f"{CARD} and {CARD}"),
    ("4111111111111111 5555555555554444", f"{CARD} {CARD}"),
    ("4111111111111111,5555555555554444", f"{CARD},{CARD}"),
    # every length and network
    ("visa 4222222222222 (13 digits)", f"visa {CARD} (13 digits)"),
    ("diners 3056 930902 5904", f"diners {CARD}"),
    ("amex 3782 822463 10005", f"amex {CARD}"),
    ("amex 371449635398431", f"amex {CARD}"),
    ("mc 2223 0031 2200 3222", f"mc {CARD}"),
    ("discover 6011 0009 9013 9424", f"discover {CARD}"),
    ("jcb 3530111333300000", f"jcb {CARD}"),
    ("maestro 6759 6498 2643 8453", f"maestro {CARD}"),
    ("unionpay 6205 5000 0000 0000 004", f"unionpay {CARD}"),  # 19 digits
    ("4111111111111111110", CARD),  # 19 digits in one block
    # inside words and punctuation
    ("card4111111111111111exp", f"card{CARD}exp"),
    ("my card is:4111111111111111.", f"my card is:{CARD}."),
    ("(4111-1111-1111-1111)", f"({CARD})"),
    # next to other numbers
    ("my pin is 2468 and card 4111111111111111", f"my pin is 2468 and card {CARD}"),
    ("pin 2468 4111 1111 1111 1111", f"pin 2468 {CARD}"),
    ("+12025550101 4111 1111 1111 1111", f"+12025550101 {CARD}"),
    ("call +1 202 555 0101 4111 1111 1111 1111", f"call +1 202 555 0101 {CARD}"),
    ("pay $64.20 with 4111 1111 1111 1111", f"pay $64.20 with {CARD}"),
]


@pytest.mark.parametrize(("text", "expected"), CARD_TEXTS)
def test_card_numbers_are_replaced_and_the_rest_is_kept(text: str, expected: str) -> None:
    assert redact_card_numbers(text) == (expected, True)


@pytest.mark.parametrize(("text", "expected"), CARD_TEXTS)
def test_cleaned_text_loses_its_card_numbers_too(text: str, expected: str) -> None:
    redacted, found = redact_card_numbers(clean(text))
    assert found
    assert CARD in redacted
    assert _digits(redacted) in _digits(clean(expected))


# --- texts that must stay as they are -------------------------------------------------------

ORDINARY_TEXTS = [
    # phone numbers
    "+1 202-555-0101",
    "(202) 555-0101",
    "+44 20 7946 0958",
    "+12025550101",
    "1-800-555-0199",
    "+4915123456789",
    "+5511987654321",
    "+86 138 0013 8000",
    "+49 1512 3456789",
    "0049 1512 3456789",
    "I lost my phone, it was 202-555-0101",
    "my lines are 202-555-0102, 202-555-0103",
    "202-555-0101/202-555-0102",
    "2025550101, 2025550102",
    # amounts
    "$64.20",
    "1,234.56",
    "$1,234,567.89",
    "1.234,56 €",
    "I paid 64.20, 118.45 and 12.50",
    # dates and times
    "12/29",
    "2026-11-30",
    "2026-11-30, 2026-12-01",
    "2023, 2024, 2025, 2026",
    "invoices from 2023, 2024, 2025 and 2026",
    "30/11/2026 14:30",
    # PINs, invoice numbers, references
    "my pin is 97531864",
    "2468",
    "INV-2026-0001",
    "INV-2026-0001 and INV-2026-0002",
    "B-000001",
    "ticket T-2026-000123",
    # numbers that are not cards
    "4111 1111 1111 1112",  # fails Luhn
    "8901260123456789011",  # a SIM's ICCID: Luhn-valid, but 89… is telecom, not a card
    "1234567890123456",  # starts with 1
    "411111111111",  # 12 digits
    "",
    "no digits at all",
]


@pytest.mark.parametrize("text", ORDINARY_TEXTS)
def test_ordinary_numbers_are_left_alone(text: str) -> None:
    assert redact_card_numbers(text) == (text, False)


@pytest.mark.parametrize("text", ORDINARY_TEXTS)
def test_ordinary_numbers_survive_cleaning_and_redaction(text: str) -> None:
    assert redact_card_numbers(clean(text)) == (clean(text), False)


def test_a_huge_message_of_digits_is_handled_quickly() -> None:
    text = "4 " * 20_000 + "4111 1111 1111 1111"
    redacted, found = redact_card_numbers(text)
    assert found and redacted.endswith(CARD)


def test_luhn() -> None:
    assert luhn_ok("4111111111111111")
    assert not luhn_ok("4111111111111112")
    assert not luhn_ok("0000000000")  # too short to be a card


# --- generated cards ------------------------------------------------------------------------

SEPARATORS = [" ", "-", ".", "/", "_", ",", "\u00a0", "\u2009", "\u3000", " - ", "  "]


def _with_check_digit(body: str) -> str:
    return next(body + d for d in "0123456789" if luhn_ok(body + d))


def _digits(text: str) -> str:
    """The decimal digits of `text`, as ASCII."""
    return "".join(str(int(char)) for char in text if char.isdecimal())


@st.composite
def card_numbers(draw: st.DrawFn) -> str:
    """A Luhn-valid number of 13–19 digits starting like a card (2–6)."""
    length = draw(st.integers(min_value=13, max_value=19))
    first = draw(st.sampled_from("23456"))
    rest = draw(st.text(alphabet="0123456789", min_size=length - 2, max_size=length - 2))
    return _with_check_digit(first + rest)


@st.composite
def written_cards(draw: st.DrawFn) -> tuple[str, str]:
    """(the card as typed, its digits): one block or groups of four, any separator, maybe in
    full-width digits."""
    number = draw(card_numbers())
    if draw(st.booleans()):
        separator = draw(st.sampled_from(SEPARATORS))
        written = separator.join(number[i : i + 4] for i in range(0, len(number), 4))
    else:
        written = number
    if draw(st.booleans()):
        written = written.translate({ord(d): 0xFF10 + int(d) for d in "0123456789"})
    return written, number


words = st.text(alphabet="abcdefghij klmnop:!?()$€", max_size=20).map(lambda w: f"{w} ")
tails = st.sampled_from(["", " 12/29 123", " exp 01/30", " cvv 999", " 123", "!"])


@PROPERTY
@given(card=written_cards(), before=words, after=tails)
def test_a_generated_card_never_survives(card: tuple[str, str], before: str, after: str) -> None:
    written, number = card
    raw = f"{before}{written}{after}"
    for text, kept in ((raw, before), (clean(raw), clean(before))):
        redacted, found = redact_card_numbers(text)
        assert found
        assert number not in _digits(redacted)
        assert redacted.startswith(kept)


@PROPERTY
@given(card=written_cards(), before=words)
def test_a_generated_card_alone_leaves_the_words_around_it(
    card: tuple[str, str], before: str
) -> None:
    written, _ = card
    assert redact_card_numbers(f"{before}{written} thanks") == (f"{before}{CARD} thanks", True)


def _nanp_phone(digits: str) -> str:
    return f"({digits[:3]}) {digits[3:6]}-{digits[6:]}"


ordinary_numbers = st.one_of(
    st.from_regex(r"\+1 [2-9]\d\d-[2-9]\d\d-\d{4}", fullmatch=True),
    st.from_regex(r"[2-9]\d\d-[2-9]\d\d-\d{4}", fullmatch=True),
    st.from_regex(r"[2-9]\d\d[2-9]\d{6}", fullmatch=True).map(_nanp_phone),
    st.decimals(min_value=0, max_value=10**9, places=2).map(lambda d: f"${d:,}"),
    st.dates().map(lambda d: d.isoformat()),
    st.dates().map(lambda d: d.strftime("%m/%y")),
    st.from_regex(r"\d{4,8}", fullmatch=True),  # PINs
    st.from_regex(r"INV-20\d\d-\d{4}", fullmatch=True),
    st.from_regex(r"B-\d{6}", fullmatch=True),
)
joiners = st.sampled_from([" and ", " or ", ", my pin is ", ", ", ". ", " then ", "; ", " due "])


@PROPERTY
@given(first=ordinary_numbers, rest=st.lists(st.tuples(joiners, ordinary_numbers), max_size=4))
def test_generated_phones_amounts_dates_pins_and_references_stay(
    first: str, rest: list[tuple[str, str]]
) -> None:
    text = first + "".join(joiner + number for joiner, number in rest)
    assert redact_card_numbers(text) == (text, False)
