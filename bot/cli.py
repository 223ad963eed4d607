"""The `billbot` command (DESIGN.md §4). Exit codes: 0 ok, 2 bad usage or input, 1 failure."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import sys
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NoReturn

from sqlalchemy.exc import SQLAlchemyError

from bot.cli_runtime import prepare, stopped_by_signals
from bot.logs import configure_logging
from bot.phones import PhoneError, normalize
from bot.settings import Settings, SettingsError, log_level_from_env
from bot.startup import StartupError, listen, one_line

if TYPE_CHECKING:
    from bot.channel import Webhook
    from bot.outbox import OutboxEntry
    from bot.services import Services
    from channels.telegram import TelegramChannel

log = logging.getLogger(__name__)
# Serving logs requests (billbot's own access log) and start-up at INFO; other commands print
# their results on stdout and only warnings on stderr. BILLBOT_LOG_LEVEL overrides both.
SERVE_LOG_LEVEL, COMMAND_LOG_LEVEL = "INFO", "WARNING"


class UsageError(Exception):
    """Bad command-line input; printed as one line, exit code 2."""


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors and exit code 2, as the CLI contract asks."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    from bot import cli_alerts, cli_db, cli_outages, cli_security, cli_usage
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
    _add_telegram(sub)
    cli_db.register(sub)
    cli_alerts.register(sub)
    cli_usage.register(sub)
    cli_outages.register(sub)
    cli_security.register(sub)
    nlu_cli.register(sub)
    return parser


def _add_serve(
    sub: argparse._SubParsersAction[Parser], name: str, help_text: str, func: object
) -> None:
    command = sub.add_parser(name, help=help_text)
    command.add_argument("--host", default="127.0.0.1")
    command.add_argument("--port", type=int, default=8000)
    command.set_defaults(func=func, log_level=SERVE_LOG_LEVEL)


def _add_telegram(sub: argparse._SubParsersAction[Parser]) -> None:
    telegram = sub.add_parser("telegram", help="register the Telegram webhook, or long-poll")
    commands = telegram.add_subparsers(
        dest="telegram_command", metavar="COMMAND", required=True, parser_class=Parser
    )
    webhook = commands.add_parser(
        "set-webhook",
        help=f"have Telegram post updates to BILLBOT_PUBLIC_URL{TELEGRAM_WEBHOOK_PATH}",
    )
    webhook.set_defaults(func=_cmd_telegram_set_webhook)
    poll = commands.add_parser(
        "poll", help="long-poll Telegram instead (no public URL needed; one poller per bot)"
    )
    poll.set_defaults(func=_cmd_telegram_poll, log_level=SERVE_LOG_LEVEL)


def main(argv: Sequence[str] | None = None) -> None:
    """The `billbot` command: logging is configured here, once, then the subcommand runs."""
    args = build_parser().parse_args(argv)
    try:
        configure_logging(
            log_level_from_env(default=getattr(args, "log_level", COMMAND_LOG_LEVEL))
        )
        code = args.func(args)
    except (UsageError, SettingsError, PhoneError) as error:
        code = _error(error, 2)
    except StartupError as error:  # database unreachable, port busy
        code = _error(error, 1)
    except (OSError, SQLAlchemyError) as error:  # e.g. the database went away mid-command
        log.debug("command failed", exc_info=True)
        code = _error(one_line(error), 1)
    except KeyboardInterrupt:
        code = 130
    sys.exit(code)


def _error(error: object, code: int) -> int:
    print(f"billbot: error: {error}", file=sys.stderr)
    return code


# --- serving ----------------------------------------------------------------------------------
def _cmd_demo(args: argparse.Namespace) -> int:
    env = {"BILLBOT_PUBLIC_URL": f"http://{args.host}:{args.port}", **os.environ}
    settings = Settings.from_env({**env, "BILLBOT_DEMO": "1"})
    return _serve(settings, args.host, args.port)


def _cmd_serve(args: argparse.Namespace) -> int:
    env = {"BILLBOT_PUBLIC_URL": f"http://{args.host}:{args.port}", **os.environ}
    return _serve(Settings.from_env(env), args.host, args.port)


def _serve(settings: Settings, host: str, port: int) -> int:
    """Listen first (a busy port fails fast), prepare the database, then run uvicorn.

    uvicorn's own access log is off: it prints every /pay/<token>; web.access_log logs
    requests with tokens hidden. uvicorn's other records go through billbot's log handler.
    """
    import uvicorn

    from web.app import create_app

    listener = listen(host, port)
    try:
        settings = asyncio.run(prepare(settings))
        _print_banner(settings, host, port)
        config = uvicorn.Config(
            create_app(settings), log_config=None, access_log=False, lifespan="on"
        )
        server = uvicorn.Server(config)
        server.run(sockets=[listener])
    finally:
        listener.close()
    return 0 if server.started else 1


def channels_line(settings: Settings) -> str:
    """Which ways in are on, e.g. "Channels: web chat on; SMS (Twilio) off (no credentials)…"."""
    parts = ["web chat on"]
    for name, on in settings.channels.summary():
        parts.append(f"{name} {'on' if on else 'off (no credentials)'}")
    delivery = "live" if settings.delivery == "live" else "sandbox: recorded, not sent"
    return f"Channels: {'; '.join(parts)}. Delivery: {delivery}."


def _print_banner(settings: Settings, host: str, port: int) -> None:
    from billing_client.demo import DEMO_CUSTOMERS

    print(f"billbot serving on http://{host}:{port}  (API docs: http://{host}:{port}/docs)")
    print(channels_line(settings))
    if settings.demo:
        print("DEMO MODE: anyone can act as a demo customer. Demo customers:")
        for customer in DEMO_CUSTOMERS:
            print(
                f"  {customer.name:<14} {customer.phone}  PIN {customer.pin}  {customer.summary}"
            )
    sys.stdout.flush()


# --- chat -------------------------------------------------------------------------------------
def _chat_settings() -> Settings:
    """Settings for a local chat; demo mode when no secret is configured (said on stderr)."""
    try:
        return Settings.from_env()
    except SettingsError:
        if os.environ.get("BILLBOT_DEMO", "") not in ("", "1", "true"):
            raise
        print(
            "billbot chat: demo mode (BILLBOT_SECRET_KEY is not set: links are signed with "
            "this database's demo secret)",
            file=sys.stderr,
        )
        return Settings.from_env({**os.environ, "BILLBOT_DEMO": "1"})


def _cmd_chat(args: argparse.Namespace) -> int:
    settings = _chat_settings()
    phone = normalize(args.phone, default_region=settings.default_region)
    return asyncio.run(_chat(settings, phone, interactive=sys.stdin.isatty()))


async def _chat(settings: Settings, phone: str, *, interactive: bool) -> int:
    from bot.bootstrap import build_services
    from channels import console

    services = await build_services(await prepare(settings))
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
    # The message log needs the database only, no signing secret.
    return asyncio.run(_messages(Settings.from_env(checked=False), args.limit, as_json=args.json))


async def _messages(settings: Settings, limit: int, *, as_json: bool) -> int:
    from bot.bootstrap import open_outbox, prepare_database

    await prepare_database(settings)
    async with open_outbox(settings) as outbox:
        entries = await outbox.list(limit=limit)
    if as_json:
        print(json.dumps([entry.as_dict() for entry in entries], ensure_ascii=False, indent=2))
        return 0
    if not entries:
        print("No outbound messages yet.")
    for entry in entries:
        _print_entry(entry)
    return 0


def _print_entry(entry: OutboxEntry) -> None:
    """One log entry: who, where, status (and why), then each reply as a text channel shows it."""
    from channels import console

    when = entry.created_at.strftime("%Y-%m-%d %H:%M")
    print(f"#{entry.id} {when} {entry.channel} → {entry.recipient} [{entry.status}] {entry.kind}")
    if note := _status_note(entry):
        print(f"    ({note})")
    for reply in entry.replies:
        print("    " + console.render(reply).replace("\n", "\n    "))


def _status_note(entry: OutboxEntry) -> str | None:
    """Why a message is not (yet) sent, when it is not."""
    if entry.status == "retry":
        when = f"{entry.next_attempt_at:%Y-%m-%d %H:%M:%S} UTC"
        return f"attempt {entry.attempts} failed: {entry.last_error}; next try {when}"
    if entry.status == "failed":
        return f"failed: {entry.last_error}"
    if entry.status == "sandbox" and entry.last_error:
        return f"not sent: {entry.last_error}"
    return None


# --- telegram ---------------------------------------------------------------------------------
TELEGRAM_WEBHOOK_PATH = "/webhooks/telegram"  # DESIGN.md §5, web/routes/webhooks.py
TELEGRAM_SETTINGS = ("BILLBOT_TELEGRAM_BOT_TOKEN", "BILLBOT_TELEGRAM_WEBHOOK_SECRET")


def _telegram_settings(*, checked: bool) -> Settings:
    """The settings, refused (exit 2, one line) when Telegram's are missing; `checked` adds
    the production checks (the signing secret) after that."""
    settings = Settings.from_env(checked=False)
    config = settings.channels
    values = (config.telegram_bot_token, config.telegram_webhook_secret)
    missing = [name for name, value in zip(TELEGRAM_SETTINGS, values, strict=True) if not value]
    if missing:
        raise UsageError(f"Telegram is not configured: set {' and '.join(missing)}")
    if checked:
        settings.check()
    return settings


def _telegram_of(channels: Mapping[str, Webhook]) -> TelegramChannel:
    from channels.telegram import TelegramChannel

    channel = channels.get("telegram")
    if not isinstance(channel, TelegramChannel):  # _telegram_settings checked the settings
        raise UsageError("Telegram is not configured")
    return channel


@contextlib.contextmanager
def _telegram_errors() -> Iterator[None]:
    """Telegram's refusals and a malformed bot token as one line (exit 1 and 2)."""
    from bot.channel_settings import ChannelSettingsError
    from channels.telegram_sender import TelegramCallError

    try:
        yield
    except ChannelSettingsError as error:
        raise UsageError(str(error)) from None
    except TelegramCallError as error:
        raise _TelegramFailed(str(error)) from None


class _TelegramFailed(Exception):
    """Telegram refused a call or could not be reached: one line, exit 1."""


def _cmd_telegram_set_webhook(args: argparse.Namespace) -> int:
    settings = _telegram_settings(checked=False)
    if settings.public_url == Settings().public_url:  # the default: BILLBOT_PUBLIC_URL unset
        raise UsageError(
            "BILLBOT_PUBLIC_URL is not set: Telegram posts updates to it (https://…) + "
            + TELEGRAM_WEBHOOK_PATH
        )
    try:
        url = asyncio.run(_set_webhook(settings))
    except _TelegramFailed as error:
        return _error(error, 1)
    print(f"Telegram webhook set: {url} (with the secret token; commands published)")
    return 0


async def _set_webhook(settings: Settings) -> str:
    """Register the webhook with its secret and publish the bot's commands; the URL."""
    from bot.bootstrap import build_channels
    from bot.clock import SystemClock
    from channels.telegram_polling import set_webhook

    url = settings.public_url + TELEGRAM_WEBHOOK_PATH
    with _telegram_errors():
        built = build_channels(settings, SystemClock())  # no I/O, no database
        try:
            telegram = _telegram_of(built.by_webhook)
            await set_webhook(telegram.bot, url, settings.channels.telegram_webhook_secret)
            await telegram.sender.set_commands()
        finally:
            for close in built.closers:
                await close()
    return url


def _cmd_telegram_poll(args: argparse.Namespace) -> int:
    settings = _telegram_settings(checked=True)
    try:
        return asyncio.run(_poll(settings))
    except _TelegramFailed as error:
        return _error(error, 1)


async def _poll(settings: Settings) -> int:
    """Long-poll until SIGTERM or Ctrl-C, each update taking the webhook's way in; the outbox
    delivers in the background meanwhile, and what is due is delivered before exiting. A
    signal during start-up lets start-up finish, then stops before the first poll."""
    if settings.delivery != "live":
        log.warning(
            "BILLBOT_DELIVERY is not live: replies are recorded (billbot messages), not sent"
        )
    stop = asyncio.Event()
    with stopped_by_signals(stop), _telegram_errors():
        await _poll_until(settings, stop)
    return 0


async def _poll_until(settings: Settings, stop: asyncio.Event) -> None:
    from bot.bootstrap import build_services
    from bot.outbox import OutboxWorker
    from bot.recovery import RecoverySweeper
    from channels.telegram_polling import delete_webhook, poll

    services = await build_services(await prepare(settings))
    worker = OutboxWorker(services.outbox)
    sweeper = RecoverySweeper(
        services.conversations, every_seconds=settings.recovery_sweep_seconds
    )
    try:
        telegram = _telegram_of(services.channels)
        await delete_webhook(telegram.bot)  # Telegram refuses getUpdates (409) while one is set
        await telegram.sender.set_commands()
        worker.start()
        sweeper.start()
        print("billbot: polling Telegram for updates (Ctrl-C to stop)", flush=True)
        await poll(telegram.bot, _update_handler(services, telegram), stop=stop)
    finally:
        await sweeper.stop()
        await worker.stop()
        await services.close()  # delivers what is due (bounded), then closes the sessions


class _StillAnswering(Exception):
    """The engine is answering an earlier copy of the update: polling retries it later."""


def _update_handler(
    services: Services, telegram: TelegramChannel
) -> Callable[[dict[str, Any]], Awaitable[None]]:
    """What `poll` hands each update to: the way a webhook's update takes (verified already:
    it came from Telegram over the bot's own connection)."""
    from bot.channel import BadWebhook

    async def handle(update: dict[str, Any]) -> None:
        try:
            parsed = telegram.parse_update(update)
        except BadWebhook as error:  # skipped: retrying it would stop polling for good
            log.warning("telegram: skipping update %s (%s)", update.get("update_id"), error)
            return
        received = await services.inbox.receive(telegram, parsed)
        if received.retry_after is not None:
            raise _StillAnswering

    return handle
