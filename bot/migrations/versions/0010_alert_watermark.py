"""The alert scan reads what changed since its last scan, not everything every time.

- `updated_at` on `accounts`, `usage_counters`, `charges` and `invoices`: when the row was
  last written, on the database's clock (set by every INSERT and UPDATE SQLAlchemy sends),
  indexed; NULL for the rows written before this migration (the first scan reads everything);
- indexes on `invoices.issued_on` and `invoices.due_on`: the bills whose reminder falls on a
  day that just began in their customer's time zone;
- `bot_alert_scans`: where the periodic scan left off (the watermark).

Plain ALTER TABLE ADD COLUMN (nullable, no default) and CREATE INDEX: no table is rebuilt
(rebuilding `accounts` on SQLite would cascade-delete its lines and invoices), and neither
database rewrites the rows.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STAMPED = ("accounts", "usage_counters", "charges", "invoices")


def upgrade() -> None:
    for table in STAMPED:
        op.add_column(table, sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True))
        op.create_index(op.f(f"ix_{table}_updated_at"), table, ["updated_at"], unique=False)
    op.create_index(op.f("ix_invoices_issued_on"), "invoices", ["issued_on"], unique=False)
    op.create_index(op.f("ix_invoices_due_on"), "invoices", ["due_on"], unique=False)
    op.create_table(
        "bot_alert_scans",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("changes_from", sa.DateTime(timezone=True), nullable=True),
        sa.Column("planned_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("full_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_bot_alert_scans")),
    )


def downgrade() -> None:
    op.drop_table("bot_alert_scans")
    op.drop_index(op.f("ix_invoices_due_on"), table_name="invoices")
    op.drop_index(op.f("ix_invoices_issued_on"), table_name="invoices")
    for table in reversed(STAMPED):
        op.drop_index(op.f(f"ix_{table}_updated_at"), table_name=table)
        op.drop_column(table, "updated_at")  # SQLite 3.35+: ALTER TABLE DROP COLUMN
