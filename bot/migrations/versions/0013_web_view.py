"""The web view and payments: browser sessions, single-use links, sign-in by code, hosted
checkouts and where their pay links came from, provider webhook events, autopay and its
charges, paperless billing. Only billbot's own tables: no card data anywhere.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "bot_autopay",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(length=20), nullable=False),
        sa.Column("customer_reference", sa.String(length=128), nullable=False),
        sa.Column("method_reference", sa.String(length=128), nullable=False),
        sa.Column("label", sa.String(length=80), nullable=False),
        sa.Column("enrolled_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("account_id"),
    )
    op.create_table(
        "bot_autopay_charges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=160), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("payment_reference", sa.String(length=128), nullable=True),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
    )
    with op.batch_alter_table("bot_autopay_charges", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_bot_autopay_charges_account_id"), ["account_id"], unique=False
        )

    op.create_table(
        "bot_checkouts",
        sa.Column("provider_reference", sa.String(length=128), nullable=False),
        sa.Column("provider", sa.String(length=20), nullable=False),
        sa.Column("link_id", sa.String(length=64), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("provider_reference"),
    )
    with op.batch_alter_table("bot_checkouts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bot_checkouts_link_id"), ["link_id"], unique=False)

    op.create_table(
        "bot_customer_settings",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("paperless", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("account_id"),
    )
    op.create_table(
        "bot_pay_link_origins",
        sa.Column("link_id", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("address", sa.String(length=254), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("link_id"),
    )
    op.create_table(
        "bot_provider_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(length=20), nullable=False),
        sa.Column("event_id", sa.String(length=200), nullable=False),
        sa.Column("type", sa.String(length=80), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("provider", "event_id", name="uq_bot_provider_events_event"),
    )
    op.create_table(
        "bot_sign_in_attempts",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("reference", sa.String(length=64), nullable=False),
        sa.Column("phone_hash", sa.String(length=64), nullable=False),
        sa.Column("requester", sa.String(length=120), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("tries", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("bot_sign_in_attempts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_bot_sign_in_attempts_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_bot_sign_in_attempts_phone_hash"), ["phone_hash"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_bot_sign_in_attempts_requester"), ["requester"], unique=False
        )

    op.create_table(
        "bot_spent_links",
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("purpose", sa.String(length=20), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("spent_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("nonce"),
    )
    op.create_table(
        "bot_web_sessions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("bot_web_sessions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_bot_web_sessions_account_id"), ["account_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("bot_web_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bot_web_sessions_account_id"))

    op.drop_table("bot_web_sessions")
    op.drop_table("bot_spent_links")
    with op.batch_alter_table("bot_sign_in_attempts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bot_sign_in_attempts_requester"))
        batch_op.drop_index(batch_op.f("ix_bot_sign_in_attempts_phone_hash"))
        batch_op.drop_index(batch_op.f("ix_bot_sign_in_attempts_created_at"))

    op.drop_table("bot_sign_in_attempts")
    op.drop_table("bot_provider_events")
    op.drop_table("bot_pay_link_origins")
    op.drop_table("bot_customer_settings")
    with op.batch_alter_table("bot_checkouts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bot_checkouts_link_id"))

    op.drop_table("bot_checkouts")
    with op.batch_alter_table("bot_autopay_charges", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bot_autopay_charges_account_id"))

    op.drop_table("bot_autopay_charges")
    op.drop_table("bot_autopay")
