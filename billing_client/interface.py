"""The BillingClient port: everything the bot asks of a billing system."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Collection, Mapping
from datetime import date, datetime

from billing_client.errors import InvalidRequestError
from billing_client.security_types import PortOut, PortOutStatus, SecurityLock, SimKind, SimOrder
from billing_client.types import (
    Account,
    AddOnOptions,
    AddOnPurchase,
    AlertFacts,
    Appointment,
    AppointmentChange,
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
    LineBar,
    LowBalanceFact,
    Money,
    NewOutage,
    Outage,
    Payment,
    PaymentLink,
    PlanChangeResult,
    PlanOptions,
    ServiceStatus,
    TechnicianSlot,
    Ticket,
    TicketMessage,
    TicketUpdate,
    UnbarResult,
    UsageCounter,
)

NO_CAPS = "spending limits are not available from this billing system"
NO_PLANS = "plan changes and add-ons are not available from this billing system"
NO_TOP_UPS = "prepaid top-ups are not available from this billing system"
NO_SECURITY = "this account change is not available from this billing system"
NO_FIELD_SERVICE = "outages and technician visits are not available from this billing system"


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

    # --- account security (step-up verification and what it guards) --------------------------
    # A billing system without these keeps the defaults: the bot says it cannot do it here.
    async def line_bar(self, line_id: int) -> LineBar | None:
        """The line's active bar (what kind decides who may lift it), or None."""
        raise InvalidRequestError(NO_SECURITY)

    async def unbar_line(
        self, line_id: int, *, actor: str, idempotency_key: str, now: datetime
    ) -> UnbarResult:
        """Lift the line's active bar once and put the line back in service; audited.

        A replayed key returns the first result with replayed=True; a line with no active bar
        returns created=False without a reference. A lost-or-stolen bar is refused
        (InvalidRequestError: a replacement SIM instead). Lifting the spending cap's bar also
        stops the cap barring again this cycle (as the customer's CONTINUE does).
        """
        raise InvalidRequestError(NO_SECURITY)

    async def set_pin(
        self,
        account_id: int,
        pin: str,
        *,
        actor: str,
        now: datetime,
        idempotency_key: str | None = None,
    ) -> None:
        """Replace the account's PIN (stored hashed) and clear its wrong-PIN counters and locks;
        audited without the PIN. InvalidRequestError for a PIN the rules refuse
        (`billing_client.pin_rules`). A replayed key changes nothing."""
        raise InvalidRequestError(NO_SECURITY)

    async def record_audit(
        self, account_id: int, action: str, *, actor: str, detail: str = "", now: datetime
    ) -> None:
        """Add an entry about the account to the audit log (a failed verification, say)."""
        raise InvalidRequestError(NO_SECURITY)

    # --- SIM changes, number transfers and their lock (security_types) ----------------------
    # A billing system without these keeps the defaults: the bot says it cannot do it here.
    async def security_lock(self, account_id: int) -> SecurityLock:
        """The account's SIM-change and transfer lock, with its lines barred as lost or stolen
        (locked regardless)."""
        raise InvalidRequestError(NO_SECURITY)

    async def set_security_lock(
        self, account_id: int, locked: bool, *, actor: str, now: datetime
    ) -> SecurityLock:
        """Turn the lock on or off (audited); already so: created=False."""
        raise InvalidRequestError(NO_SECURITY)

    async def order_sim(
        self, line_id: int, kind: SimKind, *, idempotency_key: str, actor: str, now: datetime
    ) -> SimOrder:
        """Order a replacement SIM or eSIM once (audited). The line's open order, or this
        key's, answers created=False; SecurityLockedError while the lock or a lost-or-stolen
        bar forbids SIM changes."""
        raise InvalidRequestError(NO_SECURITY)

    async def activate_sim(
        self, reference: str, *, iccid: str | None, actor: str, now: datetime
    ) -> SimOrder:
        """The new SIM takes over the line and the old one stops working (audited). Active
        already: created=False; InvalidRequestError for a cancelled order or a bad ICCID;
        SecurityLockedError when locked since it was ordered."""
        raise InvalidRequestError(NO_SECURITY)

    async def cancel_sim_order(
        self, reference: str, *, reason: str, actor: str, now: datetime
    ) -> SimOrder:
        """Cancel an open SIM order (audited); not open any more: created=False."""
        raise InvalidRequestError(NO_SECURITY)

    async def list_sim_orders(self, account_id: int) -> list[SimOrder]:
        """The account's SIM orders, newest first."""
        raise InvalidRequestError(NO_SECURITY)

    async def request_port_out(
        self, msisdn: str, carrier: str, *, source_id: str, actor: str, now: datetime
    ) -> PortOut:
        """Record another provider's request to take the number: `pending` (waiting for the
        holder's approval) or `refused` at once when locked. The same `source_id` answers the
        first request with created=False; NotFoundError for a number not served here."""
        raise InvalidRequestError(NO_SECURITY)

    async def decide_port_out(
        self,
        reference: str,
        status: PortOutStatus,
        *,
        reason: str = "",
        actor: str,
        now: datetime,
    ) -> PortOut:
        """`approved` (by the holder after strong verification), `cancelled` or `completed`
        (approved ones only; the line ends). Already so: created=False. InvalidRequestError
        for a move the request's state forbids; SecurityLockedError when locked."""
        raise InvalidRequestError(NO_SECURITY)

    async def list_port_outs(
        self, *, account_id: int | None = None, open_only: bool = False
    ) -> list[PortOut]:
        """Transfer requests, newest first."""
        raise InvalidRequestError(NO_SECURITY)

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

    # --- plans, add-ons and prepaid top-ups -----------------------------------------------------
    # A billing system without them keeps these defaults: the bot says so instead.
    async def plan_options(self, account_id: int, line_id: int, *, now: datetime) -> PlanOptions:
        """The line's plan, its cycle, the plans it can move to with what each costs and when
        it takes effect, and any pending change. NotFoundError for another account's line."""
        raise InvalidRequestError(NO_PLANS)

    async def change_plan(
        self,
        account_id: int,
        line_id: int,
        plan_code: str,
        *,
        expected_charge: Money,
        idempotency_key: str,
        actor: str,
        now: datetime,
    ) -> PlanChangeResult:
        """Move the line to the plan once (audited): an upgrade now, its prorated charge to the
        bill or from the prepaid balance; a downgrade at the next cycle (replacing a pending
        change). PriceChangedError when the charge is no longer `expected_charge` (what the
        customer confirmed); InsufficientBalanceError when a prepaid balance cannot pay it. A
        replayed key, or the change already made, returns it with created=False."""
        raise InvalidRequestError(NO_PLANS)

    async def add_on_options(
        self, account_id: int, line_id: int, *, now: datetime
    ) -> AddOnOptions:
        """The add-ons the line can buy now, those it has, and (prepaid) the balance."""
        raise InvalidRequestError(NO_PLANS)

    async def buy_add_on(
        self,
        account_id: int,
        line_id: int,
        code: str,
        *,
        expected_price: Money,
        idempotency_key: str,
        actor: str,
        now: datetime,
    ) -> AddOnPurchase:
        """Buy the add-on for the line once (audited): charged to the next bill (postpaid) or
        taken from the balance (prepaid, else InsufficientBalanceError); a data add-on raises
        this cycle's allowance. PriceChangedError when the price is not `expected_price`. A
        replayed key returns the first purchase with created=False."""
        raise InvalidRequestError(NO_PLANS)

    async def apply_due_plan_changes(self, *, now: datetime) -> int:
        """Apply the pending plan changes whose day has come (idempotent); how many."""
        return 0

    async def create_top_up_link(
        self, account_id: int, amount: Money, *, now: datetime, ttl_seconds: int
    ) -> PaymentLink:
        """A pay link topping up a prepaid balance by `amount` (within the core's limits);
        paying it credits the balance once. InvalidRequestError for a postpaid account."""
        raise InvalidRequestError(NO_TOP_UPS)

    async def get_low_balance_alert(self, account_id: int) -> Money | None:
        """The level under which a prepaid customer is told their balance is low (None: off)."""
        raise InvalidRequestError(NO_TOP_UPS)

    async def set_low_balance_alert(
        self, account_id: int, level: Money | None, *, actor: str, now: datetime
    ) -> Money | None:
        """Set (or with None turn off) the low-balance level; audited. Returns the new level."""
        raise InvalidRequestError(NO_TOP_UPS)

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

    # --- field service: outages, equipment, technician visits --------------------------------
    # A billing system without these keeps the defaults: diagnostics shows the lines alone and
    # the bot says visits cannot be booked here.
    async def service_status(self, account_id: int, *, now: datetime) -> ServiceStatus:
        """The account's service address, the outages there now, its equipment and its
        lines' recent roaming."""
        raise InvalidRequestError(NO_FIELD_SERVICE)

    async def list_outages(self, *, now: datetime, active_only: bool = True) -> list[Outage]:
        """Outages, newest first; only those not cleared unless `active_only` is False."""
        raise InvalidRequestError(NO_FIELD_SERVICE)

    async def add_outage(self, outage: NewOutage, *, actor: str, now: datetime) -> Outage:
        """Record an outage (audited); a `source_id` seen before returns that outage with
        created=False. InvalidRequestError for an empty area or message, or an end before
        the start."""
        raise InvalidRequestError(NO_FIELD_SERVICE)

    async def clear_outage(self, outage_id: int, *, actor: str, now: datetime) -> Outage:
        """Mark the outage over (audited); clearing it again changes nothing (created=False).
        NotFoundError for an unknown id."""
        raise InvalidRequestError(NO_FIELD_SERVICE)

    async def outage_by_source(self, source_id: str) -> Outage | None:
        """The outage added with this `source_id` (an event's outage), cleared or not."""
        raise InvalidRequestError(NO_FIELD_SERVICE)

    async def technician_slots(
        self, account_id: int, *, now: datetime, limit: int = 8
    ) -> list[TechnicianSlot]:
        """Free visit windows at the account's service address, soonest first, starting
        after `now` plus the billing system's lead time. InvalidRequestError when the account
        has no service address."""
        raise InvalidRequestError(NO_FIELD_SERVICE)

    async def list_appointments(self, account_id: int, *, now: datetime) -> list[Appointment]:
        """The account's booked visits that have not ended yet, soonest first."""
        raise InvalidRequestError(NO_FIELD_SERVICE)

    async def book_appointment(
        self,
        account_id: int,
        slot_id: int,
        *,
        reason: str,
        idempotency_key: str,
        actor: str,
        now: datetime,
    ) -> AppointmentChange:
        """Book a visit in the slot once (audited). A replayed key answers `replayed`; a full
        slot `slot_full`; an account with a visit booked already `already_booked` (one at a
        time). NotFoundError for a slot that is not in the account's area or has started."""
        raise InvalidRequestError(NO_FIELD_SERVICE)

    async def reschedule_appointment(
        self, account_id: int, appointment_id: int, slot_id: int, *, actor: str, now: datetime
    ) -> AppointmentChange:
        """Move the account's booked visit to another slot (`moved`, with the `previous`
        slot); already there: `unchanged`; the new slot full: `slot_full` and the visit stays
        where it was. NotFoundError for someone else's visit."""
        raise InvalidRequestError(NO_FIELD_SERVICE)

    async def cancel_appointment(
        self, account_id: int, appointment_id: int, *, actor: str, now: datetime
    ) -> AppointmentChange:
        """Cancel the account's visit and free its place (`cancelled`); cancelled already:
        `unchanged`. NotFoundError for someone else's visit."""
        raise InvalidRequestError(NO_FIELD_SERVICE)
