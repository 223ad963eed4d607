"""Text → sparse features: word uni/bigrams plus character n-grams inside word boundaries.

Word n-grams carry phrasing ("pay my", "data left"); character n-grams carry misspellings and
inflections ("blocked", "bloquear", "invoic") that whole words miss.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer

WORD_WEIGHT = 1.0
CHAR_WEIGHT = 1.0
WORD_NGRAMS = (1, 2)
CHAR_NGRAMS = (2, 5)


class Featurizer:
    """Two TF-IDF vectorizers whose outputs are weighted and stacked side by side."""

    def __init__(self) -> None:
        self.words = TfidfVectorizer(
            analyzer="word",
            token_pattern=r"\S+",
            ngram_range=WORD_NGRAMS,
            lowercase=False,
            sublinear_tf=True,
            dtype=np.float64,
        )
        self.chars = TfidfVectorizer(
            analyzer="char_wb",
            ngram_range=CHAR_NGRAMS,
            lowercase=False,
            sublinear_tf=True,
            dtype=np.float64,
        )

    def fit_transform(self, texts: Sequence[str]) -> Any:
        words = self.words.fit_transform(texts)
        chars = self.chars.fit_transform(texts)
        return self._stack(words, chars)

    def transform(self, texts: Sequence[str]) -> Any:
        return self._stack(self.words.transform(texts), self.chars.transform(texts))

    @staticmethod
    def _stack(words: Any, chars: Any) -> Any:
        return cast(Any, sparse.hstack([words * WORD_WEIGHT, chars * CHAR_WEIGHT], format="csr"))
