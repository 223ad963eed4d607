"""billbot's analyzers cut text exactly as scikit-learn's "word" (token pattern \\S+) and
"char_wb" analyzers do, so a fit made through scikit-learn parses the same without it."""

from __future__ import annotations

import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from bot.nlu.analyzers import Analyzer

TEXTS = [
    "",
    " ",
    "a",
    "ab",
    "hi",
    "balance",
    "what do i owe",
    "  pay   my\tbill\n now ",
    "cuanto debo xq no me llego la factura",
    "block 2025550103 pls!!",
    "i'm abroad — no signal (since monday)",
    "x y z",
    "supercalifragilisticexpialidocious",
    "emoji 👍 and ü and 中文",
]


def _scikit_learn(analyzer: Analyzer) -> TfidfVectorizer:
    if analyzer.kind == "word":
        return TfidfVectorizer(
            analyzer="word", ngram_range=analyzer.ngrams, token_pattern=r"\S+", lowercase=False
        )
    return TfidfVectorizer(analyzer="char_wb", ngram_range=analyzer.ngrams, lowercase=False)


@pytest.mark.parametrize(
    "analyzer",
    [
        Analyzer("word", (1, 1)),
        Analyzer("word", (1, 2)),
        Analyzer("word", (2, 3)),
        Analyzer("char_wb", (2, 5)),
        Analyzer("char_wb", (1, 3)),
        Analyzer("char_wb", (3, 6)),
    ],
)
def test_the_same_ngrams_in_the_same_order_as_scikit_learn(analyzer: Analyzer) -> None:
    reference = _scikit_learn(analyzer).build_analyzer()
    for text in TEXTS:
        assert analyzer(text) == reference(text), text


def test_the_model_parts_cut_words_and_padded_characters() -> None:
    assert Analyzer("word", (1, 2))("pay my bill") == [
        "pay",
        "my",
        "bill",
        "pay my",
        "my bill",
    ]
    assert Analyzer("char_wb", (2, 3))("hi") == [" h", "hi", "i ", " hi", "hi "]
