"""The Markdown report `python -m bench` prints and writes to bench/results/latest.md."""

from __future__ import annotations

import os
import platform
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from bench.engine_profile import EngineProfile
from bench.nlu import NluResult
from bench.profile_report import engine_sections, round_trip_table, sample_sections
from bench.pyspy import SampleProfile
from bench.results import TARGET_P99_MS, TARGET_RATIO, LoadResult, Outcome, meets_target, ratio


@dataclass(frozen=True, slots=True)
class RunShape:
    """How the load was driven, for the report's header."""

    client: str  # "wrk, 2 threads" or the fallback's label
    connections: int
    seconds: float
    warmup_seconds: float
    sessions: int


@dataclass(slots=True)
class Report:
    """Everything one run measured."""

    shape: RunShape
    outcomes: list[Outcome] = field(default_factory=list)
    engines: list[EngineProfile] = field(default_factory=list)
    samples: list[tuple[str, SampleProfile]] = field(default_factory=list)  # (database, …)
    notes: list[str] = field(default_factory=list)
    nlu: NluResult | None = None

    @property
    def failed(self) -> bool:
        return any(outcome.failed for outcome in self.outcomes)

    def baseline(self) -> LoadResult | None:
        return next((o.result for o in self.outcomes if o.database == "-" and o.result), None)

    def targets_met(self) -> bool:
        """Every billbot database that ran met the target (False when none ran)."""
        bare = self.baseline()
        billbot = [o.result for o in self.outcomes if o.database != "-" and o.result]
        return bare is not None and bool(billbot) and all(meets_target(r, bare) for r in billbot)


def machine() -> str:
    """One line naming where the figures come from, and how busy the machine was."""
    cpus = os.cpu_count()
    python = platform.python_version()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (
        f"{platform.system()} {platform.machine()}, {cpus} CPU cores, Python {python}, "
        f"load average {load:.1f} at the end"
    )


def render(report: Report) -> str:
    """The whole report, ready to paste into docs/benchmarks.md."""
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    command = " ".join(["python -m bench", *sys.argv[1:]])
    parts = ["# billbot benchmark results", "", f"{stamp} · {machine()} · `{command}`", ""]
    parts += load_section(report)
    if report.engines:
        parts += ["", *round_trip_table(report.engines)]
    parts += engine_sections(report.engines)
    parts += sample_sections(report.samples)
    if report.nlu is not None:
        parts += ["", *nlu_table(report.nlu, message_ms(report))]
    if report.notes:
        parts += ["", *(f"- {note}" for note in report.notes)]
    return "\n".join(parts) + "\n"


def load_section(report: Report) -> list[str]:
    """The throughput table, the target verdict and any failures."""
    shape, bare = report.shape, report.baseline()
    return [
        f'## `POST /api/chat` "balance": {shape.connections} connections, '
        "one uvicorn worker per server",
        "",
        f"Load: {shape.client}; {shape.seconds:.0f} s per server after a "
        f"{shape.warmup_seconds:.0f} s warm-up; every request continues one of "
        f"{shape.sessions} chat sessions opened during the warm-up.",
        "",
        "| server | database | requests | errors | msg/s | p50 ms | p99 ms | ratio to bare "
        "| target |",
        "|---|---|--:|--:|--:|--:|--:|--:|---|",
        *(outcome_row(outcome, bare) for outcome in report.outcomes),
        "",
        target_line(report.outcomes, bare),
        *error_notes(report.outcomes),
    ]


def outcome_row(outcome: Outcome, bare: LoadResult | None) -> str:
    head = f"| {outcome.server} | {outcome.database} "
    result = outcome.result
    if result is None:
        return head + f"| {'failed' if outcome.broken else 'skipped'}: {outcome.note} |||||||"
    is_bare = outcome.database == "-"
    share = "1.000" if is_bare else (f"{ratio(result, bare):.3f}" if bare else "n/a")
    verdict = (
        "" if is_bare or bare is None else ("met" if meets_target(result, bare) else "missed")
    )
    return (
        head + f"| {result.requests} | {result.errors} | {result.per_second:.0f} "
        f"| {result.p50_ms:.1f} | {result.p99_ms:.1f} | {share} | {verdict} |"
    )


def target_line(outcomes: Sequence[Outcome], bare: LoadResult | None) -> str:
    """One sentence per billbot database: met or missed, and by what."""
    rule = (
        f"**Target**: ≥ {TARGET_RATIO:.2f} of the bare endpoint's throughput with p99 ≤ "
        f"{TARGET_P99_MS:.0f} ms and no failed request"
    )
    if bare is None:
        return rule + ": not judged (the bare endpoint did not run)."
    verdicts = []
    for outcome in outcomes:
        result = outcome.result
        if outcome.database == "-":
            continue
        if result is None:
            verdicts.append(f"{outcome.database} not measured")
            continue
        word = "met" if meets_target(result, bare) else "missed"
        verdicts.append(
            f"{outcome.database} **{word}** ({ratio(result, bare):.3f}, "
            f"p99 {result.p99_ms:.0f} ms, {errors(result.errors)})"
        )
    return rule + ": " + "; ".join(verdicts) + "."


def errors(count: int) -> str:
    return "1 error" if count == 1 else f"{count} errors"


def error_notes(outcomes: Sequence[Outcome]) -> list[str]:
    notes = []
    for outcome in outcomes:
        if outcome.result and outcome.result.errors:
            result = outcome.result
            kinds = ", ".join(f"{kind} × {count}" for kind, count in result.error_kinds)
            first = f" First: `{result.first_failure}`" if result.first_failure else ""
            notes.append(
                f"**{outcome.server} ({outcome.database}): failed requests** ({kinds}).{first}"
            )
    return ["", *notes] if notes else []


def message_ms(report: Report) -> tuple[float, str] | None:
    """What the NLU's share is taken of: one uncontended message, in-process."""
    if report.engines:
        engine = report.engines[0]
        return engine.wall_ms, f"of a message in-process ({engine.database})"
    return None


def nlu_table(nlu: NluResult, message: tuple[float, str] | None) -> list[str]:
    """Training time and per-utterance parse latency, and its share of a chat message."""
    share = f"{nlu.median_ms / message[0]:.2%} {message[1]}" if message and message[0] else "n/a"
    return [
        f"## NLU: `NluModel.parse` over {nlu.utterances} held-out texts × {nlu.rounds} rounds",
        "",
        "| training s | parses | median ms | p99 ms | median parse as a share |",
        "|--:|--:|--:|--:|---|",
        f"| {nlu.train_seconds:.2f} | {len(nlu.latencies)} | {nlu.median_ms:.3f} "
        f"| {nlu.p99_ms:.3f} | {share} |",
    ]
