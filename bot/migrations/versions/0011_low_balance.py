"""Prepaid low-balance alerts: the level below which the customer is told.

`accounts.low_balance_alert_minor` (NULL: no alert), with a partial index over the accounts
that set one, so the alert scan reads only those (a few among many prepaid customers).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHERE = "low_balance_alert_minor IS NOT NULL"


def upgrade() -> None:
    # Plain ALTER TABLE (no batch): rebuilding `accounts` on SQLite would cascade-delete.
    op.add_column("accounts", sa.Column("low_balance_alert_minor", sa.BigInteger(), nullable=True))
    op.create_index(
        "ix_accounts_low_balance",
        "accounts",
        ["low_balance_alert_minor"],
        sqlite_where=sa.text(WHERE),
        postgresql_where=sa.text(WHERE),
    )


def downgrade() -> None:
    op.drop_index("ix_accounts_low_balance", table_name="accounts")
    op.drop_column("accounts", "low_balance_alert_minor")  # SQLite 3.35+: ALTER TABLE DROP
