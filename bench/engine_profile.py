"""Where a "balance" message's time goes inside billbot: `ConversationEngine.handle` in-process.

The engine is built by the composition root (`bot.bootstrap.build_services`) on a database
already seeded like `billbot demo`. Messages are handled one at a time (no HTTP, no
contention), so wall time minus CPU time is mostly time spent waiting on the database; then
as many again with `in_flight` at a time, which shows what contention alone costs (locks,
the connection pool, SQLite's single writer) without HTTP or a load generator.
"""

from __future__ import annotations

import asyncio
import cProfile
import pstats
import time
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from bench.categories import category, is_ours, short_path
from bench.sessions import ALEX
from bench.sqlcount import SqlCounter, SqlCounts

if TYPE_CHECKING:
    from bot.services import Services
    from bot.types import InboundMessage

SESSIONS = 8  # messages cycle through a few sessions, each opened during the warm-up
WARMUP_MESSAGES = 16
TOP = 20


@dataclass(frozen=True, slots=True)
class Hotspot:
    """One profiled function: `self_ms` in its own body, `total_ms` with its callees."""

    where: str  # "function (path:line)", or the C function's name
    filename: str  # "" for C functions
    calls: float  # per message
    self_ms: float  # per message
    total_ms: float  # per message


@dataclass(frozen=True, slots=True)
class EngineProfile:
    """Per-message costs of "balance" measured in-process on one database."""

    database: str
    messages: int
    wall_ms: float  # per message, without the profiler
    cpu_ms: float  # per message: process CPU time (all threads), without the profiler
    sql: SqlCounts  # totals over `messages`
    trace: tuple[str, ...]  # the SQL of one message, in order
    in_flight: int  # messages at a time in the concurrent batch
    concurrent_per_second: float  # messages per second of the concurrent batch
    categories: tuple[tuple[str, float], ...] = ()  # self ms per message, by category
    hottest: tuple[Hotspot, ...] = ()  # by self time
    ours: tuple[Hotspot, ...] = ()  # billbot's own functions, by total time


async def profile_engine(
    database: str,
    env: Mapping[str, str],
    *,
    messages: int,
    in_flight: int = 32,
    with_cprofile: bool = False,
) -> EngineProfile:
    """Time and count SQL over `messages` messages, time as many `in_flight` at a time; with
    `with_cprofile`, profile as many more one at a time."""
    from bot.bootstrap import build_services  # billbot's imports only where they are used
    from bot.settings import Settings

    services = await build_services(Settings.from_env(env))
    try:
        sessions = [f"bench-profile-{i:03d}" for i in range(max(SESSIONS, in_flight))]
        await handle_many(services, sessions, max(WARMUP_MESSAGES, len(sessions)))
        engines = getattr(services.transactions, "engines", ())
        direct = getattr(services.transactions, "direct", None)
        with SqlCounter(services.db, *engines, direct=direct) as counter:
            wall0, cpu0 = time.perf_counter(), time.process_time()
            await handle_many(services, sessions, messages)
            wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
            totals = counter.reset()
            await handle_many(services, sessions, 1)
            trace = tuple(counter.counts.trace)
        rate = await concurrent_rate(services, sessions, messages, in_flight)
        per = 1000 / messages
        result = EngineProfile(
            database, messages, wall * per, cpu * per, totals, trace, in_flight, rate
        )
        if with_cprofile:
            result = await with_hotspots(result, services, sessions)
        return result
    finally:
        await services.close()


async def with_hotspots(
    result: EngineProfile, services: Services, sessions: list[str]
) -> EngineProfile:
    """`result` plus what cProfile saw over another `result.messages` messages."""
    profiler = cProfile.Profile()
    profiler.enable()
    await handle_many(services, sessions, result.messages)
    profiler.disable()
    stats = pstats.Stats(profiler)
    rows = hotspot_rows(stats, result.messages)
    return replace(
        result,
        categories=tuple(by_category(stats, result.messages)),
        hottest=tuple(sorted(rows, key=lambda h: h.self_ms, reverse=True)[:TOP]),
        ours=tuple(
            sorted((h for h in rows if is_ours(h.filename)), key=lambda h: -h.total_ms)[:TOP]
        ),
    )


async def handle_many(services: Services, sessions: list[str], count: int) -> None:
    """`count` "balance" messages, one at a time, cycling through `sessions`."""
    for index in range(count):
        await services.conversations.handle(balance(sessions[index % len(sessions)], services))


async def concurrent_rate(
    services: Services, sessions: list[str], messages: int, in_flight: int
) -> float:
    """Messages per second with `in_flight` workers, each in its own sessions."""
    workers = max(1, min(in_flight, len(sessions)))
    shares = [sessions[i::workers] for i in range(workers)]
    counts = [messages // workers + (i < messages % workers) for i in range(workers)]
    started = time.perf_counter()
    await asyncio.gather(
        *(handle_many(services, s, n) for s, n in zip(shares, counts, strict=True))
    )
    return messages / (time.perf_counter() - started)


def balance(session: str, services: Services) -> InboundMessage:
    """A web-chat "balance" as Alex, exactly as POST /api/chat builds it."""
    from channels import web

    now = services.clock.now()
    return web.to_inbound(text="balance", session=session, as_phone=ALEX, message_id=None, now=now)


def hotspot_rows(stats: pstats.Stats, messages: int) -> list[Hotspot]:
    """Every profiled function, per message."""
    per = 1000 / max(1, messages)
    rows = []
    entries = stats.stats  # type: ignore[attr-defined]  # documented, but not in typeshed
    for (filename, line, function), (_cc, calls, self_s, total_s, _callers) in entries.items():
        builtin = filename == "~"
        where = function if builtin else f"{function} ({short_path(filename)}:{line})"
        source = "" if builtin else filename
        rows.append(Hotspot(where, source, calls / messages, self_s * per, total_s * per))
    return rows


def by_category(stats: pstats.Stats, messages: int) -> list[tuple[str, float]]:
    """Self ms per message by part of the stack, largest first.

    A C function's time (`isinstance`, a greenlet switch) counts for the part of the stack
    that called it, unless its name says where it belongs (epoll: waiting for I/O).
    """
    per = 1000 / max(1, messages)
    totals: defaultdict[str, float] = defaultdict(float)
    entries = stats.stats  # type: ignore[attr-defined]
    for (filename, _line, function), (_cc, _calls, self_s, _total, callers) in entries.items():
        part = category("" if filename == "~" else filename, function)
        if part != "C builtins" or not callers:
            totals[part] += self_s * per
            continue
        for (caller_file, _caller_line, caller), caller_stats in callers.items():
            caller_part = category("" if caller_file == "~" else caller_file, caller)
            totals[caller_part] += caller_stats[2] * per  # (calls, prim. calls, self s, total s)
    return sorted(totals.items(), key=lambda item: item[1], reverse=True)
