"""Text → sparse features for training: word uni/bigrams plus character n-grams inside words.

Word n-grams carry phrasing ("pay my", "data left"); character n-grams carry misspellings and
inflections ("blocked", "bloquear", "invoic") that whole words miss.

Training goes through scikit-learn's vectorizers, handed billbot's own analyzers
(`bot.nlu.analyzers`); `fitted_parts` unpacks what they learnt into the plain lookups a running
model uses (`bot.nlu.fitted`), so parsing never needs scikit-learn.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer

from bot.nlu.analyzers import Analyzer
from bot.nlu.fitted import FeaturePart

# (analyzer, weight of its block)
PARTS = (
    (Analyzer("word", (1, 2)), 1.0),
    (Analyzer("char_wb", (2, 5)), 1.0),
)


class Featurizer:
    """TF-IDF vectorizers, one per part, whose outputs are weighted and stacked side by side."""

    def __init__(self) -> None:
        self._parts = tuple((part, _vectorizer(part), weight) for part, weight in PARTS)

    def fit_transform(self, texts: Sequence[str]) -> Any:
        """Learn vocabularies and IDF weights; the training matrix (rows = texts)."""
        blocks = [vec.fit_transform(texts) * weight for _, vec, weight in self._parts]
        return cast(Any, sparse.hstack(blocks, format="csr"))

    def transform(self, texts: Sequence[str]) -> Any:
        """The feature matrix of `texts`, through scikit-learn."""
        blocks = [vec.transform(texts) * weight for _, vec, weight in self._parts]
        return cast(Any, sparse.hstack(blocks, format="csr"))

    def fitted_parts(self) -> tuple[FeaturePart, ...]:
        """What `fit_transform` learnt, as plain lookups (columns in `transform`'s order)."""
        parts, offset = [], 0
        for analyzer, vec, weight in self._parts:
            vocabulary = {str(gram): int(column) for gram, column in vec.vocabulary_.items()}
            idf = np.asarray(vec.idf_, dtype=np.float64)
            parts.append(FeaturePart(analyzer, vocabulary, idf, weight, offset))
            offset += len(idf)
        return tuple(parts)


def _vectorizer(analyzer: Analyzer) -> TfidfVectorizer:
    # `prepare` has already lowercased and folded the text; the analyzer does the rest
    return TfidfVectorizer(
        analyzer=analyzer, lowercase=False, token_pattern=None, sublinear_tf=True, dtype=np.float64
    )
