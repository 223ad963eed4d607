"""Turn lifecycle: inbound leases, acting-as phone, account; secrets never stored.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("bot_inbound") as batch:
        batch.add_column(sa.Column("as_phone", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("account_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("lease_token", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("leased_until", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(
            sa.Column("attempts", sa.Integer(), nullable=False, server_default=sa.text("0"))
        )
        batch.add_column(sa.Column("handled_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_bot_inbound_pending", "bot_inbound", ["status", "leased_until"])
    op.create_index("ix_bot_inbound_account", "bot_inbound", ["account_id"])
    op.create_table(
        "bot_meta",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )


def downgrade() -> None:
    op.drop_table("bot_meta")
    op.drop_index("ix_bot_inbound_account", table_name="bot_inbound")
    op.drop_index("ix_bot_inbound_pending", table_name="bot_inbound")
    with op.batch_alter_table("bot_inbound") as batch:
        for column in ("handled_at", "attempts", "leased_until", "lease_token"):
            batch.drop_column(column)
        batch.drop_column("account_id")
        batch.drop_column("as_phone")
