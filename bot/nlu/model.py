"""The intent classifier: normalise, fix typos, featurise, logistic regression, threshold.

Words first: a logistic regression on TF-IDF features answers when it is sure. When it is not,
and a sentence encoder is in use (`bot.nlu.encoder`), a second regression reads the words and
the sentence's meaning together and answers instead (`bot.nlu.fitted.Fit`).

The model knows no intent names of its own: its labels come from whoever trains it, and in
billbot that is the intent registry (`NluModel.from_registry`), so the NLU, the engine and the
menu share one list. Training data naming an intent outside the labels is refused.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Protocol

from bot.nlu import stored
from bot.nlu.encoder import SentenceEncoder
from bot.nlu.entities import extract_entities
from bot.nlu.fitted import Fit
from bot.nlu.normalize import fold_repeats, normalize
from bot.nlu.requests import lead_and_also, requests
from bot.nlu.spelling import SpellFixer
from bot.nlu.training import load_labelled_files, training_files
from bot.nlu.types import OUT_OF_SCOPE, ParseResult
from bot.nlu.written import AsWritten, usual_spellings


class IntentCatalog(Protocol):
    """What the NLU needs of the intent registry (`bot.registry.Registry`): its labels and the
    training file of each intent."""

    @property
    def names(self) -> list[str]: ...

    @property
    def training_files(self) -> list[Path]: ...


# chosen on the training folds and the evaluation set (docs/nlu.md, "Choosing the threshold")
DEFAULT_THRESHOLD = 0.55
# A message of fewer words is read by its words alone: one keyword ("saldo", "menu") is what the
# words model knows best and a sentence encoder least
MEANING_MIN_WORDS = 2
CACHED_TEXTS = 4096  # remembered parses of short digit-free texts
CACHED_TEXT_CHARS = 80


def decide(ranking: Sequence[tuple[str, float]], threshold: float) -> str:
    """The answer for a ranking (best first): its best intent when that is confident enough,
    else out of scope. `evaluate`'s threshold sweep calls this too, so it scores the very rule
    `parse` applies."""
    best, confidence = ranking[0]
    return best if confidence >= threshold else OUT_OF_SCOPE


def prepare(text: str) -> str:
    """The form the classifier reads: normalised, then doubled letters folded."""
    return fold_repeats(normalize(text))


class NluModel:
    """Intent + entities for one message. Train it once at start-up, then call `parse`."""

    def __init__(
        self,
        *,
        labels: Sequence[str],
        fitted: Fit,
        spelling: SpellFixer,
        threshold: float,
        default_region: str,
        examples: Sequence[tuple[str, str]] = (),
        encoder: SentenceEncoder | None = None,
        as_written: AsWritten | None = None,
    ) -> None:
        self.labels: tuple[str, ...] = tuple(labels)
        # What it learnt from, as given: cross-validation retrains on folds of exactly these.
        self.examples: tuple[tuple[str, str], ...] = tuple(examples)
        self._fitted = fitted
        # the encoder the fit's second model was fitted with; None when it has none
        self.encoder = encoder if fitted.meaning is not None else None
        self._spelling = spelling
        # how the encoder reads a message: as people spell it, typos fixed
        self._as_written = as_written or AsWritten(spelling, {})
        self._threshold = threshold
        self.default_region = default_region
        self._parse_remembered = lru_cache(maxsize=CACHED_TEXTS)(self.classify)

    @classmethod
    def train(
        cls,
        examples: Sequence[tuple[str, str]],
        *,
        labels: Iterable[str],
        threshold: float = DEFAULT_THRESHOLD,
        default_region: str = "US",
        cache_dir: Path | None = None,
        encoder: SentenceEncoder | None = None,
    ) -> NluModel:
        """Fit on (text, intent) pairs; deterministic for the same examples in the same order.

        With `cache_dir`, a fit stored there for exactly these examples is loaded instead
        (`bot.nlu.stored`), and a new fit is stored. With `encoder`, the model that also reads
        meaning is fitted too.

        `labels` are every intent the model may answer with (the registry's names); they must
        include `OUT_OF_SCOPE`, the answer below the threshold. An intent among the labels with
        no examples is never predicted.
        """
        known = tuple(dict.fromkeys(labels))
        _check_examples(examples, known, threshold)
        written = [normalize(text) for text, _ in examples]  # as the encoder reads them
        texts = [fold_repeats(text) for text in written]  # `prepare`d, normalising once
        fitted = _fitted(texts, written, [intent for _, intent in examples], encoder, cache_dir)
        spelling = SpellFixer(word for text in texts for word in text.split())
        return cls(
            labels=known,
            fitted=fitted,
            spelling=spelling,
            threshold=threshold,
            default_region=default_region,
            examples=examples,
            encoder=encoder,
            as_written=AsWritten(spelling, usual_spellings(written)),
        )

    @classmethod
    def from_files(
        cls,
        files: Iterable[Path],
        *,
        labels: Iterable[str],
        threshold: float = DEFAULT_THRESHOLD,
        default_region: str = "US",
        cache_dir: Path | None = None,
        encoder: SentenceEncoder | None = None,
    ) -> NluModel:
        """Train on Rasa-format files, read in the given order.

        ValueError naming the file when one is malformed or names an intent outside `labels`.
        """
        known = tuple(dict.fromkeys(labels))
        examples = load_labelled_files(files, known)
        return cls.train(
            examples,
            labels=known,
            threshold=threshold,
            default_region=default_region,
            cache_dir=cache_dir,
            encoder=encoder,
        )

    @classmethod
    def from_registry(
        cls,
        registry: IntentCatalog,
        *,
        threshold: float = DEFAULT_THRESHOLD,
        default_region: str = "US",
        cache_dir: Path | None = None,
        encoder: SentenceEncoder | None = None,
    ) -> NluModel:
        """Train on each registered intent's training file; the registry's names are the labels."""
        return cls.from_files(
            dict.fromkeys(registry.training_files),  # two intents may share one file
            labels=registry.names,
            threshold=threshold,
            default_region=default_region,
            cache_dir=cache_dir,
            encoder=encoder,
        )

    @classmethod
    def from_directory(
        cls,
        path: Path,
        *,
        labels: Iterable[str],
        threshold: float = DEFAULT_THRESHOLD,
        default_region: str = "US",
        encoder: SentenceEncoder | None = None,
    ) -> NluModel:
        """Train on every *.yml / *.yaml file in `path` (in file-name order), e.g. `--data DIR`."""
        return cls.from_files(
            training_files(path),
            labels=labels,
            threshold=threshold,
            default_region=default_region,
            encoder=encoder,
        )

    @property
    def threshold(self) -> float:
        """Below this confidence a message is out of scope (fixed once trained: parses are
        remembered)."""
        return self._threshold

    def parse(self, text: str) -> ParseResult:
        """Classify `text` and pull out its entities. Never raises on odd input.

        Short texts without digits ("balance", "yes", "menu") are most of what customers send;
        their results are remembered. Texts with digits never are: they may carry a PIN, a
        card or a phone number, and those stay in memory only for the turn that read them.
        """
        if len(text) <= CACHED_TEXT_CHARS and not any(ch.isdigit() for ch in text):
            return self._parse_remembered(text)
        return self.classify(text)

    def classify(self, text: str) -> ParseResult:
        """What `parse` returns, worked out afresh (what a new text costs)."""
        entities = extract_entities(text, default_region=self.default_region)
        words = self._corrected(text)
        if not any(self._meaningful(word) for word in words):
            return ParseResult(text, OUT_OF_SCOPE, 0.0, entities, ((OUT_OF_SCOPE, 0.0),))
        ranking = self._rank(" ".join(words), text)
        intent, also = lead_and_also(
            decide(ranking, self.threshold), requests(text, self._best_of)
        )
        return ParseResult(text, intent, ranking[0][1], entities, ranking, also)

    def _meaningful(self, word: str) -> bool:
        """A word the training data knows, longer than one letter: a message with none of those
        ("\x1b[31m", "qxzv", emoji) has nothing to classify."""
        return len(word) > 1 and word.isalpha() and word in self._spelling

    def _best_of(self, piece: str) -> tuple[str, float]:
        """A piece of a message (`bot.nlu.requests`): its best intent and confidence, from its
        words alone (a message's pieces cost no encoder runs)."""
        return self._rank(" ".join(self._corrected(piece)))[0]

    def _corrected(self, text: str) -> list[str]:
        """The words the classifier reads: prepared, each one-letter typo fixed."""
        return [self._spelling.correct(word) for word in prepare(text).split()]

    @property
    def reads_meaning(self) -> str:
        """The sentence encoder unsure messages go through, or "" when words alone decide."""
        return self.encoder.name if self.encoder is not None else ""

    @property
    def meaning_gate(self) -> float:
        """Below this best confidence of the words alone, meaning is read too (0: never)."""
        return self._fitted.gate if self.encoder is not None else 0.0

    def _rank(self, prepared: str, text: str | None = None) -> tuple[tuple[str, float], ...]:
        """Every intent with its probability, best first: from the words of `prepared`, or,
        when those leave the model unsure and the message's `text` is given, from its words
        and its meaning."""
        fit, encoder = self._fitted, self.encoder
        model, probabilities = fit.words, fit.words.probabilities(prepared)
        unsure = text is not None and max(probabilities) < fit.gate
        unsure = unsure and len(prepared.split()) >= MEANING_MIN_WORDS
        if unsure and fit.meaning is not None and encoder is not None:
            model = fit.meaning
            meaning = encoder.encode([self._as_written.read(str(text), encoder.knows)])[0]
            probabilities = model.probabilities(prepared, meaning)
        pairs = zip(model.classes, probabilities, strict=True)
        return tuple(sorted(pairs, key=lambda pair: (-pair[1], pair[0])))


def _fitted(
    texts: list[str],
    written: list[str],
    intents: list[str],
    encoder: SentenceEncoder | None,
    cache_dir: Path | None,
) -> Fit:
    """The fit for these prepared texts (`written`: the same, as the encoder reads them):
    loaded from `cache_dir` when stored there, else made."""
    name = encoder.name if encoder is not None else ""
    digest = stored.key(list(zip(texts, intents, strict=True)), sorted(set(intents)), name)
    found = stored.load(cache_dir, digest) if cache_dir is not None else None
    if found is not None:
        return found
    from bot.nlu.fitting import fit  # scikit-learn loads only when a model is trained

    meanings = encoder.encode(written) if encoder is not None else None
    fitted = fit(texts, intents, meanings, name)
    if cache_dir is not None:
        stored.save(cache_dir, digest, fitted)
    return fitted


def _check_examples(
    examples: Sequence[tuple[str, str]], labels: tuple[str, ...], threshold: float
) -> None:
    if not 0.0 <= threshold <= 1.0:
        raise ValueError(f"threshold must be between 0 and 1, not {threshold}")
    if OUT_OF_SCOPE not in labels:
        raise ValueError(f"the labels must include {OUT_OF_SCOPE!r}, the answer below threshold")
    trained = {intent for _, intent in examples}
    unknown = sorted(trained - set(labels))
    if unknown:
        raise ValueError(f"unknown intents {unknown}; the labels are {list(labels)}")
    if len(trained) < 2:
        raise ValueError("training needs examples of at least two intents")
