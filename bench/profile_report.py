"""Markdown for the profiles: SQL per message, cProfile in-process, py-spy under load."""

from __future__ import annotations

from collections.abc import Sequence

from bench.engine_profile import EngineProfile, Hotspot
from bench.pyspy import SampleProfile


def round_trip_table(engines: Sequence[EngineProfile]) -> list[str]:
    """Database work per "balance" message on each database, and its uncontended cost."""
    rows = []
    for engine in engines:
        per = engine.sql.per(engine.messages)
        rows.append(
            f"| {engine.database} | {per['statements']:.1f} | {per['transactions']:.1f} "
            f"| {per['commits']:.1f} | {per['rollbacks']:.1f} | {per['checkouts']:.1f} "
            f"| {per['round trips']:.1f} | {engine.wall_ms:.1f} | {engine.cpu_ms:.1f} "
            f"| {1000 / engine.wall_ms if engine.wall_ms else 0:.0f} "
            f"| {engine.concurrent_per_second:.0f} |"
        )
    return [
        '## Database work per "balance" message',
        "",
        f"`ConversationEngine.handle` in-process (no HTTP), {engines[0].messages} messages one "
        "at a time, counted with SQLAlchemy engine events; round trips = statements + BEGIN + "
        "COMMIT/ROLLBACK. Wall and CPU ms are per message one at a time; the last two columns "
        f"are messages per second one at a time and {engines[0].in_flight} at a time "
        "(in-process, so no HTTP and no load generator share the CPU).",
        "",
        "| database | statements | transactions | commits | rollbacks | connection checkouts "
        f"| ≈ round trips | wall ms | CPU ms | msg/s, 1 | msg/s, {engines[0].in_flight} |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
        *rows,
    ]


def engine_sections(engines: Sequence[EngineProfile]) -> list[str]:
    """Per database: the SQL of one message and, when profiled, cProfile's top entries."""
    parts: list[str] = []
    for engine in engines:
        parts += ["", f"### The SQL of one message on {engine.database}", "", "```text"]
        parts += [f"{n:2d}. {line}" for n, line in enumerate(engine.trace, 1)]
        parts += ["```"]
        if engine.hottest:
            parts += ["", *cprofile_section(engine)]
    return parts


def cprofile_section(engine: EngineProfile) -> list[str]:
    """Self time by part of the stack, the hottest functions, and billbot's own functions."""
    return [
        f"### cProfile of `handle`, {engine.database} (ms per message, profiler overhead "
        "included; the main thread only)",
        "",
        "| part of the stack | self ms | share |",
        "|---|--:|--:|",
        *category_rows(engine.categories),
        "",
        *hotspot_table("hottest functions (self time)", engine.hottest),
        "",
        *hotspot_table("billbot's functions (total time, callees included)", engine.ours),
    ]


def category_rows(categories: Sequence[tuple[str, float]]) -> list[str]:
    total = sum(ms for _, ms in categories) or 1.0
    return [f"| {name} | {ms:.2f} | {ms / total:.1%} |" for name, ms in categories if ms >= 0.01]


def hotspot_table(title: str, rows: Sequence[Hotspot]) -> list[str]:
    return [
        f"| {title} | calls (coroutines: resumes) | self ms | total ms |",
        "|---|--:|--:|--:|",
        *(
            f"| `{row.where}` | {row.calls:.1f} | {row.self_ms:.2f} | {row.total_ms:.2f} |"
            for row in rows
        ),
    ]


def sample_sections(samples: Sequence[tuple[str, SampleProfile]]) -> list[str]:
    """py-spy under the wrk load: where the server's CPU went."""
    parts: list[str] = []
    for database, profile in samples:
        busy = profile.samples / (profile.seconds * profile.rate) if profile.seconds else 0.0
        parts += [
            "",
            f"### py-spy of the billbot server under load, {database}",
            "",
            f"{profile.samples} busy samples over {profile.seconds:.0f} s at {profile.rate} Hz "
            f"(≈ {busy:.0%} of one core; threads add up), {profile.waiting} more in a wait, "
            "left out.",
            "",
            *sample_table("part of the stack (running frame)", profile.categories, profile),
            "",
            *sample_table("hottest functions (self)", profile.hottest, profile, code=True),
            "",
            *sample_table("billbot's functions (on the stack)", profile.ours, profile, code=True),
        ]
    return parts


def sample_table(
    title: str, rows: Sequence[tuple[str, int]], profile: SampleProfile, *, code: bool = False
) -> list[str]:
    quote = "`" if code else ""
    return [
        f"| {title} | samples | share |",
        "|---|--:|--:|",
        *(
            f"| {quote}{name}{quote} | {count} | {profile.share(count):.1%} |"
            for name, count in rows
        ),
    ]
