"""Entities: phone numbers, amounts, yes/no answers and option numbers."""

from __future__ import annotations

import pytest

from bot.nlu import Entity, extract_entities


def _found(text: str, kind: str, *, region: str = "US") -> list[object]:
    return [e.value for e in extract_entities(text, default_region=region) if e.kind == kind]


# --- phone numbers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "+12025550103",
        "(202) 555-0103",
        "202-555-0103",
        "2025550103",
        "202.555.0103",
        "1 202 555 0103",
        "please block 202 555 0103 asap",
    ],
)
def test_phone_numbers_in_common_formats_become_e164(text: str) -> None:
    assert _found(text, "phone") == ["+12025550103"]


def test_phone_entity_keeps_the_span_as_written() -> None:
    (entity,) = extract_entities("block (202) 555-0103 now")
    assert entity == Entity("phone", "+12025550103", "(202) 555-0103")


def test_national_numbers_follow_the_default_region() -> None:
    assert _found("mi número es 612 34 56 78", "phone", region="ES") == ["+34612345678"]
    assert _found("mi número es 612 34 56 78", "phone", region="US") == []


def test_international_numbers_need_no_region() -> None:
    assert _found("call +44 7911 123456", "phone") == ["+447911123456"]


@pytest.mark.parametrize("text", ["123-456-7890", "555-0103", "12345", "000-000-0000"])
def test_invalid_phone_numbers_are_rejected(text: str) -> None:
    assert _found(text, "phone") == []


def test_two_phone_numbers_are_both_found_in_order() -> None:
    assert _found("bar 2025550103 and 2025550104", "phone") == ["+12025550103", "+12025550104"]


def test_a_phone_number_is_never_also_an_amount_or_option() -> None:
    for text in ("2025550103", "pay for 202-555-0103", "#2025550103", "202.555.0103"):
        kinds = [e.kind for e in extract_entities(text)]
        assert kinds == ["phone"], text


# --- amounts ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("$20", "20.00"),
        ("pay $20 please", "20.00"),
        ("20 dollars", "20.00"),
        ("20 bucks", "20.00"),
        ("12.50", "12.50"),
        ("I want to pay 64.20 today", "64.20"),
        ("€5", "5.00"),
        ("5€", "5.00"),
        ("12,50 €", "12.50"),
        ("10 euros", "10.00"),
        ("USD 40", "40.00"),
        ("$1,234.56", "1234.56"),
        ("1.234,56 €", "1234.56"),
        ("$ 7.5", "7.50"),
        ("recargar 15 dólares", "15.00"),
    ],
)
def test_amounts_become_two_decimal_strings(text: str, value: str) -> None:
    assert _found(text, "amount") == [value]


def test_amount_entity_keeps_the_span_as_written() -> None:
    assert extract_entities("put 20 dollars on it")[0] == Entity("amount", "20.00", "20 dollars")


@pytest.mark.parametrize(
    "text", ["pay 20", "I have 2 lines", "10.0.0.1", "12.05.2024", "20 dollarsx", "version 1.2"]
)
def test_numbers_without_currency_or_cents_are_not_amounts(text: str) -> None:
    assert _found(text, "amount") == []


# --- yes / no -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "yes", "Yes!", "y", "Y", "yep", "yeah", "ya", "yup", "sure", "ok", "okay", "OK.",
        "confirm", "correct", "sí", "si", "Sííí", "yesss", "yes please", "yes, block it",
        "go ahead", "that's right", "claro", "vale", "um yes", "yes block the line please",
    ],
)  # fmt: skip
def test_yes(text: str) -> None:
    assert _found(text, "yes_no") == [True]


@pytest.mark.parametrize(
    "text",
    [
        "no", "No.", "n", "N", "nope", "nah", "cancel", "don't", "dont", "please don't",
        "no thanks", "no, cancel that", "noooo", "not now", "never mind", "No way",
    ],
)  # fmt: skip
def test_no(text: str) -> None:
    assert _found(text, "yes_no") == [False]


@pytest.mark.parametrize(
    "text",
    [
        "no signal since monday",
        "no service at home",
        "I have no idea what I owe",
        "ok so how much do I owe this month then",
        "si pago hoy se activa la línea otra vez",
        "yesterday my phone was stolen",
        "nothing works",
        "what do I owe",
        "the right line",
    ],
)
def test_requests_are_not_yes_no_answers(text: str) -> None:
    assert _found(text, "yes_no") == []


def test_yes_no_span_is_the_word_as_written() -> None:
    (entity,) = extract_entities("  Yesss, go on")
    assert entity == Entity("yes_no", True, "Yesss")


def test_yes_no_phrase_span_covers_both_words() -> None:
    (entity,) = extract_entities("Go ahead")
    assert (entity.value, entity.text) == (True, "Go ahead")


# --- options ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1", 1),
        ("2", 2),
        (" 3 ", 3),
        ("2.", 2),
        ("2 please", 2),
        ("option 2", 2),
        ("Option 4", 4),
        ("#3", 3),
        ("# 3", 3),
        ("number 2", 2),
        ("the 2nd", 2),
        ("the 2nd one please", 2),
        ("3rd", 3),
        ("the second one", 2),
        ("first", 1),
        ("opción 2", 2),
        ("la segunda", 2),
    ],
)
def test_option_numbers(text: str, value: int) -> None:
    assert _found(text, "option") == [value]


@pytest.mark.parametrize(
    "text",
    [
        "I have 2 lines",
        "my bill from march 2nd",
        "pay $2",
        "0",
        "100",
        "2025550103",
        "what was the first bill I paid last year",
    ],
)
def test_numbers_that_are_not_options(text: str) -> None:
    assert _found(text, "option") == []


def test_an_option_is_counted_once() -> None:
    assert extract_entities("#3") == (Entity("option", 3, "#3"),)


# --- together -----------------------------------------------------------------------------------


def test_entities_come_in_the_order_written() -> None:
    found = extract_entities("yes, pay $20 for 202-555-0104")
    assert [(e.kind, e.value) for e in found] == [
        ("yes_no", True),
        ("amount", "20.00"),
        ("phone", "+12025550104"),
    ]


@pytest.mark.parametrize(
    "text", ["", "😀😀", "\x00\x01", "\ud800", "x" * 10_000, "1" * 10_000, "$" * 5000]
)
def test_odd_input_never_crashes(text: str) -> None:
    assert isinstance(extract_entities(text), tuple)


def test_parse_result_entity_lookup(tmp_path: object) -> None:
    from bot.nlu import NluModel

    model = NluModel.train(
        [("pay my bill", "pay_bill"), ("hello", "out_of_scope")],
        labels=["pay_bill", "out_of_scope"],
    )
    result = model.parse("pay $20 for 2025550103")
    assert result.entity("amount") == Entity("amount", "20.00", "$20")
    assert result.entity("phone") == Entity("phone", "+12025550103", "2025550103")
    assert result.entity("option") is None
