"""`billbot nlu parse|predict|eval|cv`, run through `register` on a fresh argparse parser.

The commands get their model from a builder that trains each distinct model once per test run
(the real `build_nlu`, remembered); `python -m bot.nlu` is run once with the default builder.
"""

from __future__ import annotations

import argparse
import io
import json
from collections.abc import Callable
from functools import cache, partial
from pathlib import Path

import pytest

from bot.bootstrap import build_nlu
from bot.nlu import NluModel
from bot.nlu.__main__ import main
from bot.nlu.cli import ModelBuilder, register
from bot.nlu.crossval import cross_validate
from bot.settings import Settings
from intents.registry import default_registry

HELDOUT = Path(__file__).resolve().parents[1] / "data" / "nlu_heldout.jsonl"
INTENTS = default_registry().names
Run = tuple[int, str, str]
Runner = Callable[..., Run]


@cache
def _trained(threshold: float, region: str, data: Path | None) -> NluModel:
    return build_nlu(Settings(nlu_threshold=threshold, default_region=region), data=data)


@pytest.fixture
def build_once(nlu_model: NluModel) -> ModelBuilder:
    """`build_nlu`, but each distinct model is trained once per test run (the default one is
    the session's `nlu_model`)."""

    def build(settings: Settings, *, data: Path | None) -> NluModel:
        if (settings.nlu_threshold, settings.default_region, data) == (
            nlu_model.threshold,
            nlu_model.default_region,
            None,
        ):
            return nlu_model
        return _trained(settings.nlu_threshold, settings.default_region, data)

    return build


@pytest.fixture
def run(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], build_once: ModelBuilder
) -> Runner:
    def invoke(*argv: str, stdin: str = "") -> Run:
        parser = argparse.ArgumentParser(prog="billbot")
        register(parser.add_subparsers(dest="command", required=True), build=build_once)
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


@pytest.fixture
def small_data(tmp_path: Path) -> Path:
    """Three intents, six examples each: enough to fold, quick to train."""
    folder = tmp_path / "small"
    folder.mkdir()
    intents = {
        "balance": ["what do I owe", "my balance", "how much do i owe", "amount due",
                    "current balance", "cuanto debo"],
        "pay_bill": ["pay my bill", "make a payment", "pay now", "i want to pay",
                     "settle my bill", "quiero pagar"],
        "out_of_scope": ["hello", "tell me a joke", "weather today", "who are you",
                         "good morning", "sing a song"],
    }  # fmt: skip
    text = "nlu:\n" + "".join(
        f"- intent: {name}\n  examples: |\n" + "".join(f"    - {e}\n" for e in examples)
        for name, examples in intents.items()
    )
    (folder / "nlu.yml").write_text(text, encoding="utf-8")
    return folder


def _heldout_labels() -> set[str]:
    with HELDOUT.open(encoding="utf-8") as lines:
        return {json.loads(line)["label"] for line in lines if line.strip()}


def _gold(tmp_path: Path, *rows: dict[str, object]) -> Path:
    file = tmp_path / "gold.jsonl"
    file.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return file


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
    assert json.loads(out)["did_you_mean"] == []


def test_parse_offers_the_two_best_on_a_close_call(run: Runner, tmp_path: Path) -> None:
    # Two intents taught the same words: "my" is as much one as the other
    (tmp_path / "twins.yml").write_text(
        "nlu:\n- intent: balance\n  examples: |\n    - my card\n    - my\n"
        "- intent: pay_bill\n  examples: |\n    - my card\n    - my\n"
        "- intent: out_of_scope\n  examples: |\n    - hello\n    - good day\n",
        encoding="utf-8",
    )
    code, out, _ = run("nlu", "parse", "my", "--data", str(tmp_path), "--json")
    data = json.loads(out)
    assert code == 0
    assert {row["intent"] for row in data["did_you_mean"]} == {"balance", "pay_bill"}
    assert data["did_you_mean"] == data["ranking"][:2]
    (first, p), (second, q) = ((row["intent"], row["confidence"]) for row in data["did_you_mean"])
    assert p == pytest.approx(q)
    code, out, _ = run("nlu", "parse", "my", "--data", str(tmp_path))
    assert f"close call  {first} {p:.2f} or {second} {q:.2f}" in out


def test_parse_names_no_close_call_for_a_clear_winner(run: Runner, small_data: Path) -> None:
    code, out, _ = run("nlu", "parse", "pay my bill now", "--data", str(small_data))
    assert code == 0
    assert "close call  -" in out


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
    assert "macro F1" in out and "confusions (expected → predicted: count" in out
    assert "out_of_scope  recall " in out and "turned-away messages were off-topic" in out
    assert "worst mistakes (" in out and "most confident of " in out
    for intent in _heldout_labels():
        assert f"\n{intent} " in out


def test_eval_prints_start_up_and_parse_latency(run: Runner) -> None:
    code, out, _ = run("nlu", "eval", str(HELDOUT))
    assert code == 0
    assert "\nstart-up      " in out
    assert "\nmodel         words (TF-IDF, logistic regression); below 0.90 their meaning " in out
    assert "\nparse         median " in out and " p95 " in out and " p99 " in out
    assert "utterances × 2, warm" in out  # 711 held-out lines: two rounds reach 1,000 timings


def test_eval_json(run: Runner) -> None:
    code, out, _ = run("nlu", "eval", str(HELDOUT), "--json")
    data = json.loads(out)
    assert code == 0
    assert data["total"] >= 250
    assert _heldout_labels() <= set(data["per_intent"]) <= set(INTENTS)
    assert len(data["worst_mistakes"]) == min(15, len(data["mistakes"]))
    assert data["out_of_scope"] == data["per_intent"]["out_of_scope"]
    latency = data["latency"]
    assert latency["utterances"] == data["total"]
    assert 0 < latency["median_ms"] <= latency["p95_ms"] <= latency["p99_ms"] <= latency["max_ms"]
    assert latency["startup_seconds"] >= 0
    assert data["encoder"] == "all-MiniLM-L6-v2-int8" and data["meaning_gate"] == 0.9
    assert "thresholds" not in data


def test_eval_worst_sets_how_many_mistakes_are_shown(
    run: Runner, small_data: Path, tmp_path: Path
) -> None:
    file = _gold(
        tmp_path,
        *(
            {"text": text, "label": "pay_bill"}
            for text in ("what do I owe", "my balance", "hello")
        ),
    )
    code, out, _ = run("nlu", "eval", str(file), "--data", str(small_data), "--worst", "2")
    assert code == 0
    assert "worst mistakes (2 most confident of 3)" in out and "… and 1 more" in out
    code, out, _ = run(
        "nlu", "eval", str(file), "--data", str(small_data), "--worst", "1", "--json"
    )
    assert len(json.loads(out)["worst_mistakes"]) == 1 and len(json.loads(out)["mistakes"]) == 3


def test_eval_refuses_a_negative_worst(run: Runner, small_data: Path, tmp_path: Path) -> None:
    file = _gold(tmp_path, {"text": "hi", "label": "out_of_scope"})
    code, _, err = run("nlu", "eval", str(file), "--data", str(small_data), "--worst", "-1")
    assert code == 2
    assert "--worst" in _one_line(err)


def test_eval_ignores_a_second_intent_for_scoring(
    run: Runner, small_data: Path, tmp_path: Path
) -> None:
    file = _gold(
        tmp_path,
        {"text": "pay my bill", "label": "pay_bill", "also": "balance"},
        {"text": "what do I owe", "label": "balance", "also": ["not", "a", "string"]},
        {"text": "hello", "label": "out_of_scope", "also": "greeting-not-a-label"},
    )
    code, out, err = run("nlu", "eval", str(file), "--data", str(small_data), "--json")
    data = json.loads(out)
    assert (code, err) == (0, "")
    assert data["accuracy"] == 1.0
    assert data["second_intents"] == {"lines": 2, "mistakes": 0, "answered_the_other": 0}


def test_eval_thresholds_table(run: Runner) -> None:
    code, out, _ = run("nlu", "eval", str(HELDOUT), "--thresholds", "--threshold", "0.4")
    assert code == 0
    table = out[out.index("out-of-scope threshold") :].splitlines()
    assert table[1].split() == ["threshold", "oos", "prec", "oos", "rec", "in-scope", "acc",
                                "in-scope", "F1", "accuracy", "macro", "F1"]  # fmt: skip
    assert [line.split()[0] for line in table[2:]] == [f"{0.20 + 0.05 * n:.2f}" for n in range(13)]
    assert "← current" in next(line for line in table if line.lstrip().startswith("0.40"))


def test_eval_thresholds_json_includes_the_model_threshold(
    run: Runner, small_data: Path, tmp_path: Path
) -> None:
    file = _gold(
        tmp_path,
        *({"text": t, "label": "balance"} for t in ("what do i owe", "my balance due", "pay")),
        *({"text": t, "label": "out_of_scope"} for t in ("hi there", "tell me a story")),
    )
    args = ("--data", str(small_data), "--threshold", "0.42", "--thresholds", "--json")
    code, out, _ = run("nlu", "eval", str(file), *args)
    data = json.loads(out)
    assert code == 0
    assert data["threshold"] == 0.42
    rows = {row["threshold"]: row for row in data["thresholds"]}
    assert sorted(rows) == sorted({round(0.20 + 0.05 * n, 2) for n in range(13)} | {0.42})
    assert (rows[0.42]["accuracy"], rows[0.42]["macro_f1"]) == (data["accuracy"], data["macro_f1"])


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


# --- cv -----------------------------------------------------------------------------------------


def test_cv_prints_mean_and_spread_per_intent(run: Runner, small_data: Path) -> None:
    code, out, err = run("nlu", "cv", "--data", str(small_data), "--folds", "3")
    assert (code, err) == (0, "")
    assert out.startswith("3-fold cross-validation on 18 training examples (stratified, seed 0)")
    assert "macro F1  " in out and " ± " in out
    for intent in ("balance", "pay_bill", "out_of_scope"):
        assert f"\n{intent} " in out


def test_cv_json_is_the_same_every_run(run: Runner, small_data: Path) -> None:
    first = run("nlu", "cv", "--data", str(small_data), "--folds", "3", "--json")
    second = run("nlu", "cv", "--data", str(small_data), "--folds", "3", "--json")
    assert first == second
    data = json.loads(first[1])
    assert (data["folds"], data["seed"], data["examples"]) == (3, 0, 18)
    assert len(data["fold_macro_f1"]) == 3
    assert set(data["per_intent_f1"]) == {"balance", "pay_bill", "out_of_scope"}


def test_cv_thresholds_sweep_every_example_once_out_of_fold(run: Runner, small_data: Path) -> None:
    args = ("--data", str(small_data), "--folds", "3", "--threshold", "0.42")
    code, out, err = run("nlu", "cv", *args, "--thresholds", "--json")
    assert (code, err) == (0, "")
    rows = {row["threshold"]: row for row in json.loads(out)["thresholds"]}
    assert 0.42 in rows and 0.2 in rows and 0.8 in rows
    # a higher threshold turns more parses away: out-of-scope recall never falls
    recalls = [rows[t]["oos_recall"] for t in sorted(rows)]
    assert recalls == sorted(recalls)

    code, text, _ = run("nlu", "cv", *args, "--thresholds")
    assert code == 0
    assert "out-of-scope threshold" in text and "current" in text


def test_cv_pools_one_prediction_per_example() -> None:
    examples = [(f"pay my bill {n}", "pay_bill") for n in ("now", "today", "please")]
    examples += [(f"what do i owe {n}", "balance") for n in ("now", "today", "please")]
    examples += [(f"tell me a joke {n}", "out_of_scope") for n in ("now", "today", "please")]
    labels = ("balance", "pay_bill", "out_of_scope")
    result = cross_validate(examples, partial(NluModel.train, labels=labels), folds=3)
    assert sorted(p.text for p in result.predictions) == sorted(text for text, _ in examples)


@pytest.mark.parametrize(
    ("folds", "message"), [("1", "--folds must be at least 2"), ("19", "folds must be between")]
)
def test_cv_refuses_impossible_folds(
    run: Runner, small_data: Path, folds: str, message: str
) -> None:
    code, out, err = run("nlu", "cv", "--data", str(small_data), "--folds", folds)
    assert (code, out) == (2, "")
    assert message in _one_line(err)


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
