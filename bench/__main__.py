"""`python -m bench`: chat API throughput vs a bare FastAPI endpoint, and NLU latency.

Everything runs on 127.0.0.1 against a throw-away SQLite database prepared like `billbot demo`.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from pathlib import Path

from bench.load import LoadResult, run_load
from bench.nlu import NluResult, run_nlu
from bench.report import render
from bench.servers import serving

RESULTS = Path(__file__).resolve().parent / "results" / "latest.md"
WARMUP_REQUESTS = 64


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Bounds for the run: a fixed request count, concurrency and a wall-clock cap."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--requests", type=int, default=2000, help="per server (default 2000)")
    parser.add_argument("--concurrency", type=int, default=32, help="clients (default 32)")
    parser.add_argument("--time-limit", type=float, default=180.0, help="seconds per server")
    parser.add_argument("--nlu-rounds", type=int, default=5, help="passes over held-out texts")
    parser.add_argument("--skip-nlu", action="store_true", help="only the HTTP benchmark")
    parser.add_argument("--output", type=Path, default=RESULTS, help="Markdown file to write")
    return parser.parse_args(argv)


def billbot_env(workdir: Path) -> dict[str, str]:
    """Demo-mode settings on a temp database; no .env file and no scheduler interfere."""
    return {
        "BILLBOT_DATABASE_URL": f"sqlite:///{workdir / 'bench.db'}",
        "BILLBOT_DEMO": "true",
        "BILLBOT_SECRET_KEY": "bench-secret-key-not-for-production",
        "BILLBOT_SCHEDULER": "false",
        "BILLBOT_ENV_FILE": str(workdir / "no.env"),
    }


async def prepare(env: dict[str, str]) -> None:
    """Migrate and seed the demo data, as `billbot demo` does."""
    from bot.bootstrap import prepare_database
    from bot.settings import Settings

    await prepare_database(Settings.from_env(env))


def measure(name: str, app: str, env: dict[str, str], args: argparse.Namespace) -> LoadResult:
    """Serve `app` in a child process, warm it up, then run the bounded load."""
    with serving(app, env) as base_url:
        options = {"concurrency": args.concurrency, "time_limit": args.time_limit}
        asyncio.run(run_load("warm-up", base_url, requests=WARMUP_REQUESTS, **options))
        return asyncio.run(run_load(name, base_url, requests=args.requests, **options))


def main(argv: list[str] | None = None) -> int:
    """Run both benchmarks, print the Markdown report and write it to `--output`."""
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="billbot-bench-") as tmp:
        env = billbot_env(Path(tmp))
        asyncio.run(prepare(env))
        chat = measure("billbot /api/chat", "billbot", env, args)
        bare = measure("bare FastAPI endpoint", "bare", {}, args)
    nlu: NluResult | None = None if args.skip_nlu else run_nlu(rounds=args.nlu_rounds)
    report = render(chat, bare, nlu, concurrency=args.concurrency)
    print(report)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(report, encoding="utf-8")
    return 0 if chat.errors == 0 and bare.errors == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
