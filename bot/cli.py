"""The `billbot` command (DESIGN.md §4). Exit codes: 0 ok, 2 bad usage or input, 1 failure."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from bot.phones import PhoneError, normalize
from bot.settings import Settings, SettingsError


class UsageError(Exception):
    """Bad command-line input; printed as one line, exit code 2."""


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors and exit code 2, as the CLI contract asks."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    from bot import cli_db
    from bot.nlu import cli as nlu_cli

    parser = Parser(prog="billbot", description="Conversational self-service billing bot.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    _add_serve(sub, "demo", "migrate, seed the demo data and serve in demo mode", _cmd_demo)
    _add_serve(sub, "serve", "serve webhooks, web chat, web view and API", _cmd_serve)
    chat = sub.add_parser("chat", help="talk to billbot as a customer in the terminal")
    chat.add_argument("--as", dest="phone", required=True, help="the customer's phone number")
    chat.set_defaults(func=_cmd_chat)
    messages = sub.add_parser("messages", help="the outbound message log")
    messages.add_argument("--json", action="store_true")
    messages.add_argument("--limit", type=int, default=50)
    messages.set_defaults(func=_cmd_messages)
    cli_db.register(sub)
    nlu_cli.register(sub)
    return parser


def _add_serve(
    sub: argparse._SubParsersAction[Parser], name: str, help_text: str, func: object
) -> None:
    command = sub.add_parser(name, help=help_text)
    command.add_argument("--host", default="127.0.0.1")
    command.add_argument("--port", type=int, default=8000)
    command.set_defaults(func=func)


def main(argv: Sequence[str] | None = None) -> None:
    logging.basicConfig(level=os.environ.get("BILLBOT_LOG_LEVEL", "WARNING").upper())
    args = build_parser().parse_args(argv)
    try:
        code = args.func(args)
    except (UsageError, SettingsError, PhoneError) as error:
        print(f"billbot: error: {error}", file=sys.stderr)
        code = 2
    except KeyboardInterrupt:
        code = 130
    sys.exit(code)


# --- serving ----------------------------------------------------------------------------------
def _cmd_demo(args: argparse.Namespace) -> int:
    env = {"BILLBOT_PUBLIC_URL": f"http://{args.host}:{args.port}", **os.environ}
    settings = Settings.from_env({**env, "BILLBOT_DEMO": "1"})
    return _serve(settings, args.host, args.port)


def _cmd_serve(args: argparse.Namespace) -> int:
    env = {"BILLBOT_PUBLIC_URL": f"http://{args.host}:{args.port}", **os.environ}
    return _serve(Settings.from_env(env), args.host, args.port)


def _serve(settings: Settings, host: str, port: int) -> int:
    import uvicorn

    from billing_client.demo import DEMO_CUSTOMERS
    from bot.bootstrap import prepare_database
    from web.app import create_app

    asyncio.run(prepare_database(settings))
    print(f"billbot serving on http://{host}:{port}  (API docs: http://{host}:{port}/docs)")
    if settings.demo:
        print("DEMO MODE: anyone can act as a demo customer. Demo customers:")
        for customer in DEMO_CUSTOMERS:
            print(
                f"  {customer.name:<14} {customer.phone}  PIN {customer.pin}  {customer.summary}"
            )
    uvicorn.run(create_app(settings), host=host, port=port, log_level="info")
    return 0


# --- chat -------------------------------------------------------------------------------------
def _chat_settings() -> Settings:
    """Settings for a local chat; demo mode when no secret is configured (said on stderr)."""
    try:
        return Settings.from_env()
    except SettingsError:
        if os.environ.get("BILLBOT_DEMO", "") not in ("", "1", "true"):
            raise
        print("billbot chat: demo mode (BILLBOT_SECRET_KEY is not set)", file=sys.stderr)
        return Settings.from_env({**os.environ, "BILLBOT_DEMO": "1"})


def _cmd_chat(args: argparse.Namespace) -> int:
    settings = _chat_settings()
    phone = normalize(args.phone, default_region=settings.default_region)
    return asyncio.run(_chat(settings, phone, interactive=sys.stdin.isatty()))


async def _chat(settings: Settings, phone: str, *, interactive: bool) -> int:
    from bot.bootstrap import build_services, prepare_database
    from channels import console

    await prepare_database(settings)
    services = await build_services(settings)
    try:
        account = await services.billing.find_account_by_msisdn(phone)
        if interactive:
            who = account.name if account else "an unknown number"
            print(f"Talking to billbot as {phone} ({who}). Type 'quit' to leave.")
        while (line := await _read_line(interactive)) is not None:
            if interactive and line.strip().lower() in ("quit", "exit"):
                break
            if not interactive:
                print(f"you> {line}")
            message = console.to_inbound(line, phone=phone, now=services.clock.now())
            for reply in await services.conversations.handle(message):
                print("billbot> " + console.render(reply).replace("\n", "\n         "))
            print()
    finally:
        await services.close()
    return 0


async def _read_line(interactive: bool) -> str | None:
    try:
        line = await asyncio.to_thread(input, "you> ") if interactive else sys.stdin.readline()
    except EOFError:
        return None
    if not interactive and line == "":
        return None
    return line.rstrip("\n")


# --- messages ---------------------------------------------------------------------------------
def _cmd_messages(args: argparse.Namespace) -> int:
    if args.limit < 1:
        raise UsageError("--limit must be at least 1")
    return asyncio.run(_messages(_chat_settings(), args.limit, as_json=args.json))


async def _messages(settings: Settings, limit: int, *, as_json: bool) -> int:
    from billing_client.sql.database import create_engine, session_factory
    from bot.bootstrap import prepare_database
    from bot.clock import SystemClock
    from bot.outbox import Outbox

    await prepare_database(settings)
    engine = create_engine(settings.database_url)
    try:
        entries = await Outbox(session_factory(engine), SystemClock()).list(limit=limit)
    finally:
        await engine.dispose()
    if as_json:
        print(json.dumps([entry.as_dict() for entry in entries], ensure_ascii=False, indent=2))
        return 0
    if not entries:
        print("No outbound messages yet.")
    for entry in entries:
        when = entry.created_at.strftime("%Y-%m-%d %H:%M")
        print(
            f"#{entry.id} {when} {entry.channel} → {entry.recipient} [{entry.status}] {entry.kind}"
        )
        print("    " + entry.body.replace("\n", "\n    "))
    return 0
