"""What a fit leaves behind, as plain lookups and arrays: all a running model needs.

`FittedModel` scores one prepared text without scikit-learn: each feature part's analyzer,
vocabulary and IDF weights give the text's sparse TF-IDF vector (as scikit-learn's `transform`
would, without building a matrix), and the logistic regression's weights turn it into
probabilities (as `predict_proba` would). Importing scikit-learn costs a process 1.5–2.5 s;
loading this from `bot.nlu.stored` costs numpy only, so start-up, the `billbot` commands and
every worker start quickly. A unit test holds it equal to scikit-learn's own path.

`Fit` is what billbot stores: a model of the words alone, which answers when it is sure, and,
when a sentence encoder is in use (`bot.nlu.encoder`), a second model of the words and the
sentence's meaning together, asked only when the first is unsure.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from bot.nlu.analyzers import Analyzer

Indices = NDArray[np.int64]
Weights = NDArray[np.float64]
Vector = NDArray[np.floating[Any]]


@dataclass(frozen=True, slots=True, eq=False)
class FeaturePart:
    """One fitted TF-IDF vectorizer: n-grams → columns `offset`…, sublinear TF × IDF, L2-normed,
    then scaled by `weight`."""

    analyzer: Analyzer
    vocabulary: dict[str, int]
    idf: Weights
    weight: float
    offset: int

    def vector(self, text: str) -> tuple[Indices, Weights]:
        counts = Counter(self.vocabulary[g] for g in self.analyzer(text) if g in self.vocabulary)
        indices = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
        tf = 1.0 + np.log(np.fromiter(counts.values(), dtype=np.float64, count=len(counts)))
        values = tf * self.idf[indices]
        norm = float(np.sqrt(values @ values))
        if norm > 0.0:
            values /= norm
        return indices + self.offset, values * self.weight


@dataclass(frozen=True, slots=True, eq=False)
class FittedModel:
    """Feature parts side by side, and a multinomial (or binary) logistic regression on them."""

    parts: tuple[FeaturePart, ...]
    classes: tuple[str, ...]
    coef: Weights  # (classes, features); one row for a binary model
    intercept: Weights
    # (classes, dimensions [+ classes]): the weights of a sentence vector read beside the
    # words, if any, and of its closeness to each class's nearest example (`neighbours`)
    meaning_coef: Weights | None = None
    neighbours: Neighbours | None = None

    def vector(self, text: str) -> tuple[Indices, Weights]:
        """The text's non-zero features as (column indices, values)."""
        pieces = [part.vector(text) for part in self.parts]
        return np.concatenate([p[0] for p in pieces]), np.concatenate([p[1] for p in pieces])

    def dense(self, meaning: Vector) -> Weights:
        """What the model reads of a sentence vector: itself, and how close it comes to each
        class's nearest training example when the model keeps them."""
        if self.neighbours is None:
            return np.asarray(meaning, dtype=np.float64)
        return np.concatenate([meaning, self.neighbours.closest(meaning)]).astype(np.float64)

    def probabilities(self, text: str, meaning: Vector | None = None) -> list[float]:
        """One probability per class, in `classes` order; `meaning` is the text's sentence
        vector, for a model fitted with one (`meaning_coef`)."""
        indices, values = self.vector(text)
        scores = self.coef[:, indices] @ values + self.intercept
        if self.meaning_coef is not None:
            if meaning is None:
                raise ValueError("this model reads a sentence vector beside the words")
            scores = scores + self.meaning_coef @ self.dense(meaning)
        if len(self.classes) == 2:  # binary logistic regression keeps one row of weights
            positive = float(0.5 * (1.0 + np.tanh(scores[0] / 2.0)))  # sigmoid, overflow-free
            return [1.0 - positive, positive]
        exp = np.exp(scores - scores.max())
        return [float(p) for p in exp / exp.sum()]


@dataclass(frozen=True, slots=True, eq=False)
class Neighbours:
    """The training examples' sentence vectors, grouped by class: how close a message comes to
    each class's nearest example (a cosine: the vectors are of length 1). A paraphrase of one
    example lands near it even when a linear reading of the vector misses it."""

    vectors: NDArray[np.float32]  # (examples, dimensions), rows grouped by class
    starts: Indices  # the first row of each class, in the model's `classes` order

    def closest(self, meaning: Vector) -> Weights:
        """The best cosine between `meaning` and each class's examples, in `classes` order."""
        similarities = self.vectors @ np.asarray(meaning, dtype=np.float32)
        return np.maximum.reduceat(similarities, self.starts).astype(np.float64)


def grouping(labels: Sequence[str], classes: Sequence[str]) -> tuple[Indices, Indices]:
    """(the examples' order grouped by class, each group's first position), classes in
    `classes` order and examples in their own order within a class."""
    rank = {name: n for n, name in enumerate(classes)}
    ranks = np.array([rank[label] for label in labels], dtype=np.int64)
    counts = np.bincount(ranks, minlength=len(classes))
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
    return np.argsort(ranks, kind="stable"), starts


@dataclass(frozen=True, slots=True, eq=False)
class Fit:
    """The words-only model, and the one that also reads meaning (None without an encoder),
    asked when the words-only model's best confidence is below `gate`."""

    words: FittedModel
    meaning: FittedModel | None = None
    encoder: str = ""  # the `SentenceEncoder.name` `meaning` was fitted with
    gate: float = 0.0
