"""Fit the classifier with scikit-learn.

Imported only when a model is trained: scikit-learn takes about a second to import, and commands
that never train (`billbot db upgrade`, `billbot messages`) should not pay for it.
"""

from __future__ import annotations

from collections.abc import Sequence

from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

from bot.nlu.features import Featurizer

# Weak regularisation: the examples are few, short and clean, and the confidence threshold
# needs probabilities that separate in-scope from out-of-scope.
REGULARISATION_C = 30.0


def fit(texts: Sequence[str], labels: Sequence[str]) -> tuple[Featurizer, LogisticRegression]:
    """A fitted featurizer and multinomial logistic regression; deterministic for equal input."""
    featurizer = Featurizer()
    features = featurizer.fit_transform(texts)
    classifier = LogisticRegression(
        C=REGULARISATION_C, solver="newton-cg", max_iter=500, random_state=0
    )
    with threadpool_limits(limits=1):  # on a matrix this small, BLAS threads only contend
        classifier.fit(features, list(labels))
    return featurizer, classifier
