"""`billbot outages add|clear|list`: the operator's known outages, which `diagnostics` shows to
customers whose service address is in the area.

- `outages add --area AREA --kind mobile|broadband --message TEXT [--until ISO]`: record one
  (AREA is a postcode or an area name, matched ignoring case, spaces and punctuation; a
  --until without a zone is UTC); prints its id.
- `outages clear ID`: it is over (clearing it again changes nothing).
- `outages list [--all] [--json]`: the active ones (with --all, the cleared ones too).

Exit 0 when done; 2 for bad input (one line on stderr, nothing written); 1 when the database
fails.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from billing_client import BillingClient, NewOutage, Outage
from billing_client.errors import BillingUnavailableError, InvalidRequestError, NotFoundError
from bot.settings import Settings

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2
PROG = "billbot outages"
ACTOR = "operator:cli"
ParserT = TypeVar("ParserT", bound=argparse.ArgumentParser)
T = TypeVar("T")


def register(subparsers: argparse._SubParsersAction[ParserT]) -> None:
    """Add the `outages` command group to the billbot command line."""
    outages = subparsers.add_parser("outages", help="known outages customers are told about")
    commands = outages.add_subparsers(
        dest="outages_command", metavar="COMMAND", required=True, parser_class=type(outages)
    )
    add = commands.add_parser("add", help="record an outage in an area")
    add.add_argument("--area", required=True, help="a postcode or an area name")
    add.add_argument("--kind", required=True, choices=("mobile", "broadband"))
    add.add_argument("--message", required=True, help="what customers are told")
    add.add_argument(
        "--until", type=_moment, help="when it should be fixed (ISO 8601; no zone means UTC)"
    )
    add.set_defaults(func=run_add)
    clear = commands.add_parser("clear", help="mark an outage as over")
    clear.add_argument("id", type=_outage_id, metavar="ID")
    clear.set_defaults(func=run_clear)
    listing = commands.add_parser("list", help="the active outages")
    listing.add_argument("--all", action="store_true", help="the cleared ones too")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(func=run_list)


def run_add(args: argparse.Namespace) -> int:
    outage = NewOutage(args.area, args.kind, args.message, expected_end=args.until)

    async def add(billing: BillingClient) -> Outage:
        return await billing.add_outage(outage, actor=ACTOR, now=datetime.now(UTC))

    return _run(add, lambda added: print(f"Outage {added.id} added: {describe(added)}"))


def run_clear(args: argparse.Namespace) -> int:
    async def clear(billing: BillingClient) -> Outage:
        return await billing.clear_outage(args.id, actor=ACTOR, now=datetime.now(UTC))

    def show(cleared: Outage) -> None:
        already = "" if cleared.created else " (it was already)"
        print(f"Outage {cleared.id} cleared{already}: {describe(cleared)}")

    return _run(clear, show)


def run_list(args: argparse.Namespace) -> int:
    async def read(billing: BillingClient) -> list[Outage]:
        return await billing.list_outages(now=datetime.now(UTC), active_only=not args.all)

    def show(outages: list[Outage]) -> None:
        if args.json:
            print(json.dumps([as_dict(outage) for outage in outages], indent=2))
            return
        for outage in outages:
            print(f"#{outage.id} {describe(outage)}")
        if not outages:
            print("No active outages." if not args.all else "No outages recorded.")

    return _run(read, show)


def describe(outage: Outage) -> str:
    """One line: "mobile in 60614 since 2026-12-06 13:30 UTC, until 19:00 UTC: <message>"."""
    since = f"{outage.started_at:%Y-%m-%d %H:%M} UTC"
    until = f", until {outage.expected_end:%Y-%m-%d %H:%M} UTC" if outage.expected_end else ""
    cleared = f", cleared {outage.cleared_at:%Y-%m-%d %H:%M} UTC" if outage.cleared_at else ""
    return f"{outage.kind} in {outage.area} since {since}{until}{cleared}: {outage.message}"


def as_dict(outage: Outage) -> dict[str, Any]:
    def iso(moment: datetime | None) -> str | None:
        return moment.isoformat() if moment else None

    return {
        "id": outage.id,
        "area": outage.area,
        "kind": outage.kind,
        "message": outage.message,
        "started_at": iso(outage.started_at),
        "expected_end": iso(outage.expected_end),
        "cleared_at": iso(outage.cleared_at),
    }


def _run(work: Callable[[BillingClient], Awaitable[T]], show: Callable[[T], None]) -> int:
    """Migrate, do `work` with the billing core, `show` its answer; refusals are exit 2."""
    settings = Settings.from_env(checked=False)  # the database only, no secret needed
    try:
        result = asyncio.run(_with_billing(settings, work))
    except (InvalidRequestError, NotFoundError) as error:
        return _fail(str(error), EXIT_USAGE)
    except BillingUnavailableError as error:
        return _fail(str(error), EXIT_FAILURE)
    show(result)
    return EXIT_OK


async def _with_billing(settings: Settings, work: Callable[[BillingClient], Awaitable[T]]) -> T:
    from bot.bootstrap import open_billing, upgrade_database  # at use: a quick parser

    await upgrade_database(settings)
    async with open_billing(settings) as billing:
        return await work(billing)


def _moment(raw: str) -> datetime:
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 moment: {raw!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _outage_id(raw: str) -> int:
    if not raw.isdigit() or len(raw) > 12:
        raise argparse.ArgumentTypeError(f"not an outage id: {raw!r}")
    return int(raw)


def _fail(message: str, code: int) -> int:
    print(f"{PROG}: {message}", file=sys.stderr)
    return code
