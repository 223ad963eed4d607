"""The billing port's exception tree; the bot maps these to replies in one place (bot.errors)."""

from __future__ import annotations

from datetime import datetime


class BillingError(Exception):
    """Base of every error a BillingClient raises on purpose."""


class NotFoundError(BillingError):
    """The account, line, invoice, link or ticket does not exist (or is not the caller's)."""


class InvalidRequestError(BillingError):
    """The request is well-formed but not allowed (e.g. paying a void invoice, expired link)."""


class ConflictError(BillingError):
    """An idempotency key was reused with different data."""


class VerificationError(BillingError):
    """A PIN (or other secret) did not match."""

    def __init__(self, attempts_left: int) -> None:
        super().__init__(f"verification failed, {attempts_left} attempts left")
        self.attempts_left = attempts_left


class AccountLockedError(BillingError):
    """Too many failed verifications; locked until `until` (UTC)."""

    def __init__(self, until: datetime) -> None:
        super().__init__(f"verification locked until {until.isoformat()}")
        self.until = until


class BillingUnavailableError(BillingError):
    """The billing system could not be reached or answered with an error."""
