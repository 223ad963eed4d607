"""`python -m bench`: "balance" through /api/chat on SQLite and PostgreSQL vs a bare endpoint.

Every server runs in one uvicorn worker on 127.0.0.1, loaded by wrk (installed when missing)
or, failing that, by several Python client processes. billbot's databases are throw-away and
prepared like `billbot demo`. See docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

from bench.databases import (
    DatabaseUnavailableError,
    billbot_env,
    postgres_server_url,
    prepare,
    sqlite_url,
    throwaway_postgres,
)
from bench.engine_profile import profile_engine
from bench.load import ProcessClient, default_processes
from bench.measure import LoadClient, Plan, measure
from bench.pyspy import find_py_spy
from bench.report import Report, RunShape, render
from bench.results import Outcome
from bench.sessions import pool_size
from bench.wrk import WrkClient, find_wrk

RESULTS = Path(__file__).resolve().parent / "results" / "latest.md"
CHAT = "billbot /api/chat"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    add = parser.add_argument
    add("--connections", type=int, default=32, help="concurrent connections (default 32)")
    add("--duration", type=float, default=10.0, help="measured seconds per server (default 10)")
    add("--warmup", type=float, default=3.0, help="untimed seconds of load first (default 3)")
    add("--sessions", type=int, help="chat sessions in the pool (default 8 per connection)")
    add("--client", choices=["auto", "wrk", "python"], default="auto", help="load generator")
    add("--threads", type=int, default=2, help="wrk threads (default 2)")
    add("--processes", type=int, default=default_processes(), help="Python client processes")
    add("--skip-postgres", action="store_true", help="only the bare endpoint and SQLite")
    add("--profile", action="store_true", help="also cProfile in-process and py-spy under load")
    add("--profile-messages", type=int, default=100, help="in-process messages (default 100)")
    add("--skip-nlu", action="store_true", help="leave out the NLU timing")
    add("--nlu-rounds", type=int, default=5, help="passes over the held-out texts")
    add("--check-target", action="store_true", help="exit 1 when the target is missed")
    add("--output", type=Path, default=RESULTS, help="Markdown file to write")
    args = parser.parse_args(argv)
    if args.connections < 1 or args.duration <= 0 or args.threads < 1:
        parser.error("--connections, --duration and --threads must be positive")
    args.threads = min(args.threads, args.connections)
    if args.sessions is not None and args.sessions < args.connections:
        parser.error("--sessions must be at least --connections (each needs its own)")
    return args


def choose_client(args: argparse.Namespace) -> LoadClient | None:
    """wrk when it is (or can be made) available, else several Python processes."""
    if args.client != "python":
        wrk = find_wrk()
        if wrk:
            return WrkClient(wrk, connections=args.connections, threads=args.threads)
        if args.client == "wrk":
            print("error: wrk is not installed (as root: apt-get install wrk)", file=sys.stderr)
            return None
        print(
            "wrk is not installed and cannot be installed from here (needs root and apt-get): "
            f"falling back to {args.processes} Python client processes, which cap the bare "
            "endpoint lower than wrk does. Install wrk for comparable figures.",
            file=sys.stderr,
        )
    return ProcessClient(connections=args.connections, processes=args.processes)


def main(argv: list[str] | None = None) -> int:
    """Measure every target, print the Markdown report and write it to `--output`."""
    args = parse_args(argv)
    client = choose_client(args)
    if client is None:
        return 2
    sessions = args.sessions or pool_size(args.connections)
    py_spy = find_py_spy() if args.profile else None
    plan = Plan(client, args.connections, args.duration, args.warmup, sessions, py_spy)
    report = Report(RunShape(client.label, args.connections, args.duration, args.warmup, sessions))
    if args.profile and py_spy is None:
        report.notes.append("py-spy is not installed (`make setup` installs the dev extras).")
    with tempfile.TemporaryDirectory(prefix="billbot-bench-") as tmp:
        workdir = Path(tmp)
        report.outcomes.append(measure("bare FastAPI endpoint", "-", "bare", {}, plan).outcome)
        run_billbot("SQLite", sqlite_url(workdir), workdir, plan, report, args)
        if not args.skip_postgres:
            run_postgres(workdir, plan, report, args)
    if not args.skip_nlu:
        from bench.nlu import run_nlu

        report.nlu = run_nlu(rounds=args.nlu_rounds)
    return finish(report, args)


def run_postgres(workdir: Path, plan: Plan, report: Report, args: argparse.Namespace) -> None:
    """billbot on a throw-away PostgreSQL database; a note instead when no server answers."""
    try:
        with throwaway_postgres(postgres_server_url()) as url:
            run_billbot("PostgreSQL", url, workdir, plan, report, args)
    except DatabaseUnavailableError as exc:
        report.outcomes.append(Outcome(CHAT, "PostgreSQL", note=str(exc)))


def run_billbot(
    database: str, url: str, workdir: Path, plan: Plan, report: Report, args: argparse.Namespace
) -> None:
    """Prepare the database, load billbot's server on it, then count and profile in-process."""
    env = billbot_env(url, workdir)
    asyncio.run(prepare(env))
    measured = measure(CHAT, database, "billbot", env, plan)
    report.outcomes.append(measured.outcome)
    if measured.samples is not None:
        report.samples.append((database, measured.samples))
    if measured.sample_error:
        report.notes.append(f"py-spy on {database}: {measured.sample_error}")
    engine = profile_engine(
        database,
        env,
        messages=max(1, args.profile_messages),
        in_flight=args.connections,
        with_cprofile=args.profile,
    )
    report.engines.append(asyncio.run(engine))


def finish(report: Report, args: argparse.Namespace) -> int:
    """Print and write the report; the exit code says whether anything failed."""
    text = render(report)
    print(text)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    if report.failed:
        print("error: some requests failed (see the report)", file=sys.stderr)
        return 1
    if args.check_target and not report.targets_met():
        print("the target was missed (see the report)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
