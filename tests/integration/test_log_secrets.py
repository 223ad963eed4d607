"""No log record of a whole pay + bar conversation holds a link token, PIN, card or phone number.

Every logger is captured at DEBUG (SQLAlchemy's SQL and rows, httpx, aiosqlite, billbot's own
access log and modules). billbot's own records must be clean as emitted; every record, third
party ones included, must be clean once billbot's log handler (`RedactingFilter`) wrote it.
"""

from __future__ import annotations

import copy
import io
import logging
import re
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from bot.logs import FORMAT, RedactingFilter

SAM, JORDAN = "+12025550102", "+12025550103"
OURS = {"bot", "channels", "intents", "billing_client", "scheduler", "web", "billbot"}
CARD = "4111 1111 1111 1111"


def _secrets(token: str) -> list[re.Pattern[str]]:
    """What no log line may show: the link token, Sam's PIN, the card, the full numbers."""
    numbers = [SAM, JORDAN, SAM[2:], JORDAN[2:], SAM[1:], JORDAN[1:]]
    return [
        re.compile(re.escape(token)),
        re.compile(re.escape(token.rsplit(".", 1)[-1])),  # the signature alone
        re.compile(r"(?<![0-9A-Za-z])1357(?![0-9A-Za-z])"),
        re.compile(r"4111[\s.\-]?1111[\s.\-]?1111[\s.\-]?1111"),
        *(re.compile(rf"(?<!\d){re.escape(number)}(?!\d)") for number in numbers),
    ]


async def _say(client: httpx.AsyncClient, session: str | None, text: str) -> dict[str, Any]:
    body: dict[str, Any] = {"text": text, "as": SAM}
    if session:
        body["session"] = session
    response = await client.post("/api/chat", json=body)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


def _leaks(text: str, patterns: list[re.Pattern[str]]) -> list[str]:
    return [pattern.pattern for pattern in patterns if pattern.search(text)]


async def test_a_pay_and_bar_conversation_leaves_no_secret_in_any_log_record(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    _capture_every_logger_at_debug(caplog)
    paid = await _say(client, None, "pay my bill")
    link = next(reply["link"] for reply in paid["replies"] if reply.get("link"))
    path = urlsplit(link).path
    token = path.rsplit("/", 1)[1]
    assert (await client.get(path)).status_code == 200
    session = paid["session"]
    texts = []
    for text in ("I lost my phone", "2", "1357", "yes", f"my card is {CARD}"):
        answer = await _say(client, session, text)
        texts.append(" ".join(reply["text"] for reply in answer["replies"]))
    assert re.search(r"B-\d{6}", " ".join(texts)), texts  # the line really was barred

    patterns = _secrets(token)
    records = list(caplog.records)
    own = [record for record in records if record.name.split(".")[0] in OURS]
    for record in own:
        assert _leaks(_as_written(record, redacting=False), patterns) == [], record.name

    written = "".join(_as_written(record, redacting=True) for record in records)
    assert _leaks(written, patterns) == []
    access = [r.getMessage() for r in records if r.name == "billbot.access"]
    assert any(line.startswith("GET /pay/… 200") for line in access), access
    assert any(line.startswith("POST /api/chat 200") for line in access), access


def _capture_every_logger_at_debug(caplog: pytest.LogCaptureFixture) -> None:
    """Root at DEBUG, and every logger that set its own level (SQLAlchemy sets WARNING)."""
    caplog.set_level(logging.DEBUG)
    for name, logger in list(logging.root.manager.loggerDict.items()):
        if isinstance(logger, logging.Logger) and logger.level != logging.NOTSET:
            caplog.set_level(logging.DEBUG, logger=name)


def _as_written(record: logging.LogRecord, *, redacting: bool) -> str:
    """The record as a handler writes it, with or without billbot's redacting filter."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter(FORMAT))
    if redacting:
        handler.addFilter(RedactingFilter())
    handler.handle(copy.copy(record))
    return stream.getvalue()
