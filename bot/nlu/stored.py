"""The fitted classifier kept on disk, so start-up loads it instead of training (≤ 3 s).

Keyed by everything the fit depends on: the examples in order, the labels, the sentence
encoder (if any), the versions of scikit-learn and numpy, and `FIT_VERSION` (raise it when
featurising or fitting changes). A different key is a different file, so a changed training
file simply trains afresh; an unreadable file is ignored and replaced. Written atomically (a
temporary file, then a rename), so two processes starting at once never read half a file. The
files hold only what billbot's own training data produced, in billbot's own data folder: a
`bot.nlu.fitted.Fit`, plain dicts and numpy arrays, so loading one never imports scikit-learn.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import pickle
import tempfile
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

from bot.nlu.fitted import Fit

log = logging.getLogger(__name__)
FIT_VERSION = "4"  # 2: plain FittedModel, not scikit-learn objects; 3: `Fit`; 4: neighbours


def key(examples: Sequence[tuple[str, str]], labels: Sequence[str], encoder: str = "") -> str:
    """What the fit depends on, as one digest; `encoder` names the sentence encoder, if any."""
    versions = [metadata.version("scikit-learn"), metadata.version("numpy"), FIT_VERSION, encoder]
    payload = json.dumps([versions, list(labels), [list(pair) for pair in examples]])
    return hashlib.sha256(payload.encode()).hexdigest()[:40]


def load(folder: Path, digest: str) -> Fit | None:
    """The fit stored under `digest`, or None (absent, unreadable or from another version)."""
    path = _path(folder, digest)
    try:
        with path.open("rb") as file:
            stored: Any = pickle.load(file)  # billbot's own file, keyed by content
    except FileNotFoundError:
        return None
    except Exception as error:  # a bad cache file must never stop start-up
        log.warning("ignoring the stored NLU model %s: %s", path.name, error)
        return None
    return stored if isinstance(stored, Fit) else None


def save(folder: Path, digest: str, fitted: Fit) -> None:
    """Store the fit (best effort: a read-only folder only costs the next start-up a fit)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, delete=False, suffix=".tmp") as file:
            pickle.dump(fitted, file, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(file.name, _path(folder, digest))
        for older in folder.glob("nlu-*.pickle"):  # fits of training data changed since
            if older != _path(folder, digest):
                older.unlink(missing_ok=True)
    except OSError as error:
        log.warning("could not store the NLU model in %s: %s", folder, error)


def _path(folder: Path, digest: str) -> Path:
    return folder / f"nlu-{digest}.pickle"
