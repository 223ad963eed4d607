"""Fit the classifier with scikit-learn.

Imported only when a model is trained: scikit-learn takes 1.5–2.5 s to import, and processes
that load a stored fit (`bot.nlu.stored`) or never parse (`billbot db upgrade`) skip it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

from bot.nlu.features import Featurizer
from bot.nlu.fitted import FittedModel

# Weak regularisation: the examples are few, short and clean, and the confidence threshold
# needs probabilities that separate in-scope from out-of-scope.
REGULARISATION_C = 30.0


def fit(texts: Sequence[str], labels: Sequence[str]) -> FittedModel:
    """The fitted model in plain form; deterministic for equal input."""
    return plain(*fit_with_scikit_learn(texts, labels))


def fit_with_scikit_learn(
    texts: Sequence[str], labels: Sequence[str]
) -> tuple[Featurizer, LogisticRegression]:
    """A fitted featurizer and multinomial logistic regression (what `fit` unpacks)."""
    featurizer = Featurizer()
    features = featurizer.fit_transform(texts)
    classifier = LogisticRegression(
        C=REGULARISATION_C, solver="newton-cg", max_iter=500, random_state=0
    )
    with threadpool_limits(limits=1):  # on a matrix this small, BLAS threads only contend
        classifier.fit(features, list(labels))
    return featurizer, classifier


def plain(featurizer: Featurizer, classifier: LogisticRegression) -> FittedModel:
    """The fit as lookups and arrays, scoring exactly as scikit-learn's `predict_proba`."""
    return FittedModel(
        parts=featurizer.fitted_parts(),
        classes=tuple(str(c) for c in classifier.classes_),
        coef=np.asarray(classifier.coef_, dtype=np.float64),
        intercept=np.asarray(classifier.intercept_, dtype=np.float64),
    )
