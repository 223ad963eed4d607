"""`python -m bench.webhooks`: the messaging channels under load, against a bare endpoint.

1. **Webhooks**: a signed Twilio SMS webhook ("balance" → the reply queued for the outbox) and a
   Telegram update (a linked chat's "balance") at 32 connections, one uvicorn worker, wrk
   replaying prepared requests (each signed once, each with its own message id, so none is a
   replay), against a bare FastAPI endpoint that parses the same form or JSON, in the same run;
   on SQLite and PostgreSQL. Delivery is the sandbox: the outbox worker records each reply as a
   real one would be recorded, without a provider call.
2. **Outbox delivery**: messages queued, then delivered by `Outbox.deliver_due` through the
   real Twilio and Telegram senders to fake providers on 127.0.0.1 (tests/twilio_fake.py,
   tests/telegram_fake.py): messages a second, with Telegram paced at its 30 a second.
3. **SMS segments**: the demo conversations' replies as `channels.sms_text` renders them.

Prints a Markdown report and writes it to bench/results/webhooks.md. See docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from twilio.request_validator import RequestValidator

from bench.databases import (
    DatabaseUnavailableError,
    billbot_env,
    postgres_server_url,
    prepare,
    sqlite_url,
    throwaway_postgres,
)
from bench.results import LoadResult, ratio
from bench.servers import serving
from bench.wrk import WrkClient, WrkError, find_wrk

RESULTS = Path(__file__).resolve().parent / "results" / "webhooks.md"
REPLAY = Path(__file__).resolve().with_name("replay.lua")
PUBLIC = "http://bench.billbot.invalid"
TWILIO_SID, TWILIO_TOKEN = "AC" + "b" * 32, "bench-twilio-auth-token-0123456789"
TELEGRAM_TOKEN, TELEGRAM_SECRET = "123456:BENCH-token", "bench-telegram-secret"
# Distinct customers (numbers, chats). Enough that none writes more than a few times a run:
# a sender over the inbox's 30 messages a minute is dropped (cheaply), which would flatter
# the figure; the report counts the answers to make sure every message was answered.
SENDERS = 4096
TARGET = 0.10


@dataclass(frozen=True, slots=True)
class Prepared:
    """One request for wrk: path, headers, body."""

    path: str
    headers: Mapping[str, str]
    body: str

    def line(self) -> str:
        headers = "\x1f".join(f"{name}: {value}" for name, value in self.headers.items())
        return f"{self.path}\t{headers}\t{self.body}"


def channel_env() -> dict[str, str]:
    """Twilio SMS and Telegram on (credentials set), their APIs never called (sandbox)."""
    return {
        "BILLBOT_PUBLIC_URL": PUBLIC,
        "BILLBOT_TWILIO_ACCOUNT_SID": TWILIO_SID,
        "BILLBOT_TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
        "BILLBOT_TWILIO_SMS_FROM": "+12025550999",
        "BILLBOT_TWILIO_API_BASE": "http://127.0.0.1:9",
        "BILLBOT_TELEGRAM_BOT_TOKEN": TELEGRAM_TOKEN,
        "BILLBOT_TELEGRAM_WEBHOOK_SECRET": TELEGRAM_SECRET,
        "BILLBOT_TELEGRAM_API_BASE": "http://127.0.0.1:9",
    }


def sms_requests(numbers: Sequence[str], start: int, count: int) -> list[Prepared]:
    """Signed Twilio SMS webhooks, "balance" from each number in turn, unique MessageSids."""
    validator = RequestValidator(TWILIO_TOKEN)
    path = "/webhooks/twilio/sms"
    prepared = []
    for serial in range(start, start + count):
        params = {
            "MessageSid": f"SM{serial:032d}",
            "AccountSid": TWILIO_SID,
            "From": numbers[serial % len(numbers)],
            "To": "+12025550999",
            "Body": "balance",
            "NumMedia": "0",
        }
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": validator.compute_signature(PUBLIC + path, params),
        }
        prepared.append(Prepared(path, headers, urlencode(params)))
    return prepared


def telegram_requests(chats: Sequence[int], start: int, count: int) -> list[Prepared]:
    """Telegram updates with the webhook secret, "balance" from each linked chat in turn."""
    headers = {
        "Content-Type": "application/json",
        "X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET,
    }
    prepared = []
    for serial in range(start, start + count):
        chat = chats[serial % len(chats)]
        update = {
            "update_id": serial,
            "message": {
                "message_id": serial,
                "date": 1_796_000_000,
                "chat": {"id": chat, "type": "private", "first_name": "Bench"},
                "from": {"id": chat, "is_bot": False, "first_name": "Bench"},
                "text": "balance",
            },
        }
        body = json.dumps(update, separators=(",", ":"))
        prepared.append(Prepared("/webhooks/telegram", headers, body))
    return prepared


@contextmanager
def pool_file(requests: Sequence[Prepared]) -> Iterator[Path]:
    with tempfile.NamedTemporaryFile("w", suffix=".pool", encoding="utf-8") as handle:
        handle.write("\n".join(request.line() for request in requests) + "\n")
        handle.flush()
        yield Path(handle.name)


def run_wrk(client: WrkClient, base_url: str, pool: Path, seconds: float, name: str) -> LoadResult:
    """wrk over the pool with replay.lua (the same command line as the chat bench's)."""
    import subprocess

    from bench.wrk import parse_output

    command = client.command(base_url, pool, seconds)
    command[command.index(next(c for c in command if c.startswith("--script=")))] = (
        f"--script={REPLAY}"
    )
    command = command[: command.index("--") + 3]  # the pool and the thread count
    done = subprocess.run(command, capture_output=True, text=True, errors="replace", check=False)
    if done.returncode != 0:
        raise WrkError(f"wrk exited with {done.returncode}: {done.stderr.strip()[-500:]}")
    return parse_output(name, done.stdout)


async def customers(env: Mapping[str, str]) -> list[str]:
    """SENDERS generated customers' numbers, and their Telegram chats linked to them."""
    from bot.bootstrap import seed_demo_data
    from bot.settings import Settings

    settings = Settings.from_env(env)
    await seed_demo_data(settings, size=SENDERS)
    return await _numbers_and_links(settings)


async def _numbers_and_links(settings: object) -> list[str]:
    from datetime import UTC, datetime

    from sqlalchemy import insert, select

    from billing_client.sql.database import create_engine, session_factory
    from billing_client.sql.models import Line
    from bot.store.models import AddressLink

    engine = create_engine(settings.database_url)  # type: ignore[attr-defined]
    try:
        sessions = session_factory(engine)
        async with sessions() as session:
            query = select(Line.msisdn).where(Line.msisdn.not_like("+1202555%")).order_by(Line.id)
            numbers = list((await session.scalars(query.limit(SENDERS))).all())
        now = datetime.now(UTC)
        links = [
            {"channel": "telegram", "address": str(chat_id(i)), "msisdn": n, "linked_at": now}
            for i, n in enumerate(numbers)
        ]
        async with sessions() as session, session.begin():
            await session.execute(insert(AddressLink), links)
        return numbers
    finally:
        await engine.dispose()


def chat_id(index: int) -> int:
    return 7_000_000_000 + index


@dataclass(slots=True)
class Row:
    what: str
    database: str
    result: LoadResult | None
    baseline: LoadResult | None
    note: str = ""
    sent: int = 0  # requests billbot got with a 2xx, warm-up included
    answered: int = 0  # messages it stored as answered


def measure_channels(
    database: str, url: str, workdir: Path, client: WrkClient, args: argparse.Namespace
) -> list[Row]:
    """Bare endpoint, then billbot, for SMS and for Telegram, on one database."""
    env = {**billbot_env(url, workdir), **channel_env()}
    asyncio.run(prepare(env))
    numbers = asyncio.run(customers(env))
    chats = [chat_id(index) for index in range(len(numbers))]
    per_run = int(args.rate * (args.duration + args.warmup + 2))
    kinds = {
        "Twilio SMS webhook": ("sms", lambda start: sms_requests(numbers, start, per_run)),
        "Telegram update": ("telegram", lambda start: telegram_requests(chats, start, per_run)),
    }
    rows = []
    for serial, (what, (channel, make)) in enumerate(kinds.items()):
        pool = make((serial * 2 + 1) * 10_000_000)
        bare_pool = make((serial * 2 + 2) * 10_000_000)
        baseline, _ = load("bare", {}, bare_pool, client, args, f"bare ({what})")
        result, sent = load("billbot", env, pool, client, args, f"billbot ({what})")
        answered = asyncio.run(_answered(env, channel))
        rows.append(Row(what, database, result, baseline, sent=sent, answered=answered))
    return rows


async def _answered(env: Mapping[str, str], channel: str) -> int:
    """How many of the channel's messages the server stored as answered."""
    from sqlalchemy import func, select

    from billing_client.sql.database import create_engine
    from bot.settings import Settings
    from bot.store.models import InboundRecord

    engine = create_engine(Settings.from_env(env).database_url)
    try:
        async with engine.connect() as connection:
            query = select(func.count()).where(
                InboundRecord.channel == channel, InboundRecord.status == "handled"
            )
            return int((await connection.execute(query)).scalar() or 0)
    finally:
        await engine.dispose()


def load(
    app: str,
    env: Mapping[str, str],
    requests: Sequence[Prepared],
    client: WrkClient,
    args: argparse.Namespace,
    name: str,
) -> tuple[LoadResult, int]:
    """Serve `app`, warm it up on the first part of the pool, measure on the rest; the
    measured result and how many requests got a 2xx in all."""
    split = int(len(requests) * args.warmup / (args.warmup + args.duration + 2))
    with serving(app, env) as server:
        with pool_file(requests[:split]) as warm:
            warm_up = run_wrk(client, server.url, warm, args.warmup, "warm-up")
        with pool_file(requests[split:]) as measured:
            result = run_wrk(client, server.url, measured, args.duration, name)
    return result, warm_up.requests + result.requests


def render(rows: Sequence[Row], extra: Sequence[str]) -> str:
    lines = [
        "# billbot webhook benchmark",
        "",
        "| what | database | requests | errors | answered | msg/s | p50 ms | p99 ms | "
        "bare req/s | ratio to bare | target ≥ 0.10 |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|---|",
    ]
    for row in rows:
        if row.result is None or row.baseline is None:
            lines.append(f"| {row.what} | {row.database} | {row.note} |||||||")
            continue
        r, b = row.result, row.baseline
        share = ratio(r, b)
        every = row.answered >= row.sent
        verdict = "met" if share >= TARGET and r.errors == 0 and every else "missed"
        lines.append(
            f"| {row.what} | {row.database} | {r.requests} | {r.errors} | "
            f"{row.answered}/{row.sent} | {r.per_second:.0f} | {r.p50_ms:.1f} | "
            f"{r.p99_ms:.1f} | {b.per_second:.0f} | **{share:.3f}** | {verdict} |"
        )
    return "\n".join([*lines, "", *extra]) + "\n"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.webhooks", description=__doc__)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--rate", type=float, default=2500.0, help="requests prepared a second")
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--skip-load", action="store_true", help="only delivery and segments")
    parser.add_argument("--output", type=Path, default=RESULTS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    from bench.delivery import delivery_section
    from bench.segments import segments_section

    args = parse_args(argv)
    rows: list[Row] = []
    if not args.skip_load:
        wrk = find_wrk()
        if wrk is None:
            print("error: wrk is not installed (as root: apt-get install wrk)")
            return 2
        client = WrkClient(wrk, connections=args.connections, threads=2)
        with tempfile.TemporaryDirectory(prefix="billbot-webhooks-") as tmp:
            workdir = Path(tmp)
            rows += measure_channels("SQLite", sqlite_url(workdir), workdir, client, args)
            if not args.skip_postgres:
                try:
                    with throwaway_postgres(postgres_server_url()) as url:
                        rows += measure_channels("PostgreSQL", url, workdir, client, args)
                except DatabaseUnavailableError as error:
                    rows.append(Row("webhooks", "PostgreSQL", None, None, str(error)))
    extra = [*asyncio.run(delivery_section()), "", *asyncio.run(segments_section())]
    text = render(rows, extra)
    print(text)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    return 1 if any(row.result is not None and row.result.errors for row in rows) else 0


if __name__ == "__main__":
    raise SystemExit(main())
