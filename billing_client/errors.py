"""The billing port's exception tree; the bot maps these to replies in one place (bot.errors)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from billing_client.types import Account, Money


class BillingError(Exception):
    """Base of every error a BillingClient raises on purpose."""


class NotFoundError(BillingError):
    """The account, line, invoice, link or ticket does not exist (or is not the caller's)."""


class InvalidRequestError(BillingError):
    """The request is well-formed but not allowed (e.g. paying a void invoice, expired link)."""


class ConflictError(BillingError):
    """An idempotency key was reused with different data."""


class InsufficientBalanceError(InvalidRequestError):
    """A prepaid purchase costs more than the balance holds: `shortfall` is what is missing."""

    def __init__(self, balance: Money, price: Money) -> None:
        super().__init__(f"the prepaid balance {balance.minor} is less than {price.minor}")
        self.balance = balance
        self.price = price
        self.shortfall = price - balance


class PriceChangedError(InvalidRequestError):
    """What the customer confirmed no longer matches what it would cost now (a new day
    changed a prorated charge, say): nothing was done; show the new price and ask again."""


class VerificationError(BillingError):
    """A PIN (or other secret) did not match; `attempts_left` before this requester is locked."""

    def __init__(self, attempts_left: int) -> None:
        super().__init__(f"verification failed, {attempts_left} attempts left")
        self.attempts_left = attempts_left


class AccountLockedError(BillingError):
    """Too many wrong PINs from this requester: its PIN checks are refused until `until` (UTC).

    `lock_id` names this lock (stable while it lasts, new for the next one) so a notice about
    it is queued once; `started` is True on the attempt that caused it. `holder` is the account
    whose PIN was tried, for telling its holder; None when the number has no account (the
    requester is told exactly the same, so it cannot tell the difference).
    """

    def __init__(
        self,
        until: datetime,
        *,
        lock_id: str = "",
        started: bool = False,
        holder: Account | None = None,
    ) -> None:
        super().__init__(f"verification locked until {until.isoformat()}")
        self.until = until
        self.lock_id = lock_id
        self.started = started
        self.holder = holder


class PinChecksPausedError(AccountLockedError):
    """The daily cap: PIN checks for the account are paused for every requester until `until`.

    A person takes over: the billing system has opened a support ticket (`ticket_reference`,
    None when the number has no account).
    """

    def __init__(
        self,
        until: datetime,
        *,
        lock_id: str = "",
        started: bool = False,
        holder: Account | None = None,
        ticket_reference: str | None = None,
    ) -> None:
        super().__init__(until, lock_id=lock_id, started=started, holder=holder)
        self.ticket_reference = ticket_reference


class BillingUnavailableError(BillingError):
    """The billing system could not be reached or answered with an error."""


class SecurityLockedError(InvalidRequestError):
    """A SIM change or number transfer the account's lock forbids: `why` is "account_lock"
    (the customer turned the lock on) or "lost_stolen" (the line is barred as lost or stolen,
    which locks it by itself); `msisdn` is the line concerned."""

    def __init__(self, why: str, msisdn: str) -> None:
        super().__init__(f"SIM changes and transfers of {msisdn} are locked ({why})")
        self.why = why
        self.msisdn = msisdn
