"""Fix one-letter typos ("blance", "invioce", "paymnt") against the training vocabulary.

A symmetric-delete index (as in SymSpell): every known word is stored under itself and under
each string made by deleting one of its letters. A typo shares one of those keys whenever it is
one insertion, deletion, substitution or swap away from a known word.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

MIN_LENGTH = 4  # shorter words have too many neighbours ("bell" → "bill") to guess safely
RARE = 3  # a known word seen at most this often may be a typo (`likelier`)…
MORE_FREQUENT = 10  # …of a neighbour seen at least this many times as often


class SpellFixer:
    """Maps unknown words to the most frequent known word one edit away."""

    def __init__(self, words: Iterable[str]) -> None:
        self.counts: Counter[str] = Counter(words)
        self._index: dict[str, set[str]] = {}
        for word in self.counts:
            if len(word) >= MIN_LENGTH and word.isalpha():
                for key in {word, *_deletes(word)}:
                    self._index.setdefault(key, set()).add(word)

    def __contains__(self, word: str) -> bool:
        return word in self.counts

    def correct(self, word: str) -> str:
        """`word` itself when known, too short or unmatched; else its likeliest correction."""
        if word in self.counts or len(word) < MIN_LENGTH or not word.isalpha():
            return word
        close = self._neighbours(word)
        return min(close, key=lambda w: (-self.counts[w], w)) if close else word

    def likelier(self, word: str) -> str | None:
        """For a rare known word, the far more frequent word one edit away that it is probably
        a typo of ("blance", seen twice → "balance", seen hundreds of times); else None. The
        training data holds typos on purpose, so `correct` keeps them; a reader that never
        learnt them (the sentence encoder) asks this."""
        count = self.counts[word]
        if not 0 < count <= RARE or len(word) < MIN_LENGTH or not word.isalpha():
            return None
        common = [w for w in self._neighbours(word) if self.counts[w] >= MORE_FREQUENT * count]
        return min(common, key=lambda w: (-self.counts[w], w)) if common else None

    def _neighbours(self, word: str) -> list[str]:
        """Known words one edit from `word`, itself excluded."""
        candidates = {w for key in {word, *_deletes(word)} for w in self._index.get(key, ())}
        return [w for w in candidates if w != word and _osa_distance(word, w) <= 1]


def _deletes(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


def _osa_distance(a: str, b: str) -> int:
    """Optimal string alignment distance: edits where a swap of neighbours counts as one."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            best = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                best = min(best, previous2[j - 2] + 1)
            current.append(best)
        previous2, previous = previous, current
    return previous[-1]
