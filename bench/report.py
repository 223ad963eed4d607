"""The Markdown report `python -m bench` prints and writes to bench/results/latest.md."""

from __future__ import annotations

import os
import platform
import sys
from datetime import UTC, datetime

from bench.load import LoadResult
from bench.nlu import NluResult


def machine() -> str:
    """One line naming where the figures come from."""
    cpus = os.cpu_count()
    python = platform.python_version()
    return f"{platform.system()} {platform.machine()}, {cpus} CPU cores, Python {python}"


def render(chat: LoadResult, bare: LoadResult, nlu: NluResult | None, *, concurrency: int) -> str:
    """Both tables and the ratios, ready to paste into docs/benchmarks.md."""
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    parts = [
        "# billbot benchmark results",
        "",
        f"{stamp} · {machine()} · `{' '.join(['python -m bench', *sys.argv[1:]])}`",
        "",
        *load_table(chat, bare, concurrency=concurrency),
    ]
    if nlu is not None:
        parts += ["", *nlu_table(nlu, chat)]
    return "\n".join(parts) + "\n"


def load_table(chat: LoadResult, bare: LoadResult, *, concurrency: int) -> list[str]:
    """Throughput and latency of billbot's chat API next to the bare endpoint."""
    ratio = chat.per_second / bare.per_second if bare.per_second else 0.0
    return [
        f'## `POST /api/chat` "balance", {concurrency} concurrent {_clients(concurrency)}, '
        "uvicorn on 127.0.0.1",
        "",
        "| server | requests | errors | msg/s | p50 ms | p99 ms |",
        "|---|--:|--:|--:|--:|--:|",
        _load_row(chat),
        _load_row(bare),
        "",
        f"billbot serves **{ratio:.1%}** of the bare endpoint's throughput "
        f"(p50 latency ×{_times(chat.p50_ms, bare.p50_ms)}).",
        *_error_note(chat),
        *_error_note(bare),
    ]


def nlu_table(nlu: NluResult, chat: LoadResult) -> list[str]:
    """Training time and per-utterance parse latency, and its share of a chat message."""
    share = nlu.median_ms / chat.p50_ms if chat.p50_ms else 0.0
    return [
        f"## NLU: `NluModel.parse` over {nlu.utterances} held-out texts × {nlu.rounds} rounds",
        "",
        "| training s | parses | median ms | p99 ms | share of chat p50 |",
        "|--:|--:|--:|--:|--:|",
        f"| {nlu.train_seconds:.2f} | {len(nlu.latencies)} | {nlu.median_ms:.3f} "
        f"| {nlu.p99_ms:.3f} | {share:.2%} |",
    ]


def _error_note(result: LoadResult) -> list[str]:
    if not result.errors:
        return []
    kinds = ", ".join(f"{kind} × {count}" for kind, count in result.error_kinds)
    return ["", f"**{result.name}: {result.errors} failed requests** ({kinds})."]


def _load_row(result: LoadResult) -> str:
    return (
        f"| {result.name} | {result.requests} | {result.errors} | {result.per_second:.0f} "
        f"| {result.p50_ms:.1f} | {result.p99_ms:.1f} |"
    )


def _clients(count: int) -> str:
    return "client" if count == 1 else "clients"


def _times(value: float, baseline: float) -> str:
    return f"{value / baseline:.1f}" if baseline else "n/a"
