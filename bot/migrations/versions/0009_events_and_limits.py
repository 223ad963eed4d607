"""Billing events in, and the customer's choices about their spending cap.

- `bot_events`: each event a billing system pushed to `POST /api/events`, stored first by its
  id (a replay finds it and changes nothing), with what came of it;
- `accounts.bill_limit_action`: what happens when the cap is reached, "notice" (NULL) or "bar"
  (the customer opted in to barring chargeable usage);
- `accounts.bill_limit_consent_until`: the customer replied CONTINUE: no cap bar until this day
  (the end of the cycle), inclusive.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "bot_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(length=200), nullable=False),
        sa.Column("type", sa.String(length=40), nullable=False),
        sa.Column("body_sha256", sa.String(length=64), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bot_events")),
        sa.UniqueConstraint("event_id", name=op.f("uq_bot_events_event_id")),
    )
    # Plain ALTER TABLE (no batch): rebuilding `accounts` on SQLite would cascade-delete its
    # lines and invoices (see `Account.failed_pin_attempts`).
    op.add_column("accounts", sa.Column("bill_limit_action", sa.String(length=10), nullable=True))
    op.add_column("accounts", sa.Column("bill_limit_consent_until", sa.Date(), nullable=True))


def downgrade() -> None:
    op.drop_column("accounts", "bill_limit_consent_until")  # SQLite 3.35+: ALTER TABLE DROP
    op.drop_column("accounts", "bill_limit_action")
    op.drop_table("bot_events")
