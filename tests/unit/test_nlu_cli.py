"""`billbot nlu parse|predict|eval`, run through `register` on a fresh argparse parser."""

from __future__ import annotations

import argparse
import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.nlu.__main__ import main
from bot.nlu.cli import register
from intents.registry import default_registry

HELDOUT = Path(__file__).resolve().parents[1] / "data" / "nlu_heldout.jsonl"
INTENTS = default_registry().names
Run = tuple[int, str, str]
Runner = Callable[..., Run]


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Runner:
    def invoke(*argv: str, stdin: str = "") -> Run:
        parser = argparse.ArgumentParser(prog="billbot")
        register(parser.add_subparsers(dest="command", required=True))
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        args = parser.parse_args(list(argv))
        code = args.func(args)
        out, err = capsys.readouterr()
        return code, out, err

    return invoke


@pytest.fixture
def tiny_data(tmp_path: Path) -> Path:
    folder = tmp_path / "nlu"
    folder.mkdir()
    (folder / "nlu.yml").write_text(
        "nlu:\n- intent: pay_bill\n  examples: |\n    - pay my bill\n    - make a payment\n"
        "- intent: out_of_scope\n  examples: |\n    - hello\n    - tell me a joke\n",
        encoding="utf-8",
    )
    return folder


def _one_line(err: str) -> str:
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


# --- parse --------------------------------------------------------------------------------------


def test_parse_prints_intent_confidence_and_entities(run: Runner) -> None:
    code, out, err = run("nlu", "parse", "hi, block 202-555-0103 pls")
    assert code == 0 and err == ""
    assert "intent      bar_sim" in out
    assert "confidence  " in out
    assert "phone=+12025550103 ('202-555-0103')" in out


def test_parse_json(run: Runner) -> None:
    code, out, _ = run("nlu", "parse", "pay $20", "--json")
    data = json.loads(out)
    assert code == 0
    assert data["intent"] == "pay_bill"
    assert 0.40 <= data["confidence"] <= 1.0
    assert data["entities"] == [{"kind": "amount", "value": "20.00", "text": "$20"}]
    assert data["ranking"][0]["intent"] == "pay_bill"


def test_parse_of_junk_is_out_of_scope(run: Runner) -> None:
    code, out, _ = run("nlu", "parse", "😀😀", "--json")
    assert code == 0
    assert json.loads(out)["intent"] == "out_of_scope"


# --- predict ------------------------------------------------------------------------------------


def test_predict_writes_one_json_line_per_input_line(run: Runner) -> None:
    stdin = '{"text": "what do I owe"}\n\n{"text": "perdí mi teléfono", "id": 7}\n'
    code, out, err = run("nlu", "predict", stdin=stdin)
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and err == ""
    assert [(r["text"], r["intent"]) for r in rows] == [
        ("what do I owe", "balance"),
        ("perdí mi teléfono", "bar_sim"),
    ]
    assert all(set(r) == {"text", "intent", "confidence"} for r in rows)


def test_predict_reports_bad_lines_and_keeps_going(run: Runner) -> None:
    stdin = '{"text": "pay my bill"}\nnot json\n["a list"]\n{"text": 5}\n{"text": "hi"}\n'
    code, out, err = run("nlu", "predict", stdin=stdin)
    assert code == 2
    assert len(out.splitlines()) == 2
    assert err.splitlines() == [
        "billbot nlu predict: line 2: not valid JSON",
        "billbot nlu predict: line 3: expected a JSON object",
        'billbot nlu predict: line 4: "text" must be a string',
    ]


def test_predict_with_empty_input_prints_nothing(run: Runner) -> None:
    assert run("nlu", "predict", stdin="") == (0, "", "")


# --- eval ---------------------------------------------------------------------------------------


def test_eval_prints_accuracy_per_intent_scores_and_confusion(run: Runner) -> None:
    code, out, err = run("nlu", "eval", str(HELDOUT))
    assert code == 0 and err == ""
    assert out.startswith("accuracy  ")
    assert "macro F1" in out and "confusion" in out
    for intent in INTENTS:
        assert f"\n{intent} " in out


def test_eval_json(run: Runner) -> None:
    code, out, _ = run("nlu", "eval", str(HELDOUT), "--json")
    data = json.loads(out)
    assert code == 0
    assert data["total"] >= 250
    assert set(data["per_intent"]) == set(INTENTS)


def test_eval_min_accuracy_fails_with_exit_1(run: Runner, tiny_data: Path, tmp_path: Path) -> None:
    file = tmp_path / "gold.jsonl"
    file.write_text('{"text": "pay my bill", "label": "balance"}\n', encoding="utf-8")
    code, _, err = run("nlu", "eval", str(file), "--data", str(tiny_data), "--min-accuracy", "0.9")
    assert code == 1
    assert "below --min-accuracy" in _one_line(err)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "no examples"),
        ("\n\n", "no examples"),
        ('{"text": "hi", "label": "out_of_scope"}\n{oops\n', "gold.jsonl:2: not valid JSON"),
        ('{"text": "hi"}\n', 'gold.jsonl:1: "label" must be a string'),
        ('{"text": "hi", "label": "greet"}\n', "gold.jsonl:1: unknown label 'greet'"),
    ],
)
def test_eval_bad_input_exits_2_with_one_line(
    run: Runner, tiny_data: Path, tmp_path: Path, content: str, message: str
) -> None:
    file = tmp_path / "gold.jsonl"
    file.write_text(content, encoding="utf-8")
    code, out, err = run("nlu", "eval", str(file), "--data", str(tiny_data))
    assert (code, out) == (2, "")
    assert message in _one_line(err)


def test_eval_names_the_registry_intents_as_the_known_labels(run: Runner, tmp_path: Path) -> None:
    file = tmp_path / "gold.jsonl"
    file.write_text('{"text": "hi", "label": "greeting"}\n', encoding="utf-8")
    code, _, err = run("nlu", "eval", str(file))
    assert code == 2
    assert f"(known: {', '.join(INTENTS)})" in _one_line(err)


def test_eval_missing_file_exits_2(run: Runner, tmp_path: Path) -> None:
    code, _, err = run("nlu", "eval", str(tmp_path / "nope.jsonl"))
    assert code == 2
    assert "no such file" in _one_line(err)


def test_eval_of_a_binary_file_exits_2(run: Runner, tmp_path: Path) -> None:
    file = tmp_path / "gold.jsonl"
    file.write_bytes(b"\xff\xfe\x00garbage")
    code, _, err = run("nlu", "eval", str(file))
    assert code == 2
    assert "cannot read" in _one_line(err)


# --- model options ------------------------------------------------------------------------------


def test_malformed_training_folder_exits_2(run: Runner, tmp_path: Path) -> None:
    (tmp_path / "broken.yml").write_text("nlu: [oops\n", encoding="utf-8")
    code, _, err = run("nlu", "parse", "hi", "--data", str(tmp_path))
    assert code == 2
    assert "broken.yml" in _one_line(err)


def test_training_folder_teaching_an_unregistered_intent_exits_2(
    run: Runner, tmp_path: Path
) -> None:
    (tmp_path / "extra.yml").write_text(
        "nlu:\n- intent: greet\n  examples: |\n    - hello\n"
        "- intent: out_of_scope\n  examples: |\n    - tell me a joke\n",
        encoding="utf-8",
    )
    code, out, err = run("nlu", "parse", "hello", "--data", str(tmp_path))
    assert (code, out) == (2, "")
    assert "extra.yml: 'greet' is not a registered intent" in _one_line(err)


def test_threshold_outside_zero_to_one_exits_2(run: Runner) -> None:
    code, _, err = run("nlu", "parse", "hi", "--threshold", "2")
    assert code == 2
    assert "--threshold" in _one_line(err)


def test_custom_training_data_is_used(run: Runner, tiny_data: Path) -> None:
    code, out, _ = run("nlu", "parse", "pay the bill", "--data", str(tiny_data), "--json")
    assert code == 0
    assert {row["intent"] for row in json.loads(out)["ranking"]} == {"pay_bill", "out_of_scope"}


def test_python_dash_m_entry_point(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["parse", "what do I owe", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["intent"] == "balance"
