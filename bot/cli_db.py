"""`billbot db upgrade` and `billbot db seed-demo`: migrations and demo data."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from typing import TypeVar

from sqlalchemy.exc import ArgumentError

from billing_client.demo import DEMO_CUSTOMERS
from billing_client.sql.database import async_url, create_engine, session_factory
from billing_client.sql.seed import seed_demo, seed_generated
from bot import migrate
from bot.clock import SystemClock
from bot.settings import database_url_from_env

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2
ParserT = TypeVar("ParserT", bound=argparse.ArgumentParser)


def register(subparsers: argparse._SubParsersAction[ParserT]) -> None:
    """Add the `db` command group to the billbot command line."""
    db = subparsers.add_parser("db", help="database migrations and demo data")
    commands = db.add_subparsers(
        dest="db_command", metavar="COMMAND", required=True, parser_class=type(db)
    )
    upgrade = commands.add_parser("upgrade", help="apply all migrations to the database")
    upgrade.set_defaults(func=run_upgrade)
    seed = commands.add_parser("seed-demo", help="migrate, then create the demo customers")
    seed.add_argument("--reset", action="store_true", help="recreate the demo customers")
    seed.add_argument(
        "--size", type=int, metavar="N", help="also generate N customers (for benchmarks)"
    )
    seed.set_defaults(func=run_seed_demo)


def run_upgrade(args: argparse.Namespace) -> int:
    """`billbot db upgrade`: bring the database to the latest migration."""
    url = _database_url()
    if url is None:
        return EXIT_USAGE
    return _upgrade(url)


def run_seed_demo(args: argparse.Namespace) -> int:
    """`billbot db seed-demo [--reset] [--size N]`: migrate, seed, optionally generate."""
    size: int = args.size or 0
    if args.size is not None and args.size < 1:
        return _fail("--size must be a positive number of customers", EXIT_USAGE)
    url = _database_url()
    if url is None:
        return EXIT_USAGE
    status = _upgrade(url)
    if status != EXIT_OK:
        return status
    try:
        asyncio.run(_seed(url, reset=args.reset, size=size))
    except Exception as exc:  # the command's boundary: one line, no traceback
        return _fail(f"seeding failed: {_one_line(exc)}", EXIT_FAILURE)
    return EXIT_OK


def _database_url() -> str | None:
    """BILLBOT_DATABASE_URL if billbot can use it; otherwise say why on stderr."""
    url = database_url_from_env()
    try:
        async_url(url)
    except (ValueError, ArgumentError):
        _fail("BILLBOT_DATABASE_URL must be a sqlite:///… or postgresql://… URL", EXIT_USAGE)
        return None
    return url


def _upgrade(url: str) -> int:
    try:
        migrate.upgrade(url)
    except Exception as exc:  # unreachable server, bad credentials, broken file …
        return _fail(f"migration failed: {_one_line(exc)}", EXIT_FAILURE)
    return EXIT_OK


async def _seed(url: str, *, reset: bool, size: int) -> None:
    engine = create_engine(url)
    try:
        sessions = session_factory(engine)
        now = SystemClock().now()
        created = await seed_demo(sessions, now=now, reset=reset)
        _report(created)
        if size:
            started = time.perf_counter()
            await seed_generated(sessions, size, now=now, progress=sys.stderr.isatty())
            print(f"Generated {size} customers in {time.perf_counter() - started:.1f} s.")
    finally:
        await engine.dispose()


def _report(created: bool) -> None:
    if not created:
        print("Demo customers already present (use --reset to recreate them).")
        return
    print("Demo customers created:")
    for customer in DEMO_CUSTOMERS:
        print(f"  {customer.name:<14} {customer.phone}  PIN {customer.pin}  {customer.summary}")


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def _fail(message: str, status: int) -> int:
    print(f"billbot db: {message}", file=sys.stderr)
    return status
