"""Normalisation and typo correction: what the classifier reads."""

from __future__ import annotations

import pytest

from bot.nlu import normalize
from bot.nlu.model import prepare
from bot.nlu.normalize import MAX_TOKENS, fold_repeats, strip_accents
from bot.nlu.spelling import SpellFixer


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("What do I OWE??", "what do i owe"),
        ("HIII can u pleeease tell me wat I owe 🙏", "hi can you please tell me what i owe"),
        ("what's my balance", "whats my balance"),
        ("don’t block it", "dont block it"),
        ("pls txt me my bil thx", "please text me my bill thanks"),
        ("Ｗｈａｔ ｄｏ Ｉ ｏｗｅ", "what do i owe"),
        ("¿Cuánto debo?", "cuanto debo"),
        ("perdí mi teléfono", "perdi mi telefono"),
        ("señal", "senal"),
        ("my 20GB plan", "my 0 gb plan"),
        ("block 202-555-0103", "block 0"),
        ("b4 2day", "before today"),
        ("\x00\x07 hi\tthere\n", "hi there"),
        ("😀🎉👍", ""),
        ("", ""),
    ],
)
def test_normalize(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


def test_normalize_caps_the_number_of_tokens() -> None:
    assert len(normalize("word " * 5000).split()) == MAX_TOKENS


def test_fold_repeats_merges_doubled_letters() -> None:
    assert fold_repeats("ballance bill address") == "balance bil adres"


def test_strip_accents_keeps_the_letters() -> None:
    assert strip_accents("cuántos teléfonos señor") == "cuantos telefonos senor"


def test_prepare_makes_common_misspellings_identical() -> None:
    assert prepare("ballance") == prepare("balance")
    assert prepare("pleeease send my bil") == prepare("please send my bill")


@pytest.fixture
def fixer() -> SpellFixer:
    return SpellFixer(["balance", "balance", "invoice", "payment", "block", "stolen", "usage"])


@pytest.mark.parametrize(
    ("typo", "fixed"),
    [
        ("blance", "balance"),  # a missing letter
        ("balancce", "balance"),  # an extra letter
        ("balanse", "balance"),  # a wrong letter
        ("invioce", "invoice"),  # two letters swapped
        ("paymnt", "payment"),
        ("blok", "block"),
        ("stolne", "stolen"),
    ],
)
def test_one_edit_typos_are_fixed(fixer: SpellFixer, typo: str, fixed: str) -> None:
    assert fixer.correct(typo) == fixed


@pytest.mark.parametrize("word", ["balance", "bal", "xyzzy", "blnce", "1234", "sim"])
def test_known_short_numeric_or_distant_words_are_left_alone(fixer: SpellFixer, word: str) -> None:
    assert fixer.correct(word) == word


def test_ties_go_to_the_more_frequent_word() -> None:
    fixer = SpellFixer(["cart", "card", "card"])
    assert fixer.correct("carx") == "card"


def test_a_rare_known_word_next_to_a_far_more_frequent_one_is_likelier_that_one() -> None:
    # the training data teaches typos on purpose: "blance" is known, but seen once
    fixer = SpellFixer(["balance"] * 20 + ["blance", "bills"] + ["bill"] * 5)
    assert fixer.correct("blance") == "blance"  # the classifier keeps what it learnt
    assert fixer.likelier("blance") == "balance"  # a reader that never learnt it gets this


@pytest.mark.parametrize("word", ["balance", "bills", "unknown", "sim"])
def test_frequent_unknown_short_or_lonely_words_have_no_likelier_word(word: str) -> None:
    # "bills" is rare, but "bill" is not ten times as frequent; "balance" is frequent itself
    fixer = SpellFixer(["balance"] * 20 + ["bills"] + ["bill"] * 5 + ["sim", "sin"] * 3)
    assert fixer.likelier(word) is None
