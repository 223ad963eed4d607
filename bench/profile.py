"""`python -m bench.profile`: where a "balance" message's time goes, in-process, without load.

A quicker look than `python -m bench --profile` (no servers, no wrk): SQL per message and
cProfile's top entries of `ConversationEngine.handle` on SQLite and PostgreSQL.
"""

from __future__ import annotations

import argparse
import asyncio
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
from bench.engine_profile import EngineProfile, profile_engine
from bench.profile_report import engine_sections, round_trip_table


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("--messages", type=int, default=200, help="per database (default 200)")
    parser.add_argument("--skip-postgres", action="store_true", help="SQLite only")
    args = parser.parse_args(argv)
    if args.messages < 1:
        parser.error("--messages must be positive")
    return args


def profile_on(database: str, url: str, workdir: Path, messages: int) -> EngineProfile:
    """Prepare the database like `billbot demo`, then profile the engine on it."""
    env = billbot_env(url, workdir)
    asyncio.run(prepare(env))
    return asyncio.run(profile_engine(database, env, messages=messages, with_cprofile=True))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    profiles, notes = [], []
    with tempfile.TemporaryDirectory(prefix="billbot-profile-") as tmp:
        workdir = Path(tmp)
        profiles.append(profile_on("SQLite", sqlite_url(workdir), workdir, args.messages))
        if not args.skip_postgres:
            try:
                with throwaway_postgres(postgres_server_url()) as url:
                    profiles.append(profile_on("PostgreSQL", url, workdir, args.messages))
            except DatabaseUnavailableError as exc:
                notes.append(f"PostgreSQL skipped: {exc}")
    lines = [*round_trip_table(profiles), *engine_sections(profiles), *notes]
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
