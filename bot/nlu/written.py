"""What the sentence encoder reads: a message spelt as people spell it, typos fixed.

The classifier reads prepared text: normalised, doubled letters folded ("bill" → "bil"), and
one-letter typos fixed against the training words (`bot.nlu.model.prepare`, `SpellFixer`). The
encoder learnt English as it is written, so it reads the normalised words unfolded, each in
the spelling the training data uses most for it ("acount" → "account"), with typos fixed — even
a rare one the training data taught the classifier on purpose, when the encoder does not know
the word ("blance" → "balance", `SpellFixer.likelier`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping

from bot.nlu.normalize import fold_repeats, normalize
from bot.nlu.spelling import SpellFixer


def usual_spellings(texts: Iterable[str]) -> dict[str, str]:
    """Each folded word of the normalised `texts` → its most frequent unfolded spelling."""
    counts = Counter(word for text in texts for word in text.split())
    usual: dict[str, str] = {}
    for word, _ in counts.most_common():  # each distinct word folded once
        usual.setdefault(fold_repeats(word), word)
    return usual


class AsWritten:
    """Reads a message for the encoder, with the training data's spelling fixer and usual
    spellings (`usual_spellings` of its normalised texts)."""

    def __init__(self, spelling: SpellFixer, usual: Mapping[str, str]) -> None:
        self._spelling = spelling
        self._usual = usual

    def read(self, text: str, knows: Callable[[str], bool]) -> str:
        """`text` as the encoder should read it; `knows` tells a word of its vocabulary."""
        return " ".join(self._fixed(word, knows) for word in normalize(text).split())

    def _fixed(self, word: str, knows: Callable[[str], bool]) -> str:
        if knows(word):
            return word
        folded = fold_repeats(word)
        fixed = self._spelling.correct(folded)
        if fixed == folded:
            fixed = self._spelling.likelier(folded) or folded
        return self._usual.get(fixed, word)
