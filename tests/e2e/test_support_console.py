"""`bill_explain`, `payment_history`, `ticket_status`, `help` and the paged menu through the real
`billbot chat` command, one message per stdin line, for the demo customers."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests.e2e.test_piped_chat import SECRET, chat


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "BILLBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'chat.db'}",
        "BILLBOT_DEMO": "1",
        "BILLBOT_SECRET_KEY": SECRET,
        "BILLBOT_ENV_FILE": str(tmp_path / "no.env"),
    }


def test_alex_asks_why_his_bill_is_higher_and_for_his_payments(env: dict[str, str]) -> None:
    out = chat(env, "+12025550101", "why is my bill higher?", "my payment history", "help")

    assert "$3.21 more than the one before ($60.99)" in out
    assert "• Directory assistance ($2.00 last time) is not on this bill." in out
    assert re.search(r"\$60\.99 by demo payment — invoice INV-\d{6}-\d+", out)
    assert "/signin/link/" in out
    assert "Talk to a person" in out and "Mon–Fri 8:00–20:00" in out


def test_sam_opens_a_ticket_then_follows_it_up_and_closes_it(env: dict[str, str]) -> None:
    out = chat(
        env,
        "+12025550102",
        "help",
        "1",  # Talk to a person
        "The bill shows a call I never made",
        "yes",
        "any update on my ticket?",
        "close",
        "yes",
        "my tickets",
    )

    [reference] = set(re.findall(r"T-\d{6}", out))
    assert f"{reference} is closed. Thanks for letting us know!" in out
    assert "You don't have any open tickets" in out.split("is closed")[1]


def test_maria_pages_the_menu_in_spanish(env: dict[str, str]) -> None:
    out = chat(env, "+12025550104", "menú", "9", "por qué ha subido mi factura")

    assert "9. Más…" in out
    assert "Más cosas que puedo hacer (página 2 de" in out
    assert "Tienes prepago" in out
