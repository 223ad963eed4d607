"""Whole conversations through the real `billbot chat` command, one message per stdin line."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from babel.dates import format_date

from bot.bootstrap import build_services
from bot.settings import Settings
from tests.helpers import pay_through_page
from web.app import create_app

BILLBOT = [sys.executable, "-m", "bot"]
SECRET = "e2e-piped-chat-secret-0123456789"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "BILLBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'chat.db'}",
        "BILLBOT_DEMO": "1",
        "BILLBOT_SECRET_KEY": SECRET,
        "BILLBOT_ENV_FILE": str(tmp_path / "no.env"),
    }


def chat(env: dict[str, str], phone: str, *lines: str) -> str:
    result = subprocess.run(
        [*BILLBOT, "chat", "--as", phone],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result.stdout


def _due_in(days: int, zone: str) -> str:
    day = datetime.now(ZoneInfo(zone)).date() + timedelta(days=days)
    return format_date(day, format="long", locale="en_US")


def test_alex_sees_his_bill_usage_and_opens_a_ticket(env: dict[str, str]) -> None:
    out = chat(
        env,
        "+12025550101",
        "hi, wat do i owe",
        "how much data have i used",
        "my internet keeps dropping every evening",
        "yes",
    )
    assert "$64.20" in out
    assert _due_in(10, "America/New_York") in out
    assert "41.5 GB of 50 GB" in out
    assert re.search(r"T-\d{6}", out)


def test_sam_bars_jordans_line_once_with_a_reference(env: dict[str, str]) -> None:
    out = chat(env, "+12025550102", "what do I owe", "lost my fone", "2", "1357", "yes", "yes")
    assert "$118.45" in out
    assert "overdue" in out
    assert len(re.findall(r"B-\d{6}", out)) == 1
    again = chat(env, "+12025550102", "pls block my sim", "2", "1357", "yes")
    assert "already blocked" in again
    messages = subprocess.run(
        [*BILLBOT, "messages", "--json"], capture_output=True, text=True, env=env, check=True
    )
    assert messages.stdout.count('"bar_notice"') == 2  # email and Sam's own line


def test_maria_gets_her_prepaid_balance_in_spanish(env: dict[str, str]) -> None:
    out = chat(env, "+12025550104", "cuánto saldo tengo")
    assert "12,50" in out
    assert "saldo" in out


def test_unknown_phone_gets_a_clear_answer(env: dict[str, str]) -> None:
    out = chat(env, "+12025550199", "balance")
    assert "don't recognise this number" in out


def test_bad_phone_argument_is_a_usage_error(env: dict[str, str]) -> None:
    result = subprocess.run(
        [*BILLBOT, "chat", "--as", "12345"], capture_output=True, text=True, env=env, check=False
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1


async def test_pay_link_from_the_chat_pays_once_and_balance_shows_it(
    env: dict[str, str],
) -> None:
    out = chat(env, "+12025550101", "pay my bill")
    url = re.search(r"http://127\.0\.0\.1:8000(/pay/\S+)", out)
    assert url is not None
    settings = Settings.from_env(env)
    services = await build_services(settings)
    try:
        app = create_app(settings, services=services)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            page = await client.get(url.group(1))
            assert page.status_code == 200
            assert "$64.20" in page.text
            first = await pay_through_page(client, url.group(1))
            second = await pay_through_page(client, url.group(1))
            assert first.status_code == second.status_code == 200
    finally:
        await services.close()
    after = chat(env, "+12025550101", "balance")
    assert "nothing to pay" in after


def test_chat_links_point_at_billbot_public_url(env: dict[str, str]) -> None:
    server = {**env, "BILLBOT_PUBLIC_URL": "http://billbot.example:9000/"}
    out = chat(server, "+12025550101", "pay my bill", "send me my last invoice")
    assert re.search(r"http://billbot\.example:9000/pay/\S+", out), out
    assert re.search(r"http://billbot\.example:9000/signin/link/\S+", out), out
    assert "127.0.0.1:8000" not in out
