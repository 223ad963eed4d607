"""Tables of the embedded billing core (SQLAlchemy 2 typed ORM).

Conventions: money is `*_minor` BIGINT + CHAR(3) currency, never a float; every datetime is
stored and returned as aware UTC (`UtcDateTime`); externally triggered writes carry a unique key
(payments: provider + reference, barrings and tickets: idempotency_key) so a replay writes nothing.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, ClassVar, Literal, Protocol

from sqlalchemy import (
    CHAR,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
    true,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import DeclarativeBase, Mapped, MappedColumn, mapped_column, relationship
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import TypeDecorator

from billing_client import types as dto

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend (SQLite hands back naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; billing stores aware UTC datetimes only")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class DatabaseNow(FunctionElement[datetime]):
    """The database's own clock, as aware UTC: PostgreSQL's `now()` (the moment the
    transaction began), SQLite's current time to the millisecond in SQLAlchemy's format."""

    type = UtcDateTime()
    inherit_cache = True


@compiles(DatabaseNow)
def _now(element: DatabaseNow, compiler: SQLCompiler, **kw: Any) -> str:
    return "now()"


@compiles(DatabaseNow, "sqlite")
def _sqlite_now(element: DatabaseNow, compiler: SQLCompiler, **kw: Any) -> str:
    return "(strftime('%Y-%m-%d %H:%M:%f', 'now') || '000')"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UtcDateTime(),
        date: Date(),
        Decimal: Numeric(12, 3),
    }


def _written_at() -> MappedColumn[Any]:
    """When the row was last inserted or updated, on the database's clock, by any INSERT or
    UPDATE SQLAlchemy sends (NULL: not since migration 0010). The alert scan reads the rows
    written since its last scan (`alert_scan.changes`)."""
    return mapped_column(UtcDateTime(), default=DatabaseNow(), onupdate=DatabaseNow(), index=True)


def _money(nullable: bool = False) -> MappedColumn[Any]:
    return mapped_column(BigInteger, nullable=nullable)


def _currency() -> MappedColumn[Any]:
    return mapped_column(CHAR(3))


def _fk(target: str, *, nullable: bool = False, ondelete: str = "CASCADE") -> MappedColumn[Any]:
    return mapped_column(ForeignKey(target, ondelete=ondelete), index=True, nullable=nullable)


def reference(prefix: str, row_id: int) -> str:
    """A customer-facing reference such as "T-000123" or "B-000042"."""
    return f"{prefix}-{row_id:06d}"


class Plan(Base):
    """A tariff. Allowances are per line per cycle; NULL means unlimited."""

    __tablename__ = "plans"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    billing_type: Mapped[str] = mapped_column(String(10))
    monthly_price_minor: Mapped[int] = _money()
    currency: Mapped[str] = _currency()
    data_mb: Mapped[int | None] = mapped_column(Integer)
    voice_min: Mapped[int | None] = mapped_column(Integer)
    sms: Mapped[int | None] = mapped_column(Integer)
    lines_included: Mapped[int] = mapped_column(Integer, default=1)
    # Whether customers may change to it (`plans.py`); an old tariff stays on its lines. (0014)
    offered: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())


class Account(Base):
    """A billed customer and its PIN hash (failures and locks live in `pin_guards`)."""

    __tablename__ = "accounts"
    __table_args__ = (
        CheckConstraint("billing_type IN ('prepaid', 'postpaid')", name="billing_type"),
        CheckConstraint("bill_cycle_day BETWEEN 1 AND 31", name="bill_cycle_day"),
        CheckConstraint("failed_pin_attempts >= 0", name="failed_pin_attempts"),
        # The accounts with a low-balance alert, for the alert scan (0011).
        Index(
            "ix_accounts_low_balance",
            "low_balance_alert_minor",
            sqlite_where=text("low_balance_alert_minor IS NOT NULL"),
            postgresql_where=text("low_balance_alert_minor IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str] = mapped_column(String(254), index=True)
    locale: Mapped[str] = mapped_column(String(16))
    timezone: Mapped[str] = mapped_column(String(64))
    currency: Mapped[str] = _currency()
    billing_type: Mapped[str] = mapped_column(String(10))
    bill_cycle_day: Mapped[int] = mapped_column(Integer, default=1)
    pin_hash: Mapped[str] = mapped_column(String(255))
    # Left over from the account-wide counter that let anyone lock the owner out; nothing
    # reads them since 0005. Dropping them on SQLite means rebuilding `accounts`, and the
    # rebuild's DROP TABLE would cascade-delete every line and invoice (foreign keys are on
    # and cannot be switched off inside the migration's transaction).
    failed_pin_attempts: Mapped[int] = mapped_column(Integer, default=0)
    pin_locked_until: Mapped[datetime | None]
    bill_limit_minor: Mapped[int | None] = _money(nullable=True)
    bill_limit_alert_percent: Mapped[int | None] = mapped_column(Integer)
    bill_limit_action: Mapped[str | None] = mapped_column(String(10))  # NULL: "notice"; "bar"
    bill_limit_consent_until: Mapped[date | None]  # CONTINUE: no cap bar until then
    low_balance_alert_minor: Mapped[int | None] = _money(nullable=True)  # prepaid: tell below
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime | None] = _written_at()

    lines: Mapped[list[Line]] = relationship(
        back_populates="account", lazy="raise", order_by="Line.id"
    )
    contacts: Mapped[list[ContactAddress]] = relationship(lazy="raise")

    def to_dto(self) -> dto.Account:
        return account_dto(self)


class ContactAddress(Base):
    """An address the customer is known by on a channel (sms, whatsapp, telegram, email)."""

    __tablename__ = "contact_addresses"
    __table_args__ = (UniqueConstraint("channel", "address"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = _fk("accounts.id")
    channel: Mapped[str] = mapped_column(String(20))
    address: Mapped[str] = mapped_column(String(254), index=True)
    verified_at: Mapped[datetime | None]


class Line(Base):
    """A SIM/subscription. Status "barred" mirrors an active row in `barrings`."""

    __tablename__ = "lines"
    __table_args__ = (
        CheckConstraint(
            "status IN ('active', 'barred', 'suspended', 'terminated')", name="status"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = _fk("accounts.id")
    msisdn: Mapped[str] = mapped_column(String(16), unique=True)
    iccid: Mapped[str] = mapped_column(String(22), unique=True)
    plan_id: Mapped[int] = _fk("plans.id", ondelete="RESTRICT")
    holder_name: Mapped[str] = mapped_column(String(120))
    status: Mapped[str] = mapped_column(String(12), default="active")
    barred_reason: Mapped[str | None] = mapped_column(String(200))
    barred_at: Mapped[datetime | None]
    activated_at: Mapped[datetime]

    account: Mapped[Account] = relationship(back_populates="lines", lazy="raise")
    plan: Mapped[Plan] = relationship(lazy="raise")

    def to_dto(self) -> dto.Line:
        """Needs `plan` loaded (joinedload/selectinload)."""
        status: dto.LineStatus = "active"
        if self.status in ("barred", "suspended", "terminated"):
            status = self.status  # type: ignore[assignment]
        return dto.Line(
            id=self.id,
            account_id=self.account_id,
            msisdn=self.msisdn,
            iccid=self.iccid,
            holder_name=self.holder_name,
            plan_name=self.plan.name,
            status=status,
            barred_reason=self.barred_reason,
            barred_at=self.barred_at,
        )


class UsageCounter(Base):
    """Use of one allowance on one line in one cycle (used vs included, in `unit`)."""

    __tablename__ = "usage_counters"
    __table_args__ = (UniqueConstraint("line_id", "kind", "cycle_start"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    line_id: Mapped[int] = _fk("lines.id")
    kind: Mapped[str] = mapped_column(String(10))  # data | voice | sms
    unit: Mapped[str] = mapped_column(String(8))  # MB (1 GB = 1024 MB) | min | sms
    used: Mapped[int] = mapped_column(BigInteger, default=0)
    allowance: Mapped[int | None] = mapped_column(BigInteger)  # NULL = unlimited
    cycle_start: Mapped[date]
    cycle_end: Mapped[date]  # inclusive
    updated_at: Mapped[datetime | None] = _written_at()


class UsageRecord(Base):
    """One imported usage record (`billbot usage import`), charged or not.

    `source_id` (the record's hash) is unique: a counter grows only for records whose row here
    is new, so importing the same file twice counts its usage once. `quantity` is in the
    counter's unit (MB, min, msg); `kind` is the record's (roaming_data counts as data).
    """

    __tablename__ = "usage_records"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[str] = mapped_column(String(64), unique=True)
    line_id: Mapped[int] = _fk("lines.id")
    kind: Mapped[str] = mapped_column(String(12))  # data | voice | sms | roaming_data
    quantity: Mapped[int] = mapped_column(BigInteger)
    at: Mapped[datetime]


class Charge(Base):
    """A rated charge (usage, roaming, one-off); `invoice_id IS NULL` means not billed yet."""

    __tablename__ = "charges"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = _fk("accounts.id")
    line_id: Mapped[int | None] = _fk("lines.id", nullable=True)
    invoice_id: Mapped[int | None] = _fk("invoices.id", nullable=True, ondelete="SET NULL")
    kind: Mapped[str] = mapped_column(String(20))  # usage | international | roaming | one_off
    description: Mapped[str] = mapped_column(String(200))
    quantity: Mapped[Decimal]
    unit: Mapped[str] = mapped_column(String(8))
    amount_minor: Mapped[int] = _money()
    currency: Mapped[str] = _currency()
    rated_at: Mapped[datetime]
    # The rating system's record id: ingesting the same record twice charges once.
    source_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    updated_at: Mapped[datetime | None] = _written_at()


class Invoice(Base):
    """A finalised bill. "overdue" is not stored: it is an open invoice past its due date."""

    __tablename__ = "invoices"
    __table_args__ = (
        CheckConstraint("status IN ('draft', 'open', 'paid', 'void')", name="status"),
        CheckConstraint("total_minor = subtotal_minor + tax_minor", name="total"),
        CheckConstraint("amount_paid_minor >= 0", name="amount_paid"),
        Index("ix_invoices_account_id_issued_on", "account_id", "issued_on"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    number: Mapped[str] = mapped_column(String(32), unique=True)
    status: Mapped[str] = mapped_column(String(8))
    issued_on: Mapped[date] = mapped_column(index=True)  # the alert scan's days (`dated`)
    due_on: Mapped[date] = mapped_column(index=True)
    period_start: Mapped[date]
    period_end: Mapped[date]
    currency: Mapped[str] = _currency()
    subtotal_minor: Mapped[int] = _money()
    tax_minor: Mapped[int] = _money()
    total_minor: Mapped[int] = _money()
    amount_paid_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    tax_rate: Mapped[Decimal] = mapped_column(Numeric(6, 4))  # 0.0700 = 7 %
    paid_at: Mapped[datetime | None]
    voided_at: Mapped[datetime | None]
    updated_at: Mapped[datetime | None] = _written_at()

    items: Mapped[list[InvoiceItem]] = relationship(lazy="raise", order_by="InvoiceItem.position")

    @property
    def amount_due_minor(self) -> int:
        return max(self.total_minor - self.amount_paid_minor, 0)

    def summary(self, today: date) -> dto.InvoiceSummary:
        """The DTO, with "overdue" derived from the customer's local `today`."""
        return invoice_summary(self, today)

    def shown_status(self, today: date) -> dto.InvoiceStatus:
        return shown_status(self.status, self.due_on, today)


class InvoiceItem(Base):
    """One net amount on an invoice (tax is computed per invoice at `Invoice.tax_rate`)."""

    __tablename__ = "invoice_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    invoice_id: Mapped[int] = _fk("invoices.id")
    line_id: Mapped[int | None] = _fk("lines.id", nullable=True, ondelete="SET NULL")
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))  # recurring | usage | one_off | discount
    description: Mapped[str] = mapped_column(String(200))
    quantity: Mapped[Decimal]
    amount_minor: Mapped[int] = _money()

    line: Mapped[Line | None] = relationship(lazy="raise")


class Payment(Base):
    """Money received. (provider, provider_reference) is unique: a replay pays nothing."""

    __tablename__ = "payments"
    __table_args__ = (
        UniqueConstraint("provider", "provider_reference"),
        CheckConstraint("amount_minor > 0", name="amount"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = _fk("accounts.id")
    invoice_id: Mapped[int | None] = _fk("invoices.id", nullable=True, ondelete="SET NULL")
    # One payment per link at most, even if a double click carries two provider references.
    payment_link_id: Mapped[str | None] = mapped_column(
        ForeignKey("payment_links.id", ondelete="SET NULL"), unique=True
    )
    amount_minor: Mapped[int] = _money()
    currency: Mapped[str] = _currency()
    provider: Mapped[str] = mapped_column(String(40))
    provider_reference: Mapped[str] = mapped_column(String(128))
    received_at: Mapped[datetime]

    def to_dto(self, *, created: bool) -> dto.Payment:
        return dto.Payment(
            id=self.id,
            account_id=self.account_id,
            invoice_id=self.invoice_id,
            amount=dto.Money(self.amount_minor, self.currency),
            provider=self.provider,
            provider_reference=self.provider_reference,
            received_at=self.received_at,
            created=created,
        )


class PaymentLink(Base):
    """A pay link for one invoice, or (no invoice, 0014) a prepaid top-up of a fixed amount.
    The id is random and unguessable; "expired" is derived."""

    __tablename__ = "payment_links"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[int] = _fk("accounts.id")
    invoice_id: Mapped[int | None] = _fk("invoices.id", nullable=True)
    amount_minor: Mapped[int] = _money()
    currency: Mapped[str] = _currency()
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(8), default="active")  # active | paid
    paid_at: Mapped[datetime | None]

    def to_dto(self, now: datetime) -> dto.PaymentLink:
        return dto.PaymentLink(
            id=self.id,
            account_id=self.account_id,
            invoice_id=self.invoice_id,
            amount=dto.Money(self.amount_minor, self.currency),
            created_at=self.created_at,
            expires_at=self.expires_at,
            status=self.shown_status(now),
        )

    def shown_status(self, now: datetime) -> Literal["active", "paid", "expired"]:
        if self.status == "paid":
            return "paid"
        return "expired" if now >= self.expires_at else "active"


class PrepaidTransaction(Base):
    """The prepaid ledger: the balance is the sum of these signed amounts."""

    __tablename__ = "prepaid_transactions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = _fk("accounts.id")
    kind: Mapped[str] = mapped_column(String(20))  # top_up | usage | bundle | adjustment
    description: Mapped[str] = mapped_column(String(200))
    amount_minor: Mapped[int] = _money()  # positive credits, negative debits
    currency: Mapped[str] = _currency()
    at: Mapped[datetime]
    idempotency_key: Mapped[str | None] = mapped_column(String(160), unique=True)


class AddOn(Base):
    """A data or roaming add-on in the catalogue (0014): extra MB until the end of the cycle,
    or days of roaming from the day it is bought. `billing_type` "any" sells to both."""

    __tablename__ = "add_ons"
    __table_args__ = (
        CheckConstraint("kind IN ('data', 'roaming')", name="kind"),
        CheckConstraint("billing_type IN ('prepaid', 'postpaid', 'any')", name="billing_type"),
        CheckConstraint("price_minor > 0", name="price"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(10))
    data_mb: Mapped[int | None] = mapped_column(Integer)  # data: the extra allowance
    roaming_days: Mapped[int | None] = mapped_column(Integer)  # roaming: days it lasts
    price_minor: Mapped[int] = _money()
    currency: Mapped[str] = _currency()
    recurring: Mapped[bool] = mapped_column(Boolean, default=False)  # monthly, or one-off
    billing_type: Mapped[str] = mapped_column(String(10))
    offered: Mapped[bool] = mapped_column(Boolean, default=True)


class LineAddOn(Base):
    """An add-on bought for a line, active from `starts_on` to `ends_on` (inclusive). Its
    price is paid by a `Charge` (postpaid, source "add_on:<id>") or a prepaid ledger debit."""

    __tablename__ = "line_add_ons"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    line_id: Mapped[int] = _fk("lines.id")
    add_on_id: Mapped[int] = _fk("add_ons.id", ondelete="RESTRICT")
    price_minor: Mapped[int] = _money()  # what was paid, whatever the catalogue says later
    currency: Mapped[str] = _currency()
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    bought_at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(80))
    idempotency_key: Mapped[str] = mapped_column(String(160), unique=True)

    add_on: Mapped[AddOn] = relationship(lazy="raise")

    @property
    def reference(self) -> str:
        return reference("A", self.id)


class PlanChange(Base):
    """A line's change of plan: an upgrade applied at once (its prorated charge recorded), or
    a downgrade pending until `effective_on`, the first day of the next cycle (0014).

    At most one pending change per line: a new choice cancels the pending one in the same
    transaction, and two concurrent requests cannot both leave one pending.
    """

    __tablename__ = "plan_changes"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'applied', 'cancelled')", name="status"),
        CheckConstraint("direction IN ('upgrade', 'downgrade')", name="direction"),
        CheckConstraint("charge_minor >= 0", name="charge"),
        Index(
            "uq_plan_changes_pending_line",
            "line_id",
            unique=True,
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("lines.id", ondelete="CASCADE"))
    from_plan_id: Mapped[int] = _fk("plans.id", ondelete="RESTRICT")
    to_plan_id: Mapped[int] = _fk("plans.id", ondelete="RESTRICT")
    direction: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(10))
    effective_on: Mapped[date]
    charge_minor: Mapped[int] = _money()  # the prorated charge of an upgrade; 0 otherwise
    currency: Mapped[str] = _currency()
    requested_at: Mapped[datetime]
    applied_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    actor: Mapped[str] = mapped_column(String(80))
    idempotency_key: Mapped[str] = mapped_column(String(160), unique=True)

    from_plan: Mapped[Plan] = relationship(foreign_keys=[from_plan_id], lazy="raise")
    to_plan: Mapped[Plan] = relationship(foreign_keys=[to_plan_id], lazy="raise")

    @property
    def reference(self) -> str:
        return reference("P", self.id)


class Ticket(Base):
    """A support case; its reference is "T-" and the zero-padded id."""

    __tablename__ = "tickets"
    __table_args__ = (
        CheckConstraint(
            "status IN ('open', 'pending_customer', 'resolved', 'closed')", name="status"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = _fk("accounts.id")
    subject: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default="open")
    channel: Mapped[str] = mapped_column(String(20))
    idempotency_key: Mapped[str] = mapped_column(String(160), unique=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    @property
    def reference(self) -> str:
        return reference("T", self.id)

    def to_dto(self, *, created: bool = True) -> dto.Ticket:
        return dto.Ticket(
            id=self.id,
            reference=self.reference,
            account_id=self.account_id,
            subject=self.subject,
            status=self.status,  # type: ignore[arg-type]  # guarded by the CHECK constraint
            created_at=self.created_at,
            created=created,
            updated_at=self.updated_at,
        )


class TicketMessage(Base):
    __tablename__ = "ticket_messages"
    __table_args__ = (Index("uq_ticket_messages_idempotency_key", "idempotency_key", unique=True),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = _fk("tickets.id")
    author: Mapped[str] = mapped_column(String(40))  # customer | agent | bot
    body: Mapped[str] = mapped_column(Text)
    idempotency_key: Mapped[str | None] = mapped_column(String(160))  # an update's key
    created_at: Mapped[datetime]


class Barring(Base):
    """A bar on a line; active while `lifted_at IS NULL`. Reference "B-" + zero-padded id."""

    __tablename__ = "barrings"
    __table_args__ = (
        # At most one active bar per line: two concurrent requests with different keys
        # cannot both bar the line (the database refuses the second row).
        Index(
            "uq_barrings_active_line",
            "line_id",
            unique=True,
            sqlite_where=text("lifted_at IS NULL"),
            postgresql_where=text("lifted_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("lines.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(30))  # lost_stolen | full | spend_cap | …
    reason: Mapped[str] = mapped_column(String(200))
    applied_by: Mapped[str] = mapped_column(String(80))
    applied_at: Mapped[datetime]
    lifted_at: Mapped[datetime | None]
    idempotency_key: Mapped[str] = mapped_column(String(160), unique=True)

    @property
    def reference(self) -> str:
        return reference("B", self.id)


class AuditLog(Base):
    """Who did what to which entity, and when. Append-only."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(40))
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[str] = mapped_column(String(64))
    detail: Mapped[str] = mapped_column(Text, default="")

    def to_dto(self) -> dto.AuditEntry:
        return dto.AuditEntry(
            at=self.at,
            actor=self.actor,
            action=self.action,
            entity=self.entity,
            entity_id=self.entity_id,
            detail=self.detail,
        )


class PinGuard(Base):
    """Wrong PINs in a row from one requester against one target, and its lock.

    The target is "account:<id>" when a known customer verifies for their own account, or
    "number:<E.164>" when someone names a number (a customer's or not: both are counted the same
    way, so the answers cannot tell them apart). The requester is "<channel>:<sender>".
    """

    __tablename__ = "pin_guards"
    __table_args__ = (
        UniqueConstraint("target", "requester"),
        CheckConstraint("failures >= 0", name="failures"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    target: Mapped[str] = mapped_column(String(40))
    requester: Mapped[str] = mapped_column(String(120))
    failures: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(index=True)


class PinFailure(Base):
    """One wrong PIN, kept 24 hours for the daily cap of its subject.

    The subject is "account:<id>" for a customer's account (whichever way it was reached) or
    "number:<E.164>" for a number with no account. The PIN itself is never stored.
    """

    __tablename__ = "pin_failures"
    __table_args__ = (Index("ix_pin_failures_subject_at", "subject", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject: Mapped[str] = mapped_column(String(40))
    requester: Mapped[str] = mapped_column(String(120))
    at: Mapped[datetime] = mapped_column(index=True)


# --- field service: service addresses, outages, equipment, technician visits (0016) ----------
# Outages and technician slots name an area as the operator types it (a postcode or an area
# name); they match a service address on the folded key (`field_service.area_key`).
class ServiceAddress(Base):
    """Where the account is served, one per account."""

    __tablename__ = "service_addresses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), unique=True
    )
    street: Mapped[str] = mapped_column(String(200))
    postcode: Mapped[str] = mapped_column(String(16))
    area: Mapped[str] = mapped_column(String(60))
    postcode_key: Mapped[str] = mapped_column(String(16), index=True)
    area_key: Mapped[str] = mapped_column(String(60), index=True)


class Outage(Base):
    """A known outage the operator recorded; active while `cleared_at IS NULL`."""

    __tablename__ = "outages"
    __table_args__ = (
        CheckConstraint("kind IN ('mobile', 'broadband')", name="kind"),
        Index(
            "ix_outages_active_area_key",
            "area_key",
            sqlite_where=text("cleared_at IS NULL"),
            postgresql_where=text("cleared_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    area: Mapped[str] = mapped_column(String(60))
    area_key: Mapped[str] = mapped_column(String(60))
    kind: Mapped[str] = mapped_column(String(10))
    message: Mapped[str] = mapped_column(String(500))
    started_at: Mapped[datetime]
    expected_end_at: Mapped[datetime | None]
    cleared_at: Mapped[datetime | None]
    created_by: Mapped[str] = mapped_column(String(80))
    # Where it came from (an event's id, "demo:…"): adding it again is a no-op.
    source_id: Mapped[str | None] = mapped_column(String(160), unique=True)


class Equipment(Base):
    """A device at the customer's premises (an ISP's router) and what it last reported."""

    __tablename__ = "equipment"
    __table_args__ = (CheckConstraint("status IN ('online', 'offline')", name="status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = _fk("accounts.id")
    kind: Mapped[str] = mapped_column(String(20))
    label: Mapped[str] = mapped_column(String(80))
    status: Mapped[str] = mapped_column(String(10))
    last_seen_at: Mapped[datetime | None]


class TechnicianSlot(Base):
    """A window technicians can visit an area in: `capacity` visits, `booked` of them taken
    (the CHECK keeps a full slot from taking one more, however many book at once)."""

    __tablename__ = "technician_slots"
    __table_args__ = (
        CheckConstraint("booked >= 0 AND booked <= capacity", name="booked"),
        CheckConstraint("ends_at > starts_at", name="window"),
        Index("ix_technician_slots_area_key_starts_at", "area_key", "starts_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    area: Mapped[str] = mapped_column(String(60))
    area_key: Mapped[str] = mapped_column(String(60))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    capacity: Mapped[int] = mapped_column(Integer)
    booked: Mapped[int] = mapped_column(Integer, default=0)
    source_id: Mapped[str | None] = mapped_column(String(160), unique=True)


class Appointment(Base):
    """A technician visit in a slot; reference "V-" + zero-padded id. One booked visit per
    account at a time is checked with the account row locked; the key makes a replay a no-op."""

    __tablename__ = "appointments"
    __table_args__ = (CheckConstraint("status IN ('booked', 'cancelled')", name="status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = _fk("accounts.id")
    slot_id: Mapped[int] = _fk("technician_slots.id", ondelete="RESTRICT")
    reason: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(10), default="booked")
    idempotency_key: Mapped[str] = mapped_column(String(160), unique=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    cancelled_at: Mapped[datetime | None]

    slot: Mapped[TechnicianSlot] = relationship(lazy="raise")

    @property
    def reference(self) -> str:
        return reference("V", self.id)


class SecurityLock(Base):
    """The account's SIM-change and transfer lock, turned on and off by the holder. No row
    means unlocked (a new table rather than a column: see migration 0015 on `accounts`)."""

    __tablename__ = "security_locks"

    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    locked: Mapped[bool] = mapped_column(Boolean, default=False)
    changed_at: Mapped[datetime]
    changed_by: Mapped[str] = mapped_column(String(80))


class SimOrder(Base):
    """A replacement SIM or eSIM for a line; reference "S-" + zero-padded id. At most one
    open order per line (a partial unique index), and the key makes a replay a no-op."""

    __tablename__ = "sim_orders"
    __table_args__ = (
        CheckConstraint("kind IN ('sim', 'esim')", name="kind"),
        CheckConstraint("status IN ('ordered', 'active', 'cancelled')", name="status"),
        Index(
            "uq_sim_orders_open_line",
            "line_id",
            unique=True,
            sqlite_where=text("status = 'ordered'"),
            postgresql_where=text("status = 'ordered'"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = _fk("accounts.id")
    line_id: Mapped[int] = _fk("lines.id")
    kind: Mapped[str] = mapped_column(String(4))
    status: Mapped[str] = mapped_column(String(10), default="ordered")
    old_iccid: Mapped[str] = mapped_column(String(22))
    new_iccid: Mapped[str | None] = mapped_column(String(22))
    requested_by: Mapped[str] = mapped_column(String(80))
    idempotency_key: Mapped[str] = mapped_column(String(160), unique=True)
    ordered_at: Mapped[datetime]
    activated_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    reason: Mapped[str] = mapped_column(String(200), default="")

    @property
    def reference(self) -> str:
        return reference("S", self.id)


class PortOutRequest(Base):
    """Another provider's request to take a number; reference "PO-" + zero-padded id. Unique
    on `source_id` (the gaining provider's or the event's id) so a replay adds nothing."""

    __tablename__ = "port_out_requests"
    __table_args__ = (
        CheckConstraint(
            "status IN ('pending', 'approved', 'refused', 'cancelled', 'completed')",
            name="status",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = _fk("accounts.id")
    line_id: Mapped[int] = _fk("lines.id")
    carrier: Mapped[str] = mapped_column(String(80))
    status: Mapped[str] = mapped_column(String(10), default="pending")
    source_id: Mapped[str] = mapped_column(String(160), unique=True)
    requested_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]
    reason: Mapped[str] = mapped_column(String(200), default="")

    @property
    def reference(self) -> str:
        return reference("PO", self.id)


# --- DTOs from anything with the columns' attributes: a model instance or a result row ---------
class AccountColumns(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def name(self) -> str: ...
    @property
    def email(self) -> str: ...
    @property
    def locale(self) -> str: ...
    @property
    def timezone(self) -> str: ...
    @property
    def currency(self) -> str: ...
    @property
    def billing_type(self) -> str: ...


class InvoiceColumns(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def number(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def issued_on(self) -> date: ...
    @property
    def due_on(self) -> date: ...
    @property
    def period_start(self) -> date: ...
    @property
    def period_end(self) -> date: ...
    @property
    def currency(self) -> str: ...
    @property
    def subtotal_minor(self) -> int: ...
    @property
    def tax_minor(self) -> int: ...
    @property
    def total_minor(self) -> int: ...
    @property
    def amount_paid_minor(self) -> int: ...


def account_dto(account: AccountColumns) -> dto.Account:
    return dto.Account(
        id=account.id,
        name=account.name,
        email=account.email,
        locale=account.locale,
        timezone=account.timezone,
        currency=account.currency,
        billing_type="prepaid" if account.billing_type == "prepaid" else "postpaid",
    )


def invoice_summary(invoice: InvoiceColumns, today: date) -> dto.InvoiceSummary:
    """The DTO, with "overdue" derived from the customer's local `today`."""
    currency = invoice.currency
    return dto.InvoiceSummary(
        id=invoice.id,
        number=invoice.number,
        status=shown_status(invoice.status, invoice.due_on, today),
        issued_on=invoice.issued_on,
        due_on=invoice.due_on,
        period_start=invoice.period_start,
        period_end=invoice.period_end,
        subtotal=dto.Money(invoice.subtotal_minor, currency),
        tax=dto.Money(invoice.tax_minor, currency),
        total=dto.Money(invoice.total_minor, currency),
        amount_paid=dto.Money(invoice.amount_paid_minor, currency),
    )


def shown_status(status: str, due_on: date, today: date) -> dto.InvoiceStatus:
    if status == "open" and due_on < today:
        return "overdue"
    if status in ("draft", "paid", "void"):
        return status  # type: ignore[return-value]
    return "open"
