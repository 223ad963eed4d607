"""`billbot db upgrade` and `billbot db seed-demo`: migrations and demo data."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import TypeVar

from billing_client.demo import DEMO_CUSTOMERS
from bot.settings import Settings, SettingsError
from bot.startup import StartupError, one_line

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
    settings = _settings()
    if settings is None:
        return EXIT_USAGE
    return _upgrade(settings)


def run_seed_demo(args: argparse.Namespace) -> int:
    """`billbot db seed-demo [--reset] [--size N]`: migrate, seed, optionally generate."""
    size: int = args.size or 0
    if args.size is not None and args.size < 1:
        return _fail("--size must be a positive number of customers", EXIT_USAGE)
    settings = _settings()
    if settings is None:
        return EXIT_USAGE
    status = _upgrade(settings)
    if status != EXIT_OK:
        return status
    try:
        asyncio.run(_seed(settings, reset=args.reset, size=size))
    except Exception as exc:  # the command's boundary: one line, no traceback
        return _fail(f"seeding failed: {one_line(exc)}", EXIT_FAILURE)
    return EXIT_OK


def _settings() -> Settings | None:
    """The settings (the database URL checked) without the secret checks: `db` commands need
    only the database. None, said on stderr, when they are unusable."""
    try:
        return Settings.from_env(checked=False)
    except SettingsError as error:
        _fail(str(error), EXIT_USAGE)
        return None


def _upgrade(settings: Settings) -> int:
    try:
        from bot.bootstrap import upgrade_database  # at use: the parser stays quick to build

        asyncio.run(upgrade_database(settings))
    except StartupError as exc:  # unreachable server, bad credentials, unwritable file …
        return _fail(f"migration failed: {exc}", EXIT_FAILURE)
    return EXIT_OK


async def _seed(settings: Settings, *, reset: bool, size: int) -> None:
    from bot.bootstrap import reset_demo_bot_state, seed_demo_data

    if reset:  # the bot's notices, messages and conversations about the old demo accounts
        await reset_demo_bot_state(settings)
    seeded = await seed_demo_data(settings, reset=reset, size=size, progress=sys.stderr.isatty())
    _report(seeded.created)
    if seeded.generated:
        print(f"Generated {seeded.generated} customers in {seeded.seconds:.1f} s.")


def _report(created: bool) -> None:
    if not created:
        print("Demo customers already present (use --reset to recreate them).")
        return
    print("Demo customers created:")
    for customer in DEMO_CUSTOMERS:
        print(f"  {customer.name:<14} {customer.phone}  PIN {customer.pin}  {customer.summary}")


def _fail(message: str, status: int) -> int:
    print(f"billbot db: {message}", file=sys.stderr)
    return status
