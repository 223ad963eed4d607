"""`billbot alerts run-once|list` and `billbot scheduler`: proactive alerts from the terminal.

- `alerts run-once [--at ISO_TIMESTAMP] [--dry-run] [--json]`: every due alert scanned once as
  of that moment (default now): what was queued, deferred (quiet hours) or skipped, and why.
  `--dry-run` queues nothing.
- `alerts list [--account PHONE] [--limit N]`: the alerts in the outbound message log.
- `scheduler`: the scheduled jobs alone, until SIGTERM or Ctrl-C (one per deployment is enough;
  several take turns through the scheduler's lease).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
from datetime import UTC, datetime
from typing import Any, TypeVar

from bot.alerts.planner import KINDS, Decision
from bot.settings import Settings

log = logging.getLogger(__name__)
ParserT = TypeVar("ParserT", bound=argparse.ArgumentParser)


def register(subparsers: argparse._SubParsersAction[ParserT]) -> None:
    """Add `alerts` and `scheduler` to the billbot command line."""
    alerts = subparsers.add_parser("alerts", help="proactive alerts: run the scan, list them")
    commands = alerts.add_subparsers(
        dest="alerts_command", metavar="COMMAND", required=True, parser_class=type(alerts)
    )
    once = commands.add_parser("run-once", help="scan for due alerts once and queue them")
    once.add_argument("--at", type=_moment, help="as of this ISO 8601 moment (default: now)")
    once.add_argument("--dry-run", action="store_true", help="say what is due, queue nothing")
    once.add_argument("--json", action="store_true")
    once.set_defaults(func=run_once)
    listing = commands.add_parser("list", help="the alerts in the outbound message log")
    listing.add_argument("--account", metavar="PHONE", help="only this customer's")
    listing.add_argument("--limit", type=int, default=50)
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(func=list_alerts)
    scheduler = subparsers.add_parser("scheduler", help="run the scheduled jobs alone")
    scheduler.set_defaults(func=run_scheduler, log_level="INFO")


def run_once(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    decisions = asyncio.run(_run_once(settings, args.at, dry_run=args.dry_run))
    if args.json:
        print(json.dumps([_decision(d) for d in decisions], indent=2))
    else:
        _print_decisions(decisions, dry_run=args.dry_run)
    return 0


async def _run_once(settings: Settings, at: datetime | None, *, dry_run: bool) -> list[Decision]:
    from bot.bootstrap import build_services
    from bot.cli_runtime import prepare

    services = await build_services(await prepare(settings))
    try:
        return await services.alerts.run_once(at, dry_run=dry_run)
    finally:
        await services.close()


def list_alerts(args: argparse.Namespace) -> int:
    settings = Settings.from_env(checked=False)
    entries = asyncio.run(_list(settings, args.account, args.limit))
    if args.json:
        print(json.dumps(entries, indent=2))
        return 0
    for entry in entries:
        print(
            f"{entry['created_at'][:16]}  {entry['kind']:<16} {entry['status']:<10} "
            f"{entry['channel']:<9} {entry['body'][:70]}"
        )
    if not entries:
        print("No alerts yet.")
    return 0


async def _list(settings: Settings, phone: str | None, limit: int) -> list[dict[str, Any]]:
    from bot.bootstrap import open_billing, open_outbox
    from bot.phones import normalize

    account_id = None
    if phone is not None:
        async with open_billing(settings) as billing:
            account = await billing.find_account_by_msisdn(
                normalize(phone, default_region=settings.default_region)
            )
        if account is None:
            return []
        account_id = account.id
    async with open_outbox(settings) as outbox:
        entries = await outbox.list(limit=max(limit * 20, 500))
    chosen = [
        e.as_dict()
        for e in entries
        if e.kind in KINDS and (account_id is None or e.account_id == account_id)
    ]
    return chosen[:limit]


def run_scheduler(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    return asyncio.run(_scheduler(settings))


async def _scheduler(settings: Settings) -> int:
    """The jobs (and the outbox worker, so their alerts go out) until a signal stops them."""
    from bot.bootstrap import build_services
    from bot.cli_runtime import prepare, stopped_by_signals
    from bot.outbox import OutboxWorker
    from scheduler.runner import start_scheduler

    stop = asyncio.Event()
    with stopped_by_signals(stop):
        services = await build_services(await prepare(settings))
        worker = OutboxWorker(services.outbox)
        scheduler = start_scheduler(services)
        worker.start()
        print("billbot: scheduler running (Ctrl-C to stop)", flush=True)
        try:
            await stop.wait()
        finally:
            await scheduler.stop()
            await worker.stop()
            await services.close()
    return 0


def _moment(raw: str) -> datetime:
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 moment: {raw!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _decision(decision: Decision) -> dict[str, Any]:
    message = decision.message
    return {
        "kind": decision.kind,
        "account_id": decision.account_id,
        "key": decision.key,
        "outcome": decision.outcome,
        "why": decision.why,
        "channel": message.channel if message else None,
        "not_before": message.not_before.isoformat() if message and message.not_before else None,
        "text": message.replies[0].text if message else None,
    }


def _print_decisions(decisions: list[Decision], *, dry_run: bool) -> None:
    for decision in decisions:
        who = f"account {decision.account_id}"
        print(f"{decision.outcome:<15} {decision.kind:<16} {who:<14} {decision.why}")
    counts: dict[str, int] = {}
    for decision in decisions:
        counts[decision.outcome] = counts.get(decision.outcome, 0) + 1
    summary = ", ".join(f"{n} {outcome}" for outcome, n in sorted(counts.items())) or "nothing due"
    print(("Dry run: " if dry_run else "") + summary + ".")
