"""The BillingClient port: everything the bot asks of a billing system."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Collection, Mapping
from datetime import date, datetime

from billing_client.errors import InvalidRequestError
from billing_client.types import (
    Account,
    AlertFacts,
    AuditEntry,
    Balance,
    BarResult,
    BillDays,
    BillLimit,
    CapBarResult,
    ContactChange,
    InvoiceDetail,
    InvoiceSummary,
    LimitChange,
    Line,
    LowBalanceFact,
    Money,
    Payment,
    PaymentLink,
    Ticket,
    TicketMessage,
    TicketUpdate,
    UsageCounter,
)

NO_CAPS = "spending limits are not available from this billing system"


class BillingClient(ABC):
    """Async port to a billing system. Write methods are idempotent on their key.

    `now` arguments let callers (and tests) supply the clock; they are aware UTC datetimes.
    """

    # --- identity -----------------------------------------------------------------------------
    @abstractmethod
    async def find_account_by_msisdn(self, msisdn: str) -> Account | None:
        """The account owning the line or contact address with this E.164 number."""

    @abstractmethod
    async def get_account(self, account_id: int) -> Account: ...

    @abstractmethod
    async def list_lines(self, account_id: int) -> list[Line]: ...

    # --- money --------------------------------------------------------------------------------
    @abstractmethod
    async def get_balance(self, account_id: int, *, now: datetime) -> Balance: ...

    @abstractmethod
    async def list_invoices(
        self, account_id: int, *, now: datetime, limit: int = 3
    ) -> list[InvoiceSummary]:
        """Newest first; status "overdue" derived from `now`."""

    @abstractmethod
    async def get_invoice(self, invoice_id: int, *, now: datetime) -> InvoiceDetail: ...

    async def find_invoice(
        self, account_id: int, number: str, *, now: datetime
    ) -> InvoiceSummary | None:
        """The account's issued (not draft) invoice with this number, or None (a billing
        event names invoices by number). By default among the account's latest 24."""
        invoices = await self.list_invoices(account_id, now=now, limit=24)
        return next((invoice for invoice in invoices if invoice.number == number), None)

    @abstractmethod
    async def get_usage(self, account_id: int, *, now: datetime) -> list[UsageCounter]: ...

    @abstractmethod
    async def create_payment_link(
        self, account_id: int, invoice_id: int, *, now: datetime, ttl_seconds: int
    ) -> PaymentLink:
        """A link for the invoice's amount due; raises InvalidRequestError if nothing is due."""

    @abstractmethod
    async def get_payment_link(self, link_id: str, *, now: datetime) -> PaymentLink: ...

    @abstractmethod
    async def pay_link(
        self, link_id: str, *, provider: str, provider_reference: str, now: datetime
    ) -> Payment:
        """Record the payment for a link once; a replayed reference returns the first payment."""

    @abstractmethod
    async def record_payment(
        self,
        account_id: int,
        invoice_id: int | None,
        amount: Money,
        *,
        provider: str,
        provider_reference: str,
        now: datetime,
    ) -> Payment:
        """Record a (possibly partial) payment; unique on (provider, provider_reference)."""

    # --- verification and barring -------------------------------------------------------------
    @abstractmethod
    async def verify_pin(self, account_id: int, pin: str, *, actor: str, now: datetime) -> None:
        """Check the account's PIN for `actor`, the requester (`"{channel}:{sender}"`).

        Returns on success; VerificationError on a wrong PIN; AccountLockedError once this
        requester has had 5 wrong PINs in a row (30 minutes; other requesters, the owner's own
        phone included, can still verify); PinChecksPausedError when the account had 15 wrong
        PINs from anyone in 24 hours (everyone is refused and a support ticket is opened).
        Every attempt is audited; the PIN never is.
        """

    @abstractmethod
    async def verify_line_pin(
        self, msisdn: str, pin: str, *, requester: str, now: datetime
    ) -> Line:
        """The line with this E.164 number once its account's PIN is right.

        For someone who names a number rather than being identified by it. A number with no
        line behaves exactly like a wrong PIN, with the same cost (a dummy hash), the same
        countdown and the same locks, so the answers never tell whether it is a customer's.
        The requester's lock is per (number, requester); the daily cap is the account's (or
        the number's, when it has none). Raises InvalidRequestError if `msisdn` is not E.164.
        """

    @abstractmethod
    async def bar_line(
        self, line_id: int, *, reason: str, idempotency_key: str, actor: str, now: datetime
    ) -> BarResult:
        """Bar the line once. A replayed key returns the original result with created=False."""

    # --- tickets ------------------------------------------------------------------------------
    @abstractmethod
    async def create_ticket(
        self,
        account_id: int,
        *,
        subject: str,
        description: str,
        channel: str,
        idempotency_key: str,
        now: datetime,
    ) -> Ticket: ...

    @abstractmethod
    async def list_tickets(self, account_id: int) -> list[Ticket]: ...

    async def update_ticket(
        self, update: TicketUpdate, *, idempotency_key: str, now: datetime
    ) -> Ticket:
        """Apply the helpdesk's update (status and/or a message to the customer); a replayed
        key changes nothing and returns the ticket with created=False. NotFoundError for an
        unknown reference."""
        raise InvalidRequestError("ticket updates are not available from this billing system")

    async def ticket_messages(self, account_id: int, reference: str) -> list[TicketMessage]:
        """The ticket's conversation, oldest first; NotFoundError unless it is this account's."""
        raise InvalidRequestError("ticket messages are not available from this billing system")

    # --- the customer's own records (web view) ----------------------------------------------
    async def list_payments(self, account_id: int, *, limit: int = 50) -> list[Payment]:
        """The account's payments, newest first."""
        raise InvalidRequestError("payment history is not available from this billing system")

    async def get_payment(self, account_id: int, payment_id: int) -> Payment:
        """One of the account's payments; NotFoundError for anyone else's (no existence leak)."""
        raise InvalidRequestError("payment history is not available from this billing system")

    async def update_contact(
        self, account_id: int, change: ContactChange, *, actor: str, now: datetime
    ) -> Account:
        """Change the account's email, language or time zone; audited. InvalidRequestError
        for a malformed value."""
        raise InvalidRequestError("contact changes are not available from this billing system")

    # --- audit --------------------------------------------------------------------------------
    @abstractmethod
    async def list_audit(self, *, limit: int = 50) -> list[AuditEntry]: ...

    async def low_balance_facts(
        self, *, account_ids: Collection[int] | None = None
    ) -> tuple[LowBalanceFact, ...]:
        """Prepaid accounts whose balance is under the level their customer set (only these
        accounts' when given). A billing system that cannot tell sends no such alerts."""
        return ()

    # --- spending caps (bill-shock protection) -------------------------------------------------
    # A billing system without spending caps keeps these defaults: the bot says caps are not
    # available rather than pretending to set one.
    async def get_bill_limit(self, account_id: int, *, now: datetime) -> BillLimit:
        """The account's cap, its unbilled charges this cycle and the lines it bars."""
        raise InvalidRequestError(NO_CAPS)

    async def set_bill_limit(
        self, account_id: int, change: LimitChange, *, actor: str, now: datetime
    ) -> BillLimit:
        """Set, change or remove the cap (audited); a cap bar that no longer applies (the cap
        was raised past the charges, removed, or set to notice only) is lifted."""
        raise InvalidRequestError(NO_CAPS)

    async def continue_past_limit(
        self, account_id: int, *, actor: str, now: datetime
    ) -> BillLimit:
        """The customer's CONTINUE: no cap bar until the end of the cycle, and the cap bars
        there are lifted (audited). InvalidRequestError when the account has no cap."""
        raise InvalidRequestError(NO_CAPS)

    async def bar_over_limit(self, account_id: int, *, actor: str, now: datetime) -> CapBarResult:
        """Bar chargeable usage on the account's lines when its cap is reached, the customer
        chose barring and has not said CONTINUE this cycle (audited); otherwise nothing.
        Idempotent: lines already barred are left as they are."""
        raise InvalidRequestError(NO_CAPS)

    # --- proactive alerts ---------------------------------------------------------------------
    async def alert_facts(
        self,
        *,
        now: datetime,
        issued_since: date,
        due_until: date,
        usage_floor: int,
        account_ids: Collection[int] | None = None,
        changed_since: datetime | None = None,
        dated: Mapping[str, BillDays] | None = None,
    ) -> AlertFacts:
        """What the alert scan looks at, read set-based: open invoices issued on or after
        `issued_since` or due on or before `due_until`; current-cycle allowances used to at
        least `usage_floor` percent; spending caps reached to their alert level. Only these
        accounts' when `account_ids` is given (an event's). A billing system that cannot tell
        sends no scheduled alerts (the default).

        `dated` names, per time zone, the days a bill is issued on or due on for one of its
        alerts to be due (`BillDays`): the open bills of the zone's accounts issued or due on
        one of them are read instead of every open bill in the window (a full scan's, without
        `changed_since`); with it, in addition to the bills written since (the days that just
        began). With `changed_since` (a previous answer's
        `watermark`), only the facts in what was written since: allowances, bills (those no
        longer open in `closed`), unbilled charges and caps. Without `account_ids` the answer
        has a `watermark` for the next time; without one the next scan must read everything."""
        return AlertFacts()
