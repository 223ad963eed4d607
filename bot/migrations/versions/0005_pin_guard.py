"""PIN failures per (target, requester) and a daily cap per subject.

Replaces the account-wide counter (accounts.failed_pin_attempts / pin_locked_until), which let
anyone lock the owner out, with `pin_guards` (wrong PINs in a row and the lock, per target and
requester) and `pin_failures` (every wrong PIN, kept 24 hours, for the daily cap). The old
columns stay, unused: dropping them on SQLite rebuilds `accounts`, and with foreign keys on
(they cannot be turned off inside the migration's transaction) the rebuild's DROP TABLE
cascade-deletes every line, invoice and payment.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "pin_guards",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("target", sa.String(length=40), nullable=False),
        sa.Column("requester", sa.String(length=120), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("failures >= 0", name=op.f("ck_pin_guards_failures")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pin_guards")),
        sa.UniqueConstraint("target", "requester", name=op.f("uq_pin_guards_target_requester")),
    )
    op.create_index(op.f("ix_pin_guards_updated_at"), "pin_guards", ["updated_at"])
    op.create_table(
        "pin_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(length=40), nullable=False),
        sa.Column("requester", sa.String(length=120), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pin_failures")),
    )
    op.create_index(op.f("ix_pin_failures_at"), "pin_failures", ["at"])
    op.create_index("ix_pin_failures_subject_at", "pin_failures", ["subject", "at"])


def downgrade() -> None:
    op.drop_table("pin_failures")
    op.drop_table("pin_guards")
