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
from bot.nlu.fitted import Fit, FittedModel, Indices, Neighbours, Weights, grouping

# Weak regularisation: the examples are few, short and clean, and the confidence threshold
# needs probabilities that separate in-scope from out-of-scope.
REGULARISATION_C = 30.0
# The sentence vector's weight beside the two TF-IDF blocks (each of length 1, like it), and
# that of its closeness to each class's nearest example
MEANING_WEIGHT = 1.0
NEIGHBOUR_WEIGHT = 1.0
BLOCK = 1024  # examples compared with all the others at once (a block × examples matrix)
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
    order, starts = grouping(labels, words.classes)
    neighbours = Neighbours(np.ascontiguousarray(meanings[order], dtype=np.float32), starts)
    closest = _closest_others(neighbours, order)
    dense = np.hstack([meanings * MEANING_WEIGHT, closest * NEIGHBOUR_WEIGHT])
    both = _regression(sparse.hstack([features, sparse.csr_matrix(dense)], format="csr"), labels)
    return Fit(words, _split(words, both, neighbours), encoder=encoder, gate=MEANING_GATE)


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


def _closest_others(neighbours: Neighbours, order: Indices) -> Weights:
    """Each example's closeness to each class's nearest example other than itself: what a
    message it resembles, but is not, would be given (`Neighbours.closest`). `neighbours`
    holds the examples' vectors in `order`."""
    grouped, starts = neighbours.vectors, neighbours.starts
    out = np.empty((len(grouped), len(starts)))
    for first in range(0, len(grouped), BLOCK):
        rows = np.arange(first, min(first + BLOCK, len(grouped)))
        similarities = grouped[rows] @ grouped.T
        similarities[np.arange(len(rows)), rows] = -1.0  # itself: the least a cosine can be
        out[order[rows]] = np.maximum.reduceat(similarities, starts, axis=1)
    return out


def _split(words: FittedModel, both: LogisticRegression, neighbours: Neighbours) -> FittedModel:
    """`both`'s weights as the words' columns (the same featurizer as `words`) and the dense
    ones', scaled as their inputs were."""
    coef = np.asarray(both.coef_, dtype=np.float64)
    columns = words.coef.shape[1]
    dense = coef[:, columns:]
    scale = np.ones(dense.shape[1])
    scale[: -len(words.classes)] = MEANING_WEIGHT
    scale[-len(words.classes) :] = NEIGHBOUR_WEIGHT
    return FittedModel(
        parts=words.parts,
        classes=words.classes,
        coef=coef[:, :columns],
        intercept=np.asarray(both.intercept_, dtype=np.float64),
        meaning_coef=dense * scale,
        neighbours=neighbours,
    )
