"""Imported usage records (`billbot usage import`).

`usage_records` holds one row per imported record, charged or not, unique on `source_id` (the
record's hash): the import adds to a usage counter only for records whose row is new, so the
same file imported twice counts its usage once.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-08
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "usage_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.String(length=64), nullable=False),
        sa.Column("line_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["line_id"],
            ["lines.id"],
            name=op.f("fk_usage_records_line_id_lines"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_usage_records")),
        sa.UniqueConstraint("source_id", name=op.f("uq_usage_records_source_id")),
    )
    op.create_index(op.f("ix_usage_records_line_id"), "usage_records", ["line_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_usage_records_line_id"), table_name="usage_records")
    op.drop_table("usage_records")
