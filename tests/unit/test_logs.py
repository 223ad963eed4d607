"""billbot's log handler hides tokens, card and phone numbers, and keeps everything else."""

from __future__ import annotations

import io
import logging
import sys
from collections.abc import Iterator

import pytest

from bot.logs import RedactingFilter, configure_logging, redact, redact_path

TOKEN = "Ilp1QXcwQVAteEh5U2s4RHNEYXo2a29nT0Qtai1SVFQ0Ig.aw9Fkw.aG6PKupkbOlVlCiauSPFK1rj_2g"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"GET /pay/{TOKEN} 200", "GET /pay/… 200"),
        (f"GET /pay/{TOKEN}/qr.png 200", "GET /pay/…/qr.png 200"),
        (f"http://127.0.0.1:8000/invoices/{TOKEN}?x=1", "http://127.0.0.1:8000/invoices/…?x=1"),
        ("unknown sender +12025550102 on sms", "unknown sender +1202•••0102 on sms"),
        ("typed +1 (202) 555-0101 twice", "typed +1202•••0101 twice"),
        ("wa_id 12025550101 wrote", "wa_id •••••••0101 wrote"),
        ("card 4111 1111 1111 1111 12/29", "card [card number removed] 12/29"),
        (
            "POST https://api.telegram.org/bot123456789:AAEhBP0av28mM0Zx-abcdefghijkl/sendMessage",
            "POST https://api.telegram.org/bot…/sendMessage",
        ),
    ],
)
def test_redact_hides_secrets_and_full_numbers(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "POST /api/chat 200 4.2ms",
        "invoice INV-202603-000001 $64.20 due 2025-03-14 15:30:00,123",
        "ticket T-000123, bar B-000001, 41.5 GB of 50 GB, id 123456789",
    ],
)
def test_redact_leaves_ordinary_log_text_alone(text: str) -> None:
    assert redact(text) == text


def test_request_paths_lose_control_characters_and_are_cut_short() -> None:
    assert redact_path("/pay/abc\r\nFAKE 200") == "/pay/…"
    assert redact_path("/x" * 500).endswith("…")
    assert len(redact_path("/x" * 500)) <= 201


def _record(message: str, *args: object) -> logging.LogRecord:
    return logging.LogRecord("bot.test", logging.WARNING, __file__, 1, message, args, None)


def test_the_filter_rewrites_a_formatted_message_and_keeps_the_record() -> None:
    record = _record("send to %s failed for /pay/%s", "+12025550102", TOKEN)
    assert RedactingFilter().filter(record) is True
    assert record.getMessage() == "send to +1202•••0102 failed for /pay/…"


def test_the_filter_redacts_tracebacks_too() -> None:
    try:
        raise ValueError(f"no account for +12025550102 at /pay/{TOKEN}")
    except ValueError:
        record = logging.LogRecord(
            "bot.test", logging.ERROR, __file__, 1, "failed", None, sys.exc_info()
        )
    RedactingFilter().filter(record)
    assert record.exc_text is not None
    assert "+12025550102" not in record.exc_text
    assert TOKEN not in record.exc_text
    assert "+1202•••0102" in record.exc_text


@pytest.fixture
def restore_root_logger() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.mark.usefixtures("restore_root_logger")
def test_configure_logging_installs_one_redacting_handler_however_often_called() -> None:
    first, second = io.StringIO(), io.StringIO()
    configure_logging(logging.INFO, stream=first)
    configure_logging(logging.INFO, stream=second)
    logging.getLogger("web.test").info("GET /invoices/%s from %s", TOKEN, "+12025550104")
    assert first.getvalue() == ""
    line = second.getvalue()
    assert "INFO web.test: GET /invoices/… from +1202•••0104" in line
    assert line.count("\n") == 1
