"""Training examples in Rasa's nlu.yml format, so operators can share data with Rasa projects.

version: "3.1"
nlu:
- intent: balance
  examples: |
    - what do I owe
    - how much is my [bill](document) this month
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

Example = tuple[str, str]  # (text, intent)

# Rasa entity annotations: [text](entity), [text](entity:value), [text]{"entity": "x"}
_ANNOTATION = re.compile(r"\[([^\[\]]+)\](?:\([^()]*\)|\{[^{}]*\})+")
_SKIPPED_KEYS = ("synonym", "regex", "lookup")  # Rasa item kinds that hold no examples
# libyaml's safe loader when PyYAML was built with it: the same documents, several times faster
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_training_data(path: Path) -> list[Example]:
    """(text, intent) pairs from every *.yml / *.yaml file in `path`, in file-name order."""
    return [example for file in training_files(path) for example in load_file(file)]


def training_files(path: Path) -> list[Path]:
    """The *.yml / *.yaml files in the folder `path`, in file-name order; ValueError if none."""
    if not path.is_dir():
        raise ValueError(f"{path}: not a folder of training files")
    files = sorted(p for p in path.iterdir() if p.suffix in (".yml", ".yaml") and p.is_file())
    if not files:
        raise ValueError(f"{path}: no *.yml training files")
    return files


def load_labelled_files(files: Iterable[Path], labels: Iterable[str]) -> list[Example]:
    """The examples of `files`, in order; ValueError naming the file that is missing, malformed
    or teaches an intent outside `labels` (a name nothing would handle)."""
    known = list(dict.fromkeys(labels))
    examples: list[Example] = []
    for file in files:
        if not file.is_file():
            raise ValueError(f"{file.name}: no such training file ({file})")
        found = load_file(file)
        unknown = sorted({intent for _, intent in found} - set(known))
        if unknown:
            names = ", ".join(repr(name) for name in unknown)
            what = (
                "is not a registered intent" if len(unknown) == 1 else "are not registered intents"
            )
            raise ValueError(f"{file.name}: {names} {what} (known: {', '.join(known)})")
        examples += found
    return examples


def load_file(path: Path) -> list[Example]:
    """The examples of one Rasa nlu.yml file; ValueError naming the file when it is malformed."""
    try:
        document = yaml.load(path.read_text(encoding="utf-8"), Loader=_SAFE_LOADER)
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path.name}: not valid YAML ({_first_line(exc)})") from None
    try:
        return list(_examples(document))
    except ValueError as exc:
        raise ValueError(f"{path.name}: {exc}") from None


def strip_annotations(text: str) -> str:
    """ "block [0103](line) now" → "block 0103 now"."""
    return _ANNOTATION.sub(r"\1", text)


def _examples(document: Any) -> list[Example]:
    if not isinstance(document, dict) or not isinstance(document.get("nlu"), list):
        raise ValueError('expected a mapping with an "nlu:" list')
    found: list[Example] = []
    for number, item in enumerate(document["nlu"], 1):
        if isinstance(item, dict) and any(key in item for key in _SKIPPED_KEYS):
            continue
        if not isinstance(item, dict) or not isinstance(item.get("intent"), str):
            raise ValueError(f'nlu item {number} has no "intent:" name')
        intent = item["intent"].strip()
        found += [(text, intent) for text in _texts(item.get("examples"), intent)]
    return found


def _texts(examples: Any, intent: str) -> list[str]:
    if isinstance(examples, str):
        return [_example_line(line, intent) for line in examples.splitlines() if line.strip()]
    if isinstance(examples, list):  # Rasa's long form: a list of {text: ..., metadata: ...}
        return [_example_item(item, intent) for item in examples]
    raise ValueError(f'intent {intent!r}: "examples:" must be a "|" block of "- " lines')


def _example_line(line: str, intent: str) -> str:
    stripped = line.strip()
    if not stripped.startswith("- ") or not stripped[2:].strip():
        raise ValueError(f"intent {intent!r}: example line {stripped[:40]!r} must start with '- '")
    return strip_annotations(stripped[2:].strip())


def _example_item(item: Any, intent: str) -> str:
    if isinstance(item, dict) and isinstance(item.get("text"), str) and item["text"].strip():
        return strip_annotations(item["text"].strip())
    raise ValueError(f"intent {intent!r}: each example needs a non-empty text")


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
