"""NLU cost: training time and per-utterance parse latency over the held-out texts."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

from bench.load import percentile

HELDOUT = Path(__file__).resolve().parent.parent / "tests" / "data" / "nlu_heldout.jsonl"


@dataclass(frozen=True, slots=True)
class NluResult:
    """Training seconds and parse latencies (seconds) over `utterances` texts × `rounds`."""

    train_seconds: float
    utterances: int
    rounds: int
    latencies: tuple[float, ...]

    @property
    def median_ms(self) -> float:
        """Median parse time in milliseconds."""
        return percentile(self.latencies, 50) * 1000

    @property
    def p99_ms(self) -> float:
        """99th percentile parse time in milliseconds."""
        return percentile(self.latencies, 99) * 1000


def heldout_texts(path: Path = HELDOUT) -> list[str]:
    """The `text` of every JSON line of the held-out set."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["text"] for line in lines if line.strip()]


def run_nlu(*, rounds: int = 5) -> NluResult:
    """Train the model as start-up does, then time `classify` (an unremembered `parse`) on
    each held-out text."""
    from bot.bootstrap import build_nlu  # imported here: import time is not parse time
    from bot.settings import Settings

    started = time.perf_counter()
    model = build_nlu(Settings())
    train_seconds = time.perf_counter() - started
    texts = heldout_texts()
    latencies = []
    for _ in range(rounds):
        for text in texts:
            t0 = time.perf_counter()
            model.classify(text)  # never the remembered result: each text costs in full
            latencies.append(time.perf_counter() - t0)
    return NluResult(train_seconds, len(texts), rounds, tuple(latencies))
