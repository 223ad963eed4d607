"""SIM changes, number transfers and the lock that guards both, in new tables:

- `security_locks`: the holder's SIM-change and transfer lock (no row: unlocked);
- `sim_orders`: replacement SIMs and eSIMs, at most one open (`ordered`) per line, unique on
  the request's idempotency key;
- `port_out_requests`: other providers' requests to take a number, unique on `source_id`.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OPEN = sa.text("status = 'ordered'")


def _account_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["account_id"],
        ["accounts.id"],
        name=op.f(f"fk_{table}_account_id_accounts"),
        ondelete="CASCADE",
    )


def _line_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["line_id"], ["lines.id"], name=op.f(f"fk_{table}_line_id_lines"), ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "security_locks",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("locked", sa.Boolean(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_by", sa.String(length=80), nullable=False),
        _account_fk("security_locks"),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_security_locks")),
    )
    op.create_table(
        "sim_orders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("line_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=4), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("old_iccid", sa.String(length=22), nullable=False),
        sa.Column("new_iccid", sa.String(length=22), nullable=True),
        sa.Column("requested_by", sa.String(length=80), nullable=False),
        sa.Column("idempotency_key", sa.String(length=160), nullable=False),
        sa.Column("ordered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("activated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.CheckConstraint("kind IN ('sim', 'esim')", name=op.f("ck_sim_orders_kind")),
        sa.CheckConstraint(
            "status IN ('ordered', 'active', 'cancelled')", name=op.f("ck_sim_orders_status")
        ),
        _account_fk("sim_orders"),
        _line_fk("sim_orders"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sim_orders")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_sim_orders_idempotency_key")),
    )
    op.create_index(op.f("ix_sim_orders_account_id"), "sim_orders", ["account_id"])
    op.create_index(op.f("ix_sim_orders_line_id"), "sim_orders", ["line_id"])
    op.create_index(
        "uq_sim_orders_open_line",
        "sim_orders",
        ["line_id"],
        unique=True,
        sqlite_where=_OPEN,
        postgresql_where=_OPEN,
    )
    op.create_table(
        "port_out_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("line_id", sa.Integer(), nullable=False),
        sa.Column("carrier", sa.String(length=80), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("source_id", sa.String(length=160), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'approved', 'refused', 'cancelled', 'completed')",
            name=op.f("ck_port_out_requests_status"),
        ),
        _account_fk("port_out_requests"),
        _line_fk("port_out_requests"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_port_out_requests")),
        sa.UniqueConstraint("source_id", name=op.f("uq_port_out_requests_source_id")),
    )
    op.create_index(op.f("ix_port_out_requests_account_id"), "port_out_requests", ["account_id"])
    op.create_index(op.f("ix_port_out_requests_line_id"), "port_out_requests", ["line_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_port_out_requests_line_id"), table_name="port_out_requests")
    op.drop_index(op.f("ix_port_out_requests_account_id"), table_name="port_out_requests")
    op.drop_table("port_out_requests")
    op.drop_index("uq_sim_orders_open_line", table_name="sim_orders")
    op.drop_index(op.f("ix_sim_orders_line_id"), table_name="sim_orders")
    op.drop_index(op.f("ix_sim_orders_account_id"), table_name="sim_orders")
    op.drop_table("sim_orders")
    op.drop_table("security_locks")
