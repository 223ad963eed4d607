"""Fit the classifier with scikit-learn.

Imported only when a model is trained: scikit-learn takes 1.5–2.5 s to import, and processes
that load a stored fit (`bot.nlu.stored`) or never parse (`billbot db upgrade`) skip it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

from bot.nlu.encoder import Vectors
from bot.nlu.features import Featurizer
from bot.nlu.fitted import Fit, FittedModel

# Weak regularisation: the examples are few, short and clean, and the confidence threshold
# needs probabilities that separate in-scope from out-of-scope.
REGULARISATION_C = 30.0
# The sentence vector's weight beside the two TF-IDF blocks (each of length 1, like it)
MEANING_WEIGHT = 1.0
# Below this best confidence of the words-only model, the model that also reads meaning answers
# (chosen on the evaluation set: about a quarter of messages, nearly all of the gain; docs/nlu.md)
MEANING_GATE = 0.9


def fit(
    texts: Sequence[str],
    labels: Sequence[str],
    meanings: Vectors | None = None,
    encoder: str = "",
) -> Fit:
    """The fitted models in plain form; deterministic for equal input. With `meanings` (one
    sentence vector per text, from the encoder named `encoder`), the second model too."""
    featurizer = Featurizer()
    features = featurizer.fit_transform(texts)
    words = plain(featurizer, _regression(features, labels))
    if meanings is None:
        return Fit(words)
    beside = sparse.hstack([features, sparse.csr_matrix(meanings * MEANING_WEIGHT)], format="csr")
    both = _regression(beside, labels)
    return Fit(words, _split(words, both), encoder=encoder, gate=MEANING_GATE)


def fit_with_scikit_learn(
    texts: Sequence[str], labels: Sequence[str]
) -> tuple[Featurizer, LogisticRegression]:
    """A fitted featurizer and multinomial logistic regression on the words alone."""
    featurizer = Featurizer()
    return featurizer, _regression(featurizer.fit_transform(texts), labels)


def plain(featurizer: Featurizer, classifier: LogisticRegression) -> FittedModel:
    """The fit as lookups and arrays, scoring exactly as scikit-learn's `predict_proba`."""
    return FittedModel(
        parts=featurizer.fitted_parts(),
        classes=tuple(str(c) for c in classifier.classes_),
        coef=np.asarray(classifier.coef_, dtype=np.float64),
        intercept=np.asarray(classifier.intercept_, dtype=np.float64),
    )


def _regression(features: Any, labels: Sequence[str]) -> LogisticRegression:
    classifier = LogisticRegression(
        C=REGULARISATION_C, solver="newton-cg", max_iter=500, random_state=0
    )
    with threadpool_limits(limits=1):  # on a matrix this small, BLAS threads only contend
        classifier.fit(features, list(labels))
    return classifier


def _split(words: FittedModel, both: LogisticRegression) -> FittedModel:
    """`both`'s weights as the words' columns (the same featurizer as `words`) and the
    meaning's, the latter scaled by `MEANING_WEIGHT` as its inputs were."""
    coef = np.asarray(both.coef_, dtype=np.float64)
    columns = words.coef.shape[1]
    return FittedModel(
        parts=words.parts,
        classes=words.classes,
        coef=coef[:, :columns],
        intercept=np.asarray(both.intercept_, dtype=np.float64),
        meaning_coef=coef[:, columns:] * MEANING_WEIGHT,
    )
