"""ORM models of the bot's own state, beside (not inside) the billing core's tables."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class StoreBase(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, list[Any]: JSON}


class Conversation(StoreBase):
    """Per (channel, sender) dialogue state; stale after the idle timeout."""

    __tablename__ = "bot_conversation"
    __table_args__ = (UniqueConstraint("channel", "sender", name="uq_bot_conversation_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    sender: Mapped[str] = mapped_column(String(64))
    account_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    flow: Mapped[str | None] = mapped_column(String(40), nullable=True)
    step: Mapped[str | None] = mapped_column(String(40), nullable=True)
    slots: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Options offered in the last reply: "1" -> value. Lets the customer answer with a number.
    options: Mapped[list[Any]] = mapped_column(default=list)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # A lease that serialises turns across workers without holding a connection open.
    lock_token: Mapped[str | None] = mapped_column(String(32), nullable=True)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # When the customer last wrote here: WhatsApp's 24-hour customer-service window.
    last_inbound_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), nullable=True
    )


class InboundRecord(StoreBase):
    """Every accepted inbound message, stored before it is acted on; unique per provider id.

    `text` never holds a secret: a PIN step's answer (or a PIN-looking text) is stored as a
    placeholder from the start. The lease (`lease_token`, `leased_until`) says a worker is
    answering it; a `received` row whose lease ran out is answered again (retry or sweep).
    """

    __tablename__ = "bot_inbound"
    __table_args__ = (
        UniqueConstraint("channel", "external_id", name="uq_bot_inbound_external"),
        Index("ix_bot_inbound_pending", "status", "leased_until"),
        Index("ix_bot_inbound_account", "account_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    external_id: Mapped[str] = mapped_column(String(128))
    sender: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    intent: Mapped[str | None] = mapped_column(String(40), nullable=True)
    # received (being answered, or orphaned) | handled | failed (final) | retry (transient)
    status: Mapped[str] = mapped_column(String(20), default="received")
    replies: Mapped[list[Any]] = mapped_column(default=list)
    as_phone: Mapped[str | None] = mapped_column(String(20), nullable=True)
    account_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    lease_token: Mapped[str | None] = mapped_column(String(32), nullable=True)
    leased_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    handled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class MetaValue(StoreBase):
    """Small per-database facts billbot keeps for itself (e.g. the demo signing secret)."""

    __tablename__ = "bot_meta"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class OutboxMessage(StoreBase):
    """A message sent outside an immediate reply: stored first, then delivered by one path.

    `replies` are channel-neutral (`Reply.as_dict()` items); the channel's sender renders them.
    status: queued → leased → sent | retry (due again at `next_attempt_at`) | failed, or
    sandbox (recorded, not sent). A leased row whose `leased_until` passed is due again.
    """

    __tablename__ = "bot_outbox"
    __table_args__ = (
        UniqueConstraint("dedupe_key", name="uq_bot_outbox_dedupe"),
        Index("ix_bot_outbox_due", "status", "next_attempt_at"),
        Index("ix_bot_outbox_account", "account_id"),
        Index("ix_bot_outbox_provider", "provider_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    recipient: Mapped[str] = mapped_column(String(254))  # the channel's address
    replies: Mapped[list[Any]] = mapped_column(default=list)
    kind: Mapped[str] = mapped_column(String(40))  # e.g. "bar_notice", "payment_received"
    dedupe_key: Mapped[str] = mapped_column(String(160))
    account_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    status: Mapped[str] = mapped_column(String(20), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    lease_token: Mapped[str | None] = mapped_column(String(32), nullable=True)
    leased_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)  # or why it is sandboxed
    provider_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # The provider's word after the send (status callbacks): sent, delivered, read,
    # undelivered, failed; it only moves forward (`bot.channel.DELIVERY_ORDER`).
    provider_status: Mapped[str | None] = mapped_column(String(20), nullable=True)
    provider_error: Mapped[str | None] = mapped_column(String(20), nullable=True)
    provider_status_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), nullable=True
    )


class Suppression(StoreBase):
    """An address nothing is sent to: it opted out (STOP), blocked the bot, or cannot receive.

    `opted_out` ends only with an opt-in keyword (START); `blocked` and `unreachable` end as
    soon as the customer writes from the address again.
    """

    __tablename__ = "bot_suppressions"
    __table_args__ = (UniqueConstraint("channel", "address", name="uq_bot_suppressions_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    address: Mapped[str] = mapped_column(String(254))
    reason: Mapped[str] = mapped_column(String(20))  # opted_out | blocked | unreachable
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AddressLink(StoreBase):
    """A channel address proven to belong to a phone number (a Telegram chat after its code).

    Channels whose addresses are phone numbers (SMS, WhatsApp) need no link.
    """

    __tablename__ = "bot_links"
    __table_args__ = (
        UniqueConstraint("channel", "address", name="uq_bot_links_key"),
        Index("ix_bot_links_msisdn", "msisdn"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    address: Mapped[str] = mapped_column(String(64))
    msisdn: Mapped[str] = mapped_column(String(20))
    linked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Lease(StoreBase):
    """A named lease one process holds at a time (the scheduler's), until `expires_at`."""

    __tablename__ = "bot_leases"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    holder: Mapped[str] = mapped_column(String(80))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AlertSettings(StoreBase):
    """A customer's choices about proactive alerts; no row means the defaults
    (`bot.alerts.preferences`)."""

    __tablename__ = "bot_alert_settings"

    account_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str | None] = mapped_column(String(20), nullable=True)  # None: automatic
    quiet_start: Mapped[str] = mapped_column(String(5))  # "21:00", the customer's local time
    quiet_end: Mapped[str] = mapped_column(String(5))  # "08:00"
    disabled: Mapped[list[Any]] = mapped_column(default=list)  # alert kinds turned off
    usage_levels: Mapped[list[Any]] = mapped_column(default=list)  # percents, e.g. [80, 100]
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class BillingEvent(StoreBase):
    """An event a billing system pushed (`POST /api/events`), stored first by its id: a
    replay finds the row and gets the same answer; `processed_at` is set once it was applied."""

    __tablename__ = "bot_events"
    __table_args__ = (UniqueConstraint("event_id", name="uq_bot_events_event_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(40))
    body_sha256: Mapped[str] = mapped_column(String(64))  # the same id with another body: refused
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    processed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    outcome: Mapped[dict[str, Any] | None] = mapped_column(nullable=True)


class AlertScan(StoreBase):
    """Where the periodic alert scan left off (`bot.alerts.watermark`): the billing
    database's moment from which rows count as written since (`changes_from`), the moment the
    last scan planned for, and the last full scan's."""

    __tablename__ = "bot_alert_scans"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    changes_from: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    planned_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    full_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


# --- the web view and payments (docs/web.md) ------------------------------------------------
class WebSession(StoreBase):
    """A signed-in browser. `id` is the SHA-256 of the cookie's random token (the token itself
    is never stored); idle and absolute expiry are checked on every request, sign-out ends it."""

    __tablename__ = "bot_web_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[int] = mapped_column(Integer, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class SpentLink(StoreBase):
    """The nonce of a single-use link (sign-in, email change) once used: a second use fails."""

    __tablename__ = "bot_spent_links"

    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(20))
    account_id: Mapped[int] = mapped_column(Integer)
    spent_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SignInAttempt(StoreBase):
    """A web sign-in by one-time code. The code is derived from `reference` (bot.otp), never
    stored; `account_id` is NULL for a number that is no customer's, which behaves the same."""

    __tablename__ = "bot_sign_in_attempts"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # random, in a signed cookie
    reference: Mapped[str] = mapped_column(String(64))
    phone_hash: Mapped[str] = mapped_column(String(64), index=True)  # HMAC of the number
    requester: Mapped[str] = mapped_column(String(120), index=True)  # "web:<client address>"
    account_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    tries: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class Checkout(StoreBase):
    """A hosted checkout started for a pay link: the provider's id, and the amount chosen
    (the whole amount due, or part of it)."""

    __tablename__ = "bot_checkouts"

    provider_reference: Mapped[str] = mapped_column(String(128), primary_key=True)
    provider: Mapped[str] = mapped_column(String(20))
    link_id: Mapped[str] = mapped_column(String(64), index=True)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PayLinkOrigin(StoreBase):
    """Which conversation a pay link was sent to, so the payment is confirmed there."""

    __tablename__ = "bot_pay_link_origins"

    link_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    address: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ProviderEvent(StoreBase):
    """A payment provider's webhook event, stored by its id: a replay is acknowledged and
    does nothing again."""

    __tablename__ = "bot_provider_events"
    __table_args__ = (
        UniqueConstraint("provider", "event_id", name="uq_bot_provider_events_event"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    provider: Mapped[str] = mapped_column(String(20))
    event_id: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(80))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    processed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class AutopayMandate(StoreBase):
    """An account's autopay: the provider's references to a saved method (no card data)."""

    __tablename__ = "bot_autopay"

    account_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    provider: Mapped[str] = mapped_column(String(20))
    customer_reference: Mapped[str] = mapped_column(String(128))
    method_reference: Mapped[str] = mapped_column(String(128))
    label: Mapped[str] = mapped_column(String(80))
    enrolled_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class AutopayCharge(StoreBase):
    """One autopay charge of one invoice: `key` is unique, so two schedulers charge once."""

    __tablename__ = "bot_autopay_charges"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(160), unique=True)
    account_id: Mapped[int] = mapped_column(Integer, index=True)
    invoice_id: Mapped[int] = mapped_column(Integer)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(12))  # pending | succeeded | failed
    payment_reference: Mapped[str | None] = mapped_column(String(128), nullable=True)
    reason: Mapped[str | None] = mapped_column(String(200), nullable=True)
    attempted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CustomerSettings(StoreBase):
    """What a customer chose in the web view beyond alerts: paperless billing."""

    __tablename__ = "bot_customer_settings"

    account_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    paperless: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
