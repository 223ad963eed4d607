"""billbot's log output: one handler on stderr whose records never carry secrets.

`configure_logging` is called once, by the command-line entry (`bot.cli.main`), never at
import. Its handler runs every record through `RedactingFilter`, which rewrites the message
(and any traceback) with `redact`:

- capability tokens in pay, invoice and sign-in paths: `/pay/<token>` → `/pay/…`;
- Telegram bot tokens in API URLs: `bot123456:AAE…` → `bot…`;
- card numbers (Luhn-valid 13–19 digit windows, `bot.text.redact_card_numbers`);
- E.164-looking phone numbers (`+` and 8–15 digits, separators allowed) → `bot.phones.mask`;
- any other run of 10 or more digits → all but its last four digits hidden (it may be a
  national phone number, an account or a card number).

The filter is a safety net, not the policy: billbot's own code logs masked numbers and never
logs message text, PINs or link tokens in the first place.
"""

from __future__ import annotations

import logging
import re
import sys
from typing import TextIO

from bot.phones import mask
from bot.text import redact_card_numbers

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Paths whose next segment is a capability (whoever holds the URL may use it).
CAPABILITY_PREFIXES = ("/pay/", "/invoices/", "/signin/link/")
HIDDEN = "…"
MAX_PATH_CHARS = 200

_CAPABILITY = re.compile(r"(/(?:pay|invoices|signin/link)/)[^/\s?#\"'<>]+")
_CAPABILITY_SEGMENT = re.compile(r"(/(?:pay|invoices|signin/link)/)[^/]+")  # in a bare path
_TELEGRAM_TOKEN = re.compile(r"\bbot\d{5,}:[\w-]{20,}")
_E164 = re.compile(r"\+(?:\d[ ().\-]{0,2}){7,14}\d")
_DIGIT_RUN = re.compile(r"(?<!\d)\d{10,}(?!\d)")
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f]")
_TRACEBACKS = logging.Formatter()


def redact(text: str) -> str:
    """`text` with capability tokens, bot tokens, card and phone numbers hidden."""
    text = _CAPABILITY.sub(rf"\g<1>{HIDDEN}", text)
    text = _TELEGRAM_TOKEN.sub(f"bot{HIDDEN}", text)
    text, _ = redact_card_numbers(text)
    text = _E164.sub(_mask_e164, text)
    return _DIGIT_RUN.sub(_mask_digits, text)


def redact_path(path: str) -> str:
    """A request path fit for the access log: tokens hidden, control characters dropped, short."""
    path = _CAPABILITY_SEGMENT.sub(rf"\g<1>{HIDDEN}", _UNPRINTABLE.sub("", path))
    if len(path) > MAX_PATH_CHARS:
        path = path[:MAX_PATH_CHARS] + HIDDEN
    return redact(path)


def _mask_e164(match: re.Match[str]) -> str:
    digits = "".join(char for char in match.group() if char.isdigit())
    return mask("+" + digits)


def _mask_digits(match: re.Match[str]) -> str:
    digits = match.group()
    return "•" * (len(digits) - 4) + digits[-4:]


class RedactingFilter(logging.Filter):
    """Rewrites each record's message, traceback and stack with `redact`; drops nothing."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: let the handler report it as usual
            return True
        cleaned = redact(message)
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = _TRACEBACKS.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


class _BillbotHandler(logging.StreamHandler[TextIO]):
    """Marks the handler `configure_logging` installed, so a second call replaces it."""


QUIET = (
    "alembic.runtime.plugins",
    "twilio.http_client",
    "twilio.async_http_client",
    "aiogram",
    "apscheduler.executors",  # "Running job …" twice per job run
)


def configure_logging(level: int, *, stream: TextIO | None = None) -> logging.Handler:
    """Send every logger's records at `level` and above to `stream` (stderr), redacted."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, _BillbotHandler)]:
        root.removeHandler(handler)
    handler = _BillbotHandler(stream or sys.stderr)
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(RedactingFilter())
    root.addHandler(handler)
    root.setLevel(level)
    for name in QUIET:  # libraries that narrate their own start-up or every request at INFO
        logging.getLogger(name).setLevel(max(level, logging.WARNING))
    return handler
