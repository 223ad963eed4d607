"""How a prepared text is cut into features: word n-grams and character n-grams in words.

Plain Python, the same code at training and at parsing: scikit-learn's vectorizers are handed
these analyzers at training (`bot.nlu.features`), and a running model uses them without
importing scikit-learn (`bot.nlu.fitted`). They cut text the way scikit-learn's own "word"
(token pattern `\\S+`) and "char_wb" analyzers do; a unit test holds them together.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["word", "char_wb"]


@dataclass(frozen=True, slots=True)
class Analyzer:
    """Cuts a text into n-grams of `kind`, n from `ngrams[0]` to `ngrams[1]`."""

    kind: Kind
    ngrams: tuple[int, int]

    def __call__(self, text: str) -> list[str]:
        if self.kind == "word":
            return word_ngrams(text.split(), self.ngrams)
        return char_ngrams_in_words(text.split(), self.ngrams)


def word_ngrams(words: list[str], ngrams: tuple[int, int]) -> list[str]:
    """Each run of `lowest`…`highest` consecutive words, joined by spaces, shortest first."""
    lowest, highest = ngrams
    return [
        " ".join(words[start : start + n])
        for n in range(lowest, min(highest, len(words)) + 1)
        for start in range(len(words) - n + 1)
    ]


def char_ngrams_in_words(words: list[str], ngrams: tuple[int, int]) -> list[str]:
    """Character n-grams of each word padded with one space each side; a padded word shorter
    than n counts once, whole."""
    grams: list[str] = []
    for word in words:
        padded = f" {word} "
        for n in range(ngrams[0], ngrams[1] + 1):
            grams.extend(padded[start : start + n] for start in range(max(1, len(padded) - n + 1)))
            if len(padded) <= n:
                break
    return grams
