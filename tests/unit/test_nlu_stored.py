"""The fitted model kept on disk: loaded when the examples are the same, trained afresh when
they change, and a damaged file never stops start-up (bot/nlu/stored.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bot.nlu import NluModel, stored

EXAMPLES = [
    ("what do i owe", "balance"),
    ("my balance please", "balance"),
    ("how much is my bill", "balance"),
    ("block my sim", "bar_sim"),
    ("my phone was stolen", "bar_sim"),
    ("lost my phone block it", "bar_sim"),
    ("tell me a joke", "out_of_scope"),
    ("what is the weather", "out_of_scope"),
]
LABELS = ("balance", "bar_sim", "out_of_scope")


def _train(folder: Path, examples: list[tuple[str, str]] = EXAMPLES) -> NluModel:
    return NluModel.train(examples, labels=LABELS, cache_dir=folder)


def test_a_second_start_up_loads_the_stored_fit_and_parses_the_same(tmp_path: Path) -> None:
    first = _train(tmp_path)
    (stored_file,) = tmp_path.glob("nlu-*.pickle")

    second = _train(tmp_path)

    assert second.parse("my phone got stolen") == first.parse("my phone got stolen")
    assert list(tmp_path.glob("nlu-*.pickle")) == [stored_file]


def test_changed_examples_train_afresh_and_replace_the_old_fit(tmp_path: Path) -> None:
    _train(tmp_path)
    (old,) = tmp_path.glob("nlu-*.pickle")

    _train(tmp_path, [*EXAMPLES, ("sim blocked please", "bar_sim")])

    (new,) = tmp_path.glob("nlu-*.pickle")
    assert new != old


def test_a_damaged_file_is_ignored_and_replaced(tmp_path: Path) -> None:
    first = _train(tmp_path)
    (path,) = tmp_path.glob("nlu-*.pickle")
    path.write_bytes(b"not a pickle")

    again = _train(tmp_path)

    assert again.parse("block my sim").intent == first.parse("block my sim").intent == "bar_sim"
    assert stored.load(tmp_path, path.stem.removeprefix("nlu-")) is not None


def test_an_unwritable_folder_only_costs_a_fit(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")

    model = _train(blocker / "nlu")

    assert model.parse("what do i owe").intent == "balance"


def test_loading_a_stored_fit_never_imports_scikit_learn(tmp_path: Path) -> None:
    _train(tmp_path)  # trains (scikit-learn) and stores
    program = (
        "import sys\n"
        "from pathlib import Path\n"
        "from bot.nlu import NluModel\n"
        f"examples = {EXAMPLES!r}\n"
        f"model = NluModel.train(examples, labels={LABELS!r}, cache_dir=Path(sys.argv[1]))\n"
        "assert model.parse('my phone got stolen').intent == 'bar_sim'\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in {'sklearn', 'scipy'}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", program, str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert done.stdout.strip() == "[]"
