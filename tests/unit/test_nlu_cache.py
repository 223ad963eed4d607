"""Remembered parses: the same answer as a fresh one, and never for texts with digits."""

from __future__ import annotations

from bot.nlu import NluModel


def test_a_remembered_parse_equals_a_fresh_one(nlu_model: NluModel) -> None:
    for text in ("balance", "what do i owe", "yes", "pls block my sim"):
        assert nlu_model.parse(text) == nlu_model.classify(text)
        assert nlu_model.parse(text) is nlu_model.parse(text)


def test_texts_with_digits_are_never_remembered(nlu_model: NluModel) -> None:
    for text in ("1357", "my pin is 2468", "block 202-555-0103"):
        assert nlu_model.parse(text) is not nlu_model.parse(text)
        assert nlu_model.parse(text) == nlu_model.classify(text)


def test_long_texts_are_never_remembered(nlu_model: NluModel) -> None:
    text = "my internet keeps dropping every evening and the router lights blink " * 3
    assert nlu_model.parse(text) is not nlu_model.parse(text)
