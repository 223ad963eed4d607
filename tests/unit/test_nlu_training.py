"""Training data: Rasa nlu.yml loading, clear errors, and the quality of billbot's own files."""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path

import pytest

from bot.flow import Intent
from bot.nlu import OUT_OF_SCOPE, NluModel, load_labelled_files, load_training_data
from bot.nlu.model import prepare
from bot.nlu.training import load_file, strip_annotations
from bot.registry import Registry
from intents.registry import default_registry

REGISTRY = default_registry()
INTENTS = REGISTRY.names


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_reads_every_yml_file_in_name_order(tmp_path: Path) -> None:
    _write(
        tmp_path, "b.yml", 'version: "3.1"\nnlu:\n- intent: usage\n  examples: |\n    - data?\n'
    )
    _write(tmp_path, "a.yml", "nlu:\n- intent: balance\n  examples: |\n    - what do I owe\n")
    _write(tmp_path, "notes.txt", "not training data")
    assert load_training_data(tmp_path) == [("what do I owe", "balance"), ("data?", "usage")]


def test_several_intents_in_one_file(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "nlu.yml",
        "nlu:\n"
        "- intent: balance\n  examples: |\n    - my balance\n    - what do I owe\n"
        "- intent: pay_bill\n  examples: |\n    - pay now\n",
    )
    assert load_training_data(tmp_path) == [
        ("my balance", "balance"),
        ("what do I owe", "balance"),
        ("pay now", "pay_bill"),
    ]


def test_rasa_entity_annotations_become_plain_text(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "nlu.yml",
        "nlu:\n- intent: bar_sim\n  examples: |\n"
        "    - block [202-555-0103](phone) now\n"
        '    - bar the line of [Jordan]{"entity": "name", "role": "holder"}\n'
        "    - pay [twenty](amount:20) dollars\n",
    )
    assert [text for text, _ in load_training_data(tmp_path)] == [
        "block 202-555-0103 now",
        "bar the line of Jordan",
        "pay twenty dollars",
    ]


def test_strip_annotations_leaves_ordinary_brackets_alone() -> None:
    assert strip_annotations("option [2] or (3)") == "option [2] or (3)"


def test_rasa_long_form_examples_and_other_item_kinds(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "nlu.yml",
        "nlu:\n"
        "- synonym: bill\n  examples: |\n    - invoice\n"
        "- regex: account_number\n  examples: |\n    - \\d{8}\n"
        "- lookup: city\n  examples: |\n    - Madrid\n"
        "- intent: invoice\n  examples:\n"
        "  - text: my last bill\n    metadata: {sentiment: neutral}\n",
    )
    assert load_training_data(tmp_path) == [("my last bill", "invoice")]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("nlu: [unclosed\n", "not valid YAML"),
        ("- just a list\n", '"nlu:" list'),
        ("version: '3.1'\n", '"nlu:" list'),
        ("nlu:\n- examples: |\n    - hi\n", 'no "intent:"'),
        ("nlu:\n- intent: balance\n  examples: 42\n", '"examples:"'),
        ("nlu:\n- intent: balance\n  examples: |\n    what do I owe\n", "must start with '- '"),
        ("nlu:\n- intent: balance\n  examples:\n  - meta: 1\n", "non-empty text"),
    ],
)
def test_malformed_files_name_the_file(tmp_path: Path, content: str, message: str) -> None:
    _write(tmp_path, "broken.yml", content)
    with pytest.raises(ValueError, match=r"broken\.yml") as caught:
        load_training_data(tmp_path)
    assert message in str(caught.value)


def test_undecodable_file_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "latin1.yml").write_bytes(b"nlu:\n- intent: balance\n  examples: |\n    - \xff\n")
    with pytest.raises(ValueError, match=r"latin1\.yml"):
        load_training_data(tmp_path)


def test_missing_or_empty_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"no \*\.yml"):
        load_training_data(tmp_path)
    with pytest.raises(ValueError, match="not a folder"):
        load_training_data(tmp_path / "missing")


# --- training from a registry ------------------------------------------------------------------


def _intent(intent_name: str, file: Path | None) -> Intent:
    class Declared(Intent):
        name = intent_name
        training_file = file

    return Declared()


def _tiny_registry(folder: Path, extra: str = "") -> Registry:
    pay = _write(folder, "pay.yml", "nlu:\n- intent: pay\n  examples: |\n    - pay my bill\n")
    other = _write(
        folder,
        "other.yml",
        "nlu:\n- intent: out_of_scope\n  examples: |\n    - tell me a joke\n    - hello\n" + extra,
    )
    return Registry(
        [_intent("pay", pay), _intent("menu_only", None), _intent(OUT_OF_SCOPE, other)]
    )


def test_a_registry_gives_the_model_its_labels_and_training_files(tmp_path: Path) -> None:
    model = NluModel.from_registry(_tiny_registry(tmp_path))
    assert model.labels == ("pay", "menu_only", OUT_OF_SCOPE)
    assert model.parse("pay the bill please").intent == "pay"


def test_a_registered_intent_without_a_training_file_is_never_predicted(tmp_path: Path) -> None:
    model = NluModel.from_registry(_tiny_registry(tmp_path))
    assert {name for name, _ in model.parse("pay my bill").ranking} == {"pay", OUT_OF_SCOPE}


def test_a_training_file_naming_an_unregistered_intent_is_refused_by_name(
    tmp_path: Path,
) -> None:
    registry = _tiny_registry(tmp_path, "- intent: greet\n  examples: |\n    - hi there\n")
    with pytest.raises(ValueError, match=r"other\.yml: 'greet' is not a registered intent"):
        NluModel.from_registry(registry)


def test_a_missing_training_file_is_refused_by_name(tmp_path: Path) -> None:
    registry = Registry([_intent("pay", tmp_path / "gone.yml"), _intent(OUT_OF_SCOPE, None)])
    with pytest.raises(ValueError, match=r"gone\.yml: no such training file"):
        NluModel.from_registry(registry)


def test_labelled_files_list_every_unknown_intent(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "mixed.yml",
        "nlu:\n- intent: greet\n  examples: |\n    - hi\n"
        "- intent: bye\n  examples: |\n    - ciao\n",
    )
    with pytest.raises(ValueError, match=r"mixed\.yml: 'bye', 'greet' are not registered intents"):
        load_labelled_files([path], INTENTS)


# --- billbot's own training files ---------------------------------------------------------------


@pytest.fixture(scope="module")
def shipped() -> list[tuple[str, str]]:
    return load_labelled_files(REGISTRY.training_files, INTENTS)


def test_one_file_per_intent_holding_only_that_intent() -> None:
    for path in REGISTRY.training_files:
        assert {intent for _, intent in load_file(path)} == {path.stem}


def test_every_intent_has_enough_varied_examples(shipped: list[tuple[str, str]]) -> None:
    counts = Counter(intent for _, intent in shipped)
    assert set(counts) == set(INTENTS)
    for intent in INTENTS:
        if intent != OUT_OF_SCOPE:  # the catch-all needs more: it stands for everything else
            # Many phrasings each (issue 10: how people really text), but no intent may
            # drown the others: at most ~5× the smallest.
            assert 60 <= counts[intent] <= 600, intent
    assert counts[OUT_OF_SCOPE] >= 120


def test_every_intent_has_spanish_examples(shipped: list[tuple[str, str]]) -> None:
    spanish = {"quiero", "mi", "cuanto", "cuantos", "tengo", "hola", "factura", "me", "por"}
    for intent in INTENTS:
        texts = [prepare(text).split() for text, label in shipped if label == intent]
        assert sum(bool(spanish & set(words)) for words in texts) >= 8, intent


def test_no_example_is_listed_under_two_intents(shipped: list[tuple[str, str]]) -> None:
    labels: defaultdict[str, set[str]] = defaultdict(set)
    for text, intent in shipped:
        labels[prepare(text)].add(intent)
    assert {text: found for text, found in labels.items() if len(found) > 1} == {}


def test_no_example_is_a_duplicate_or_empty_after_normalisation(
    shipped: list[tuple[str, str]],
) -> None:
    counts = Counter(prepare(text) for text, _ in shipped)
    assert [text for text, n in counts.items() if n > 1] == []
    assert "" not in counts
