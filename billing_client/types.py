"""Typed, immutable DTOs the BillingClient port speaks. Money is never a float."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from babel.numbers import format_currency, get_currency_precision

BillingType = Literal["prepaid", "postpaid"]
LineStatus = Literal["active", "barred", "suspended", "terminated"]
InvoiceStatus = Literal["draft", "open", "paid", "overdue", "void"]
TicketStatus = Literal["open", "pending_customer", "resolved", "closed"]


@dataclass(frozen=True, slots=True, order=True)
class Money:
    """An amount in integer minor units of an ISO 4217 currency."""

    minor: int
    currency: str

    @classmethod
    def from_decimal(cls, amount: Decimal | str, currency: str) -> Money:
        exponent = get_currency_precision(currency)
        scaled = Decimal(amount).scaleb(exponent)
        if scaled != scaled.to_integral_value():
            raise ValueError(f"{amount} has more precision than {currency} allows")
        return cls(int(scaled), currency)

    @property
    def amount(self) -> Decimal:
        return Decimal(self.minor).scaleb(-get_currency_precision(self.currency))

    def format(self, locale: str = "en_US") -> str:
        """The amount as the customer reads it, e.g. "$64.20" or "12,50 US$"."""
        return format_currency(self.amount, self.currency, locale=locale)

    def __add__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.minor + other.minor, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.minor - other.minor, self.currency)

    def _same_currency(self, other: Money) -> None:
        if other.currency != self.currency:
            raise ValueError(f"cannot mix {self.currency} and {other.currency}")


@dataclass(frozen=True, slots=True)
class Account:
    id: int
    name: str
    email: str
    locale: str  # e.g. "en_US", "es_ES"
    timezone: str  # IANA name
    currency: str
    billing_type: BillingType


@dataclass(frozen=True, slots=True)
class Line:
    id: int
    account_id: int
    msisdn: str  # E.164
    iccid: str
    holder_name: str
    plan_name: str
    status: LineStatus
    barred_reason: str | None = None
    barred_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class InvoiceSummary:
    id: int
    number: str
    status: InvoiceStatus  # "overdue" = open and past its due date (derived at read time)
    issued_on: date
    due_on: date
    period_start: date
    period_end: date
    subtotal: Money
    tax: Money
    total: Money
    amount_paid: Money

    @property
    def amount_due(self) -> Money:
        return self.total - self.amount_paid


@dataclass(frozen=True, slots=True)
class InvoiceItem:
    description: str
    quantity: Decimal
    amount: Money  # net
    msisdn: str | None = None
    # What the charge is: "recurring", "usage", "international", "roaming", "one_off",
    # "discount"; None when the billing system does not say.
    kind: str | None = None


@dataclass(frozen=True, slots=True)
class InvoiceDetail:
    summary: InvoiceSummary
    account: Account
    items: tuple[InvoiceItem, ...]
    tax_rate: Decimal  # e.g. Decimal("0.0825")


@dataclass(frozen=True, slots=True)
class Balance:
    """What the customer owes (postpaid) or holds (prepaid) right now."""

    account: Account
    amount_due: Money  # sum of open + overdue invoice balances; zero for prepaid
    open_invoices: tuple[InvoiceSummary, ...]  # oldest due first
    next_due_on: date | None
    overdue: bool
    unbilled: Money  # charges of the current cycle not invoiced yet
    prepaid_balance: Money | None  # None for postpaid
    bill_limit: Money | None = None


@dataclass(frozen=True, slots=True)
class UsageCounter:
    """Use of one allowance on one line in the current cycle."""

    line_msisdn: str
    kind: str  # "data", "voice", "sms"
    unit: str  # "MB", "min", "sms"
    used: int
    allowance: int | None  # None = unlimited
    cycle_start: date
    cycle_end: date

    @property
    def percent_used(self) -> int | None:
        if not self.allowance:
            return None
        return int(self.used * 100 // self.allowance)


@dataclass(frozen=True, slots=True)
class PaymentLink:
    id: str  # random, unguessable; the web layer signs it into the URL token
    account_id: int
    invoice_id: int | None  # None: a prepaid top-up of `amount`
    amount: Money
    created_at: datetime
    expires_at: datetime
    status: Literal["active", "paid", "expired"]

    @property
    def top_up(self) -> bool:
        """A prepaid top-up link (paying it credits the balance) rather than an invoice's."""
        return self.invoice_id is None


@dataclass(frozen=True, slots=True)
class Payment:
    id: int
    account_id: int
    invoice_id: int | None
    amount: Money
    provider: str
    provider_reference: str
    received_at: datetime
    created: bool  # False when this provider_reference was already recorded (replay)


@dataclass(frozen=True, slots=True)
class BarResult:
    reference: str  # e.g. "B-000042"
    line: Line
    barred_at: datetime
    created: bool  # False when the same idempotency key (or an active bar) already existed
    # True when this idempotency key barred the line before: the same request again (a retry
    # after a crash, say), as opposed to a bar someone else put on the line earlier.
    replayed: bool = False


BarKind = Literal["lost_stolen", "full", "spend_cap"]


@dataclass(frozen=True, slots=True)
class LineBar:
    """The active bar on a line; its kind decides who may lift it (a lost-or-stolen bar is
    never lifted from chat: the customer gets a replacement SIM instead)."""

    reference: str  # e.g. "B-000042"
    kind: BarKind
    reason: str
    applied_at: datetime


@dataclass(frozen=True, slots=True)
class UnbarResult:
    """A lifted bar (`created`), the same request again (`replayed`: the first answer), or a
    line that had no active bar any more (`created` False and no `reference`)."""

    reference: str
    line: Line
    lifted_at: datetime | None
    created: bool
    replayed: bool = False
    kind: BarKind | None = None


LimitAction = Literal["notice", "bar"]


@dataclass(frozen=True, slots=True)
class BillLimit:
    """An account's spending cap on unbilled charges (bill-shock protection) and where it
    stands this cycle. `limit` None: no cap."""

    account_id: int
    limit: Money | None
    alert_percent: int  # the warning level, 80 by default
    action: LimitAction  # at 100 %: a notice only, or barring chargeable usage (opt-in)
    consent_until: date | None  # the customer replied CONTINUE: no cap bar until this day
    unbilled: Money
    cycle_start: date
    cycle_end: date
    capped_lines: tuple[str, ...] = ()  # numbers whose chargeable usage the cap bars now

    @property
    def percent_used(self) -> int:
        if self.limit is None or not self.limit.minor:
            return 0
        return int(self.unbilled.minor * 100 // self.limit.minor)

    @property
    def reached(self) -> bool:
        return self.limit is not None and self.percent_used >= 100

    def consented_on(self, day: date) -> bool:
        """Whether the customer's CONTINUE still covers `day`."""
        return self.consent_until is not None and day <= self.consent_until


@dataclass(frozen=True, slots=True)
class LimitChange:
    """A change to the cap; None leaves that part as it is. `remove` drops the cap."""

    limit: Money | None = None
    action: LimitAction | None = None
    alert_percent: int | None = None
    remove: bool = False


@dataclass(frozen=True, slots=True)
class CapBarResult:
    """What the cap did when it was reached: the lines it barred now (none when they were
    barred already, the customer consented, or the cap is not reached or not set to bar)."""

    limit: BillLimit
    barred: tuple[Line, ...] = ()


@dataclass(frozen=True, slots=True)
class Ticket:
    id: int
    reference: str  # "T-000123"
    account_id: int
    subject: str
    status: TicketStatus
    created_at: datetime
    created: bool = True  # False on an idempotent replay
    updated_at: datetime | None = None  # the last message or status change; None: unknown


@dataclass(frozen=True, slots=True)
class TicketMessage:
    """One message in a ticket's conversation: the customer's, an agent's or billbot's."""

    author: str  # "customer" | "agent" | "bot"
    body: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ContactChange:
    """A change to an account's contact details; None leaves that part as it is."""

    email: str | None = None
    locale: str | None = None  # "en_US", "es_ES"
    timezone: str | None = None  # IANA name


@dataclass(frozen=True, slots=True)
class TicketUpdate:
    """What the operator's helpdesk says about a ticket: a new status, a message, or both."""

    reference: str  # "T-000123"
    status: TicketStatus | None = None
    message: str | None = None
    author: str = "agent"


@dataclass(frozen=True, slots=True)
class AuditEntry:
    at: datetime
    actor: str
    action: str
    entity: str
    entity_id: str
    detail: str


# --- what proactive alerts look at (BillingClient.alert_facts) ------------------------------
@dataclass(frozen=True, slots=True)
class InvoiceFact:
    """An open invoice recently issued or due soon (or overdue)."""

    account_id: int
    invoice_id: int
    number: str
    issued_on: date
    due_on: date
    amount_due: Money


@dataclass(frozen=True, slots=True)
class UsageFact:
    """A line's allowance in its current cycle, used past the scan's floor."""

    account_id: int
    line_id: int
    msisdn: str
    kind: str  # "data", "voice", "sms"
    unit: str
    used: int
    allowance: int
    cycle_start: date
    cycle_end: date

    @property
    def percent_used(self) -> int:
        return int(self.used * 100 // self.allowance)


@dataclass(frozen=True, slots=True)
class LimitFact:
    """An account's spending cap and its unbilled charges, past the cap's alert level."""

    account_id: int
    limit: Money
    unbilled: Money
    alert_percent: int  # the customer's warning level (80 by default)
    bar: bool = False  # the customer opted in to barring chargeable usage at 100 %
    consent_until: date | None = None  # CONTINUE: no cap bar until this day (inclusive)
    cycle_start: date | None = None  # the bill cycle the unbilled charges belong to
    cycle_end: date | None = None

    def consented_on(self, day: date) -> bool:
        """Whether the customer's CONTINUE still covers `day`."""
        return self.consent_until is not None and day <= self.consent_until

    @property
    def percent_used(self) -> int:
        return int(self.unbilled.minor * 100 // self.limit.minor) if self.limit.minor else 0


@dataclass(frozen=True, slots=True)
class LowBalanceFact:
    """A prepaid account whose balance is under the level the customer asked to be told at.
    `top_up` is its latest top-up (0 if none): one alert per drop, a top-up starts another."""

    account_id: int
    balance: Money
    level: Money
    top_up: int = 0


# The days a bill's alert falls due on for a scan: (issued on one of these, due on one of these).
BillDays = tuple[Collection[date], Collection[date]]


@dataclass(frozen=True, slots=True)
class AlertFacts:
    """Everything one alert scan needs, read set-based; accounts and their own numbers for
    every account the facts name."""

    invoices: tuple[InvoiceFact, ...] = ()
    usage: tuple[UsageFact, ...] = ()
    limits: tuple[LimitFact, ...] = ()
    accounts: Mapping[int, Account] = field(default_factory=dict)
    phones: Mapping[int, str] = field(default_factory=dict)  # account id → the holder's number
    # A scan of what changed (`changed_since`): (account id, number) of the bills written since
    # that are no longer open (paid, voided), whose waiting reminders are withdrawn.
    closed: frozenset[tuple[int, str]] = frozenset()
    # Pass as `changed_since` to the next scan to read only what was written after this one.
    watermark: datetime | None = None
    low_balances: tuple[LowBalanceFact, ...] = ()


# --- field service: outages, equipment, technician visits (diagnostics, appointment) ----------
OutageKind = Literal["mobile", "broadband"]
EquipmentStatus = Literal["online", "offline"]
AppointmentStatus = Literal["booked", "cancelled"]


@dataclass(frozen=True, slots=True)
class ServiceAddress:
    """Where an account is served; outages and technicians match its postcode or area."""

    street: str
    postcode: str
    area: str


@dataclass(frozen=True, slots=True)
class NewOutage:
    """What the operator says is broken: an area (a postcode or an area name), what kind of
    service, a message for customers, and when it should be back (None: not known yet).
    `source_id` (an event's id) makes adding it again a no-op."""

    area: str
    kind: OutageKind
    message: str
    expected_end: datetime | None = None
    started_at: datetime | None = None  # None: now
    source_id: str | None = None


@dataclass(frozen=True, slots=True)
class Outage:
    id: int
    area: str
    kind: OutageKind
    message: str
    started_at: datetime
    expected_end: datetime | None
    cleared_at: datetime | None = None
    created: bool = True  # False when `source_id` had added it before (a replay)

    @property
    def active(self) -> bool:
        return self.cleared_at is None


@dataclass(frozen=True, slots=True)
class Equipment:
    """A device at the customer's premises the billing core knows about (an ISP's router)."""

    kind: str  # "router", "ont"
    label: str  # "Fibre router"
    status: EquipmentStatus
    last_seen_at: datetime | None


@dataclass(frozen=True, slots=True)
class ServiceStatus:
    """What diagnostics looks at besides lines and usage: the service address, the outages
    there now, the equipment, and each line's latest roaming use of the last days."""

    account_id: int
    address: ServiceAddress | None
    outages: tuple[Outage, ...] = ()
    equipment: tuple[Equipment, ...] = ()
    roaming: Mapping[str, datetime] = field(default_factory=dict)  # msisdn → last seen abroad


@dataclass(frozen=True, slots=True)
class TechnicianSlot:
    """A window a technician can visit an area in; `free` visits are left in it."""

    id: int
    area: str
    starts_at: datetime
    ends_at: datetime
    free: int


@dataclass(frozen=True, slots=True)
class Appointment:
    """A technician visit; its reference is "V-" and the zero-padded id."""

    id: int
    reference: str
    account_id: int
    slot: TechnicianSlot
    reason: str
    status: AppointmentStatus
    created_at: datetime


# booked / moved / cancelled: done now; replayed: this very request was done before;
# unchanged: nothing to do (already at that slot, already cancelled); slot_full: taken
# meanwhile; already_booked: the account has another visit booked (one at a time).
AppointmentOutcome = Literal[
    "booked", "moved", "cancelled", "replayed", "unchanged", "slot_full", "already_booked"
]


@dataclass(frozen=True, slots=True)
class AppointmentChange:
    """What a booking, a move or a cancellation did. `appointment` is the visit as it stands
    (the existing one for already_booked; None only for slot_full on a new booking);
    `previous` is the slot a move left (its reminder is stale)."""

    outcome: AppointmentOutcome
    appointment: Appointment | None
    previous: TechnicianSlot | None = None

    @property
    def done(self) -> bool:
        """True when the visit is as asked now (by this request or its earlier copy)."""
        return self.outcome in ("booked", "moved", "cancelled", "replayed", "unchanged")


# --- plans, add-ons and top-ups (`BillingClient.plan_options` and the like) --------------------
PlanDirection = Literal["upgrade", "downgrade"]


@dataclass(frozen=True, slots=True)
class PlanInfo:
    """A tariff as the customer compares it. Allowances per line per cycle; None: unlimited.
    `line_price` is what one line of it costs a month (a family plan's price over its lines)."""

    code: str
    name: str
    monthly_price: Money
    line_price: Money
    lines_included: int
    data_mb: int | None
    voice_min: int | None
    sms: int | None


@dataclass(frozen=True, slots=True)
class PlanOffer:
    """A plan the line can move to, and what moving costs.

    An upgrade (a higher line price) takes effect today and costs `charge`: the price
    difference for the days left in the cycle, today included (`days_left` / `days_in_cycle`),
    rounded half up to the minor unit. Anything else waits for the next cycle, free.
    """

    plan: PlanInfo
    direction: PlanDirection
    effective_on: date
    charge: Money
    days_left: int
    days_in_cycle: int


@dataclass(frozen=True, slots=True)
class PendingPlanChange:
    reference: str  # "P-000012"
    plan_name: str
    effective_on: date


@dataclass(frozen=True, slots=True)
class PlanOptions:
    """Where a line stands: its plan, its cycle, what it can move to and any pending change."""

    line: Line
    current: PlanInfo
    cycle_start: date
    cycle_end: date  # inclusive
    offers: tuple[PlanOffer, ...]
    pending: PendingPlanChange | None = None
    prepaid_balance: Money | None = None  # prepaid: what an upgrade is taken from


@dataclass(frozen=True, slots=True)
class PlanChangeResult:
    reference: str  # "P-000012"
    line: Line  # as it is now (an applied upgrade shows the new plan)
    from_plan: str
    to_plan: str
    direction: PlanDirection
    effective_on: date
    charge: Money  # to the next bill (postpaid) or taken from the balance (prepaid)
    created: bool  # False: this request (or a concurrent one) had already made the change
    prepaid_balance: Money | None = None  # prepaid: the balance after the charge


AddOnKind = Literal["data", "roaming"]


@dataclass(frozen=True, slots=True)
class AddOnOffer:
    code: str
    name: str
    kind: AddOnKind
    price: Money
    recurring: bool  # charged every month until removed; else once
    data_mb: int | None = None  # data: extra MB until the end of the cycle
    roaming_days: int | None = None  # roaming: days from the day it is bought


@dataclass(frozen=True, slots=True)
class ActiveAddOn:
    reference: str  # "A-000007"
    name: str
    kind: AddOnKind
    starts_on: date
    ends_on: date  # inclusive


@dataclass(frozen=True, slots=True)
class AddOnOptions:
    """What a line can add now, what it has, and (prepaid) the balance that pays for it."""

    line: Line
    offers: tuple[AddOnOffer, ...]
    active: tuple[ActiveAddOn, ...]
    cycle_end: date
    prepaid_balance: Money | None = None


@dataclass(frozen=True, slots=True)
class AddOnPurchase:
    reference: str  # "A-000007"
    line: Line
    add_on: AddOnOffer
    price: Money
    paid_from: Literal["bill", "balance"]
    starts_on: date
    ends_on: date  # inclusive
    created: bool  # False: this request had already bought it (a replay)
    data_allowance_mb: int | None = None  # data: the line's allowance this cycle, after
    prepaid_balance: Money | None = None  # prepaid: the balance after
