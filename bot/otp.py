"""One-time codes that are never stored: derived from a reference and the app's secret.

A code is `HMAC-SHA256(secret, reference)` read as six decimal digits. The flow that asks for
one keeps only the random reference (in its state); the message that carries the code holds a
placeholder with the reference (`placeholder`), which the outbox fills in just before the send
(`fill`). So no database row, log line or outbound-message log ever holds the code, and
checking a typed code recomputes it (`matches`, constant time). Without the secret a
reference is worthless.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import timedelta

LENGTH = 6
TTL = timedelta(minutes=10)
MAX_TRIES = 5
_PLACEHOLDER = re.compile(r"\[\[one-time-code:([A-Za-z0-9_-]{8,64})\]\]")
HIDDEN = "••••••"


class OneTimeCodes:
    """Makes, fills in and checks codes; see the module docstring."""

    def __init__(self, secret: str) -> None:
        self._key = hashlib.sha256(b"billbot one-time codes\0" + secret.encode()).digest()

    @staticmethod
    def new_reference() -> str:
        return secrets.token_urlsafe(16)

    def code(self, reference: str) -> str:
        digest = hmac.new(self._key, reference.encode(), hashlib.sha256).digest()
        return str(int.from_bytes(digest[:8], "big") % 10**LENGTH).zfill(LENGTH)

    def matches(self, reference: str, typed: str) -> bool:
        """Whether `typed` (spaces and dashes ignored) is the code for `reference`."""
        digits = re.sub(r"[\s-]", "", typed)
        return hmac.compare_digest(digits.encode(), self.code(reference).encode())

    def fill(self, text: str) -> str:
        """`text` with every placeholder replaced by its code (at the last moment)."""
        return _PLACEHOLDER.sub(lambda match: self.code(match.group(1)), text)


def placeholder(reference: str) -> str:
    """Where the code goes in a message's text."""
    return f"[[one-time-code:{reference}]]"


def hide(text: str) -> str:
    """`text` with placeholders shown as dots (the outbound-message log)."""
    return _PLACEHOLDER.sub(HIDDEN, text)
