"""Text → sparse features: word uni/bigrams plus character n-grams inside word boundaries.

Word n-grams carry phrasing ("pay my", "data left"); character n-grams carry misspellings and
inflections ("blocked", "bloquear", "invoic") that whole words miss.

Training goes through scikit-learn's vectorizers. Parsing one message uses `vector`, which
applies the same fitted analyzers, vocabulary and IDF weights without building a sparse matrix:
a tenth of the time, and equal to `transform` (a unit test holds them together).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any, cast

import numpy as np
from numpy.typing import NDArray
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer

WORD_NGRAMS = (1, 2)
CHAR_NGRAMS = (2, 5)
WORD_WEIGHT = 1.0
CHAR_WEIGHT = 1.0

Indices = NDArray[np.int64]
Weights = NDArray[np.float64]


class Featurizer:
    """Two TF-IDF vectorizers whose outputs are weighted and stacked side by side."""

    def __init__(self) -> None:
        self._parts: tuple[tuple[TfidfVectorizer, float], ...] = (
            (_vectorizer("word", WORD_NGRAMS, token_pattern=r"\S+"), WORD_WEIGHT),
            (_vectorizer("char_wb", CHAR_NGRAMS), CHAR_WEIGHT),
        )
        self._fitted: list[_FittedPart] = []

    def fit_transform(self, texts: Sequence[str]) -> Any:
        """Learn vocabularies and IDF weights; the training matrix (rows = texts)."""
        blocks = [vec.fit_transform(texts) * weight for vec, weight in self._parts]
        offsets = np.cumsum([0] + [b.shape[1] for b in blocks[:-1]])
        self._fitted = [
            _FittedPart(vec, weight, int(offset))
            for (vec, weight), offset in zip(self._parts, offsets, strict=True)
        ]
        return cast(Any, sparse.hstack(blocks, format="csr"))

    def transform(self, texts: Sequence[str]) -> Any:
        """The feature matrix of `texts`, through scikit-learn."""
        blocks = [vec.transform(texts) * weight for vec, weight in self._parts]
        return cast(Any, sparse.hstack(blocks, format="csr"))

    def vector(self, text: str) -> tuple[Indices, Weights]:
        """One text's non-zero features as (column indices, values): the fast path."""
        pieces = [part.vector(text) for part in self._fitted]
        return np.concatenate([p[0] for p in pieces]), np.concatenate([p[1] for p in pieces])


class _FittedPart:
    """One fitted vectorizer, unpacked into plain lookups."""

    def __init__(self, vectorizer: TfidfVectorizer, weight: float, offset: int) -> None:
        self.analyze: Callable[[str], list[str]] = vectorizer.build_analyzer()
        self.vocabulary: dict[str, int] = {
            str(k): int(v) for k, v in vectorizer.vocabulary_.items()
        }
        self.idf: Weights = np.asarray(vectorizer.idf_, dtype=np.float64)
        self.weight = weight
        self.offset = offset

    def vector(self, text: str) -> tuple[Indices, Weights]:
        counts = Counter(self.vocabulary[g] for g in self.analyze(text) if g in self.vocabulary)
        indices = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
        tf = 1.0 + np.log(np.fromiter(counts.values(), dtype=np.float64, count=len(counts)))
        values = tf * self.idf[indices]
        norm = float(np.sqrt(values @ values))
        if norm > 0.0:
            values /= norm
        return indices + self.offset, values * self.weight


def _vectorizer(analyzer: str, ngrams: tuple[int, int], **options: Any) -> TfidfVectorizer:
    return TfidfVectorizer(
        analyzer=analyzer,
        ngram_range=ngrams,
        lowercase=False,  # `prepare` has already lowercased and folded the text
        sublinear_tf=True,
        dtype=np.float64,
        **options,
    )
