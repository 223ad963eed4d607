"""`billbot telegram set-webhook` and `billbot telegram poll` as subprocesses, against a fake
Telegram Bot API (tests/telegram_fake.py) and a fake Twilio (tests/twilio_fake.py) that run in
the test's event loop on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from tests.telegram_fake import TOKEN, FakeBotApi, running_fake, text_message
from tests.twilio_fake import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio

BILLBOT = [sys.executable, "-m", "bot"]
SECRET = "e2e-telegram-cli-secret-0123456789"
WEBHOOK_SECRET = "tg-webhook-secret_0123456789"
PUBLIC = "https://bot.example.test"
OUR_NUMBER = "+12025550999"
ALEX_CHAT = 4242
CODE = re.compile(r"\b(\d{6})\b")


def base_env(tmp_path: Path) -> dict[str, str]:
    """The environment without any BILLBOT_ setting of the caller's, on a fresh database."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("BILLBOT_") or key.startswith("BILLBOT_TEST_")
    }
    return {
        **env,
        "BILLBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'billbot.db'}",
        "BILLBOT_SECRET_KEY": SECRET,
        "BILLBOT_SCHEDULER": "false",
        "BILLBOT_ENV_FILE": str(tmp_path / "no.env"),
    }


def telegram_env(tmp_path: Path, api: FakeBotApi) -> dict[str, str]:
    return {
        **base_env(tmp_path),
        "BILLBOT_PUBLIC_URL": PUBLIC,
        "BILLBOT_TELEGRAM_BOT_TOKEN": TOKEN,
        "BILLBOT_TELEGRAM_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "BILLBOT_TELEGRAM_API_BASE": api.base_url,
    }


@pytest.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    async with running_fake() as fake:
        yield fake


@pytest.fixture
async def twilio() -> AsyncIterator[FakeTwilio]:
    async with FakeTwilio() as fake:
        yield fake


async def billbot(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    """Run billbot to the end without blocking the event loop the fakes serve from."""
    process = await asyncio.create_subprocess_exec(
        *BILLBOT,
        *args,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def until(
    condition: Callable[[], bool],
    what: str,
    *,
    process: asyncio.subprocess.Process,
    log: Path,
    seconds: float = 60,
) -> None:
    """Wait (yielding to the fakes) until `condition()` holds; fail at once, with billbot's
    stderr, when the process ends first or the time runs out."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not condition():
        if process.returncode is not None or loop.time() > deadline:
            ended = f"exited with {process.returncode}" if process.returncode is not None else ""
            pytest.fail(f"waiting for {what}: billbot {ended or 'timed out'}\n{read(log)}")
        await asyncio.sleep(0.05)


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8", errors="replace")


def texts_to(api: FakeBotApi, chat: int) -> list[str]:
    calls = api.calls_to("sendMessage")
    return [call.params["text"] for call in calls if call.params["chat_id"] == str(chat)]


# --- set-webhook --------------------------------------------------------------------------------
async def test_set_webhook_registers_the_public_url_with_the_secret_and_the_commands(
    tmp_path: Path, api: FakeBotApi
) -> None:
    code, out, err = await billbot(telegram_env(tmp_path, api), "telegram", "set-webhook")

    assert code == 0, err
    [call] = api.calls_to("setWebhook")
    assert call.params["url"] == f"{PUBLIC}/webhooks/telegram"
    assert call.params["secret_token"] == WEBHOOK_SECRET
    assert call.json("allowed_updates") == ["message", "callback_query"]
    [commands] = api.calls_to("setMyCommands")
    assert [c["command"] for c in commands.json("commands")] == ["start", "help", "menu", "stop"]
    assert f"{PUBLIC}/webhooks/telegram" in out
    assert TOKEN not in out + err and WEBHOOK_SECRET not in out + err


async def test_set_webhook_refused_by_telegram_is_one_line_and_exit_1(
    tmp_path: Path, api: FakeBotApi
) -> None:
    env = {**telegram_env(tmp_path, api), "BILLBOT_TELEGRAM_BOT_TOKEN": "999999:WRONG-token"}

    code, _, err = await billbot(env, "telegram", "set-webhook")

    assert code == 1
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "Unauthorized" in err
    assert "WRONG-token" not in err


def test_set_webhook_without_a_public_url_is_exit_2(tmp_path: Path) -> None:
    env = {
        **base_env(tmp_path),
        "BILLBOT_TELEGRAM_BOT_TOKEN": TOKEN,
        "BILLBOT_TELEGRAM_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "BILLBOT_TELEGRAM_API_BASE": "http://127.0.0.1:9",  # never called
    }

    result = run(env, "telegram", "set-webhook")

    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "BILLBOT_PUBLIC_URL" in result.stderr


# --- without the settings -----------------------------------------------------------------------
def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*BILLBOT, *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
        stdin=subprocess.DEVNULL,
    )


@pytest.mark.parametrize(
    ("command", "given", "missing"),
    [
        ("set-webhook", {}, ["BILLBOT_TELEGRAM_BOT_TOKEN", "BILLBOT_TELEGRAM_WEBHOOK_SECRET"]),
        ("poll", {}, ["BILLBOT_TELEGRAM_BOT_TOKEN", "BILLBOT_TELEGRAM_WEBHOOK_SECRET"]),
        ("poll", {"BILLBOT_TELEGRAM_BOT_TOKEN": TOKEN}, ["BILLBOT_TELEGRAM_WEBHOOK_SECRET"]),
    ],
    ids=["set-webhook-nothing", "poll-nothing", "poll-no-secret"],
)
def test_without_the_telegram_settings_both_commands_name_them_and_exit_2(
    tmp_path: Path, command: str, given: dict[str, str], missing: list[str]
) -> None:
    env = {**base_env(tmp_path), "BILLBOT_PUBLIC_URL": PUBLIC, **given}

    result = run(env, "telegram", command)

    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.stderr
    for name in missing:
        assert name in result.stderr
    assert not (tmp_path / "billbot.db").exists()  # refused before touching the database


# --- poll ---------------------------------------------------------------------------------------
def contact_message(phone: str, *, chat: int) -> dict[str, object]:
    message = text_message("", chat_id=chat)
    del message["text"]
    return message | {"contact": {"phone_number": phone, "first_name": "Alex", "user_id": chat}}


async def test_poll_answers_updates_until_sigterm(
    tmp_path: Path, api: FakeBotApi, twilio: FakeTwilio
) -> None:
    env = {
        **telegram_env(tmp_path, api),
        "BILLBOT_DEMO": "1",  # the demo customers, seeded at start-up
        "BILLBOT_DELIVERY": "live",
        "BILLBOT_TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "BILLBOT_TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "BILLBOT_TWILIO_SMS_FROM": OUR_NUMBER,
        "BILLBOT_TWILIO_API_BASE": twilio.base_url,
    }
    api.push_update({"message": text_message("/start", chat_id=ALEX_CHAT)})
    api.push_update({"message": contact_message("12025550101", chat=ALEX_CHAT)})
    out_file, err_file = tmp_path / "out.txt", tmp_path / "err.txt"
    with out_file.open("wb") as out, err_file.open("wb") as err:
        process = await asyncio.create_subprocess_exec(
            *BILLBOT, "telegram", "poll", env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=err
        )
    try:
        await until(
            lambda: len(twilio.messages) == 1, "the code by SMS", process=process, log=err_file
        )
        [code] = CODE.findall(twilio.messages[0].get("Body") or "")
        api.push_update({"message": text_message(code, chat_id=ALEX_CHAT)})
        api.push_update({"message": text_message("balance", chat_id=ALEX_CHAT)})
        await until(
            lambda: any("$64.20" in text for text in texts_to(api, ALEX_CHAT)),
            "the balance",
            process=process,
            log=err_file,
        )
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        code_at_exit = await asyncio.wait_for(process.wait(), 60)
    stderr = read(err_file)

    assert code_at_exit == 0, stderr
    assert "Traceback" not in stderr
    said = texts_to(api, ALEX_CHAT)
    assert "share your phone number" in said[0]
    assert any("linked to your account, Alex" in text for text in said)
    polling_calls = [c.method for c in api.calls if c.method in ("deleteWebhook", "getUpdates")]
    assert polling_calls[0] == "deleteWebhook"  # else Telegram answers getUpdates with 409
    assert api.pending_update_ids == []  # every update confirmed
    assert "polling Telegram" in read(out_file)
    assert TOKEN not in stderr


async def test_poll_greets_an_unlinked_chat_and_stops_on_ctrl_c(
    tmp_path: Path, api: FakeBotApi
) -> None:
    env = {**telegram_env(tmp_path, api), "BILLBOT_DEMO": "1", "BILLBOT_DELIVERY": "live"}
    api.push_update({"message": text_message("/start", chat_id=ALEX_CHAT)})
    err_file = tmp_path / "err.txt"
    with err_file.open("wb") as err:
        process = await asyncio.create_subprocess_exec(
            *BILLBOT,
            "telegram",
            "poll",
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
    try:
        await until(
            lambda: bool(texts_to(api, ALEX_CHAT)),
            "the answer to /start",
            process=process,
            log=err_file,
        )
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGINT)
        code_at_exit = await asyncio.wait_for(process.wait(), 60)

    assert code_at_exit == 0, read(err_file)
    assert "Traceback" not in read(err_file)
    [call] = [c for c in api.calls_to("sendMessage") if c.params["chat_id"] == str(ALEX_CHAT)]
    [[button]] = call.json("reply_markup")["keyboard"]
    assert button["request_contact"] is True


async def test_poll_with_a_token_telegram_refuses_is_one_line_and_exit_1(
    tmp_path: Path, api: FakeBotApi
) -> None:
    env = {
        **telegram_env(tmp_path, api),
        "BILLBOT_DEMO": "1",
        "BILLBOT_TELEGRAM_BOT_TOKEN": "999999:WRONG-token",
    }

    code, _, err = await billbot(env, "telegram", "poll")

    assert code == 1, err
    lines = [line for line in err.splitlines() if line.startswith("billbot: error:")]
    assert len(lines) == 1 and "Unauthorized" in lines[0]
    assert "Traceback" not in err and "WRONG-token" not in err
    assert api.calls_to("getUpdates") == []
