"""Proactive alerts: the scheduler's lease and the customers' alert settings.

- `bot_leases`: named leases (the scheduler's: one process runs the jobs, another takes over
  when it dies);
- `bot_alert_settings`: per account, the preferred channel, quiet hours, alerts turned off and
  usage levels (no row: the defaults).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "bot_leases",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("holder", sa.String(length=80), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_bot_leases")),
    )
    op.create_table(
        "bot_alert_settings",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=True),
        sa.Column("quiet_start", sa.String(length=5), nullable=False),
        sa.Column("quiet_end", sa.String(length=5), nullable=False),
        sa.Column("disabled", sa.JSON(), nullable=False),
        sa.Column("usage_levels", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_bot_alert_settings")),
    )


def downgrade() -> None:
    op.drop_table("bot_alert_settings")
    op.drop_table("bot_leases")
