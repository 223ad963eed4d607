"""`billbot port-out …` and `billbot sims …`: the billing system's side of number transfers and SIM
changes, for operators (and for trying the "Not me" loop on the demo data).

- `port-out request PHONE --carrier NAME [--id ID]`: another provider asks for the number. It
  is refused at once while the account's lock is on or the line is barred as lost or stolen;
  otherwise it waits for the holder's approval. Either way the holder is told at once on every
  verified channel, with a one-tap "Not me". The same --id again changes nothing.
- `port-out complete REF` (approved ones only: the line ends here), `port-out cancel REF`,
  `port-out list [--all] [--json]` (open ones unless --all).
- `sims activate REF [--iccid ICCID]`: an ordered SIM takes over its line; the old one stops
  working and the holder is told. `sims list PHONE [--json]`: the account's SIM orders.

Exit 0 when done; 2 for bad input or a refusal (one line on stderr, nothing changed); 1 when
the database fails.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any, TypeVar

from billing_client import PortOut, SimOrder
from billing_client.errors import BillingUnavailableError, InvalidRequestError, NotFoundError
from bot.phones import PhoneError, normalize
from bot.services import Services
from bot.settings import Settings

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2
ACTOR = "operator:cli"
ParserT = TypeVar("ParserT", bound=argparse.ArgumentParser)
T = TypeVar("T")


def register(subparsers: argparse._SubParsersAction[ParserT]) -> None:
    """Add the `port-out` and `sims` command groups to the billbot command line."""
    _register_port_out(subparsers)
    _register_sims(subparsers)


def _register_port_out(subparsers: argparse._SubParsersAction[ParserT]) -> None:
    group = subparsers.add_parser("port-out", help="number transfers to other providers")
    commands = group.add_subparsers(
        dest="port_out_command", metavar="COMMAND", required=True, parser_class=type(group)
    )
    request = commands.add_parser("request", help="another provider asks for a number")
    request.add_argument("phone", help="the number asked for")
    request.add_argument("--carrier", required=True, help="the gaining provider's name")
    request.add_argument("--id", dest="source_id", help="the provider's id for the request")
    request.set_defaults(func=run_request)
    for name, status, text in (
        ("complete", "completed", "the gaining provider completed it"),
        ("cancel", "cancelled", "the request is withdrawn"),
    ):
        command = commands.add_parser(name, help=text)
        command.add_argument("reference", metavar="REF")
        command.set_defaults(func=run_decide, status=status)
    listing = commands.add_parser("list", help="open transfer requests")
    listing.add_argument("--all", action="store_true", help="decided ones too")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(func=run_list_port_outs)


def _register_sims(subparsers: argparse._SubParsersAction[ParserT]) -> None:
    group = subparsers.add_parser("sims", help="replacement SIM and eSIM orders")
    commands = group.add_subparsers(
        dest="sims_command", metavar="COMMAND", required=True, parser_class=type(group)
    )
    activate = commands.add_parser("activate", help="an ordered SIM takes over its line")
    activate.add_argument("reference", metavar="REF")
    activate.add_argument("--iccid", help="the new SIM's ICCID (made up when absent)")
    activate.set_defaults(func=run_activate)
    listing = commands.add_parser("list", help="an account's SIM orders")
    listing.add_argument("phone", help="a number of the account")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(func=run_list_sims)


# --- commands ---------------------------------------------------------------------------------
def run_request(args: argparse.Namespace) -> int:
    phone = _phone(args.phone)
    if phone is None:
        return _fail(f"not a phone number: {args.phone!r}", EXIT_USAGE)
    source_id = args.source_id or f"cli:{uuid.uuid4().hex}"

    async def request(services: Services) -> PortOut:
        assert services.security is not None
        return await services.security.request_port_out(
            phone, args.carrier, source_id=source_id, actor=ACTOR
        )

    return _run(request, lambda transfer: print(describe_transfer(transfer)))


def run_decide(args: argparse.Namespace) -> int:
    async def decide(services: Services) -> PortOut:
        return await services.billing.decide_port_out(
            args.reference, args.status, reason="operator", actor=ACTOR, now=datetime.now(UTC)
        )

    return _run(decide, lambda transfer: print(describe_transfer(transfer)))


def run_list_port_outs(args: argparse.Namespace) -> int:
    async def read(services: Services) -> list[PortOut]:
        return await services.billing.list_port_outs(open_only=not args.all)

    return _run(read, lambda found: _show(found, args.json, describe_transfer, "transfers"))


def run_activate(args: argparse.Namespace) -> int:
    async def activate(services: Services) -> SimOrder:
        assert services.security is not None
        return await services.security.activate_sim(args.reference, iccid=args.iccid, actor=ACTOR)

    return _run(activate, lambda order: print(describe_order(order)))


def run_list_sims(args: argparse.Namespace) -> int:
    phone = _phone(args.phone)
    if phone is None:
        return _fail(f"not a phone number: {args.phone!r}", EXIT_USAGE)

    async def read(services: Services) -> list[SimOrder]:
        account = await services.billing.find_account_by_msisdn(phone)
        if account is None:
            raise NotFoundError(f"no account has the number {phone}")
        return await services.billing.list_sim_orders(account.id)

    return _run(read, lambda found: _show(found, args.json, describe_order, "SIM orders"))


# --- output -----------------------------------------------------------------------------------
def describe_transfer(transfer: PortOut) -> str:
    """ "PO-000001 +12025550101 to Other Mobile: pending (requested 2026-12-07 10:00 UTC)"."""
    why = f" ({transfer.reason})" if transfer.reason else ""
    again = "" if transfer.created else " [unchanged]"
    return (
        f"{transfer.reference} {transfer.msisdn} to {transfer.carrier}: {transfer.status}{why}"
        f" (requested {transfer.requested_at:%Y-%m-%d %H:%M} UTC){again}"
    )


def describe_order(order: SimOrder) -> str:
    """ "S-000001 +12025550101 esim: active (ordered 2026-12-07 10:00 UTC)"."""
    again = "" if order.created else " [unchanged]"
    return (
        f"{order.reference} {order.msisdn} {order.kind}: {order.status}"
        f" (ordered {order.ordered_at:%Y-%m-%d %H:%M} UTC){again}"
    )


def _show(found: list[Any], as_json: bool, describe: Callable[[Any], str], noun: str) -> None:
    if as_json:
        print(json.dumps([asdict(item) for item in found], indent=2, default=str))
        return
    for item in found:
        print(describe(item))
    if not found:
        print(f"No {noun}.")


# --- running ----------------------------------------------------------------------------------
def _run(work: Callable[[Services], Awaitable[T]], show: Callable[[T], None]) -> int:
    """Build the services (the notices go through the outbox), do `work`, `show` its answer."""
    settings = Settings.from_env()
    try:
        result = asyncio.run(_with_services(settings, work))
    except (InvalidRequestError, NotFoundError) as error:
        return _fail(str(error), EXIT_USAGE)
    except BillingUnavailableError as error:
        return _fail(str(error), EXIT_FAILURE)
    show(result)
    return EXIT_OK


async def _with_services(settings: Settings, work: Callable[[Services], Awaitable[T]]) -> T:
    from bot.bootstrap import build_services  # at use: a quick parser
    from bot.cli_runtime import prepare

    services = await build_services(await prepare(settings))
    try:
        return await work(services)
    finally:
        await services.close()  # delivers (or records, in the sandbox) the notices


def _phone(raw: str) -> str | None:
    try:
        return normalize(raw)
    except PhoneError:
        return None


def _fail(message: str, code: int) -> int:
    print(f"billbot: {message}", file=sys.stderr)
    return code
