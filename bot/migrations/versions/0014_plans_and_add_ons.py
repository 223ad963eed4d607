"""Plans and add-ons: changing plan, buying data or roaming, and topping up a prepaid balance.

- `plans.offered`: whether customers may change to the plan (an old tariff stays on its lines);
- `add_ons`: the catalogue of data (extra MB for the rest of the cycle) and roaming (days)
  add-ons, with price, billing types and whether they recur;
- `line_add_ons`: what each line bought, when it is active, unique on its idempotency key;
- `plan_changes`: upgrades applied at once and downgrades pending until the next cycle, unique
  on their idempotency key, at most one pending per line (a partial unique index);
- `payment_links.invoice_id` may be NULL: a top-up link for a fixed amount, no invoice.

No ALTER rebuilds `accounts` or `plans` on SQLite (their DROP would cascade to lines and
invoices, see 0009; `plans` is RESTRICTed by `lines`): `plans.offered` is a plain ADD COLUMN.
`payment_links` must be rebuilt to drop its NOT NULL there, and the rebuild's DROP TABLE sets
`payments.payment_link_id` to NULL (ON DELETE SET NULL; foreign keys cannot be switched off
inside the migration's transaction), so those references are saved first and put back after.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PENDING = sa.text("status = 'pending'")


def upgrade() -> None:
    op.add_column(
        "plans", sa.Column("offered", sa.Boolean(), server_default=sa.true(), nullable=False)
    )
    _create_add_ons()
    _create_line_add_ons()
    _create_plan_changes()
    _payment_link_invoice(nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM payment_links WHERE invoice_id IS NULL")  # top-up links
    _payment_link_invoice(nullable=False)
    op.drop_index("uq_plan_changes_pending_line", table_name="plan_changes")
    op.drop_index(op.f("ix_plan_changes_to_plan_id"), table_name="plan_changes")
    op.drop_index(op.f("ix_plan_changes_from_plan_id"), table_name="plan_changes")
    op.drop_table("plan_changes")
    op.drop_index(op.f("ix_line_add_ons_line_id"), table_name="line_add_ons")
    op.drop_index(op.f("ix_line_add_ons_add_on_id"), table_name="line_add_ons")
    op.drop_table("line_add_ons")
    op.drop_table("add_ons")
    op.drop_column("plans", "offered")  # SQLite 3.35+: ALTER TABLE DROP COLUMN


def _create_add_ons() -> None:
    op.create_table(
        "add_ons",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("data_mb", sa.Integer(), nullable=True),
        sa.Column("roaming_days", sa.Integer(), nullable=True),
        sa.Column("price_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.CHAR(length=3), nullable=False),
        sa.Column("recurring", sa.Boolean(), nullable=False),
        sa.Column("billing_type", sa.String(length=10), nullable=False),
        sa.Column("offered", sa.Boolean(), nullable=False),
        sa.CheckConstraint(
            "billing_type IN ('prepaid', 'postpaid', 'any')", name=op.f("ck_add_ons_billing_type")
        ),
        sa.CheckConstraint("kind IN ('data', 'roaming')", name=op.f("ck_add_ons_kind")),
        sa.CheckConstraint("price_minor > 0", name=op.f("ck_add_ons_price")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_add_ons")),
        sa.UniqueConstraint("code", name=op.f("uq_add_ons_code")),
    )


def _create_line_add_ons() -> None:
    op.create_table(
        "line_add_ons",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("line_id", sa.Integer(), nullable=False),
        sa.Column("add_on_id", sa.Integer(), nullable=False),
        sa.Column("price_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.CHAR(length=3), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("bought_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=80), nullable=False),
        sa.Column("idempotency_key", sa.String(length=160), nullable=False),
        sa.ForeignKeyConstraint(
            ["add_on_id"],
            ["add_ons.id"],
            name=op.f("fk_line_add_ons_add_on_id_add_ons"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["line_id"],
            ["lines.id"],
            name=op.f("fk_line_add_ons_line_id_lines"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_line_add_ons")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_line_add_ons_idempotency_key")),
    )
    op.create_index(op.f("ix_line_add_ons_add_on_id"), "line_add_ons", ["add_on_id"])
    op.create_index(op.f("ix_line_add_ons_line_id"), "line_add_ons", ["line_id"])


def _create_plan_changes() -> None:
    op.create_table(
        "plan_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("line_id", sa.Integer(), nullable=False),
        sa.Column("from_plan_id", sa.Integer(), nullable=False),
        sa.Column("to_plan_id", sa.Integer(), nullable=False),
        sa.Column("direction", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("effective_on", sa.Date(), nullable=False),
        sa.Column("charge_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.CHAR(length=3), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("actor", sa.String(length=80), nullable=False),
        sa.Column("idempotency_key", sa.String(length=160), nullable=False),
        sa.CheckConstraint(
            "direction IN ('upgrade', 'downgrade')", name=op.f("ck_plan_changes_direction")
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'applied', 'cancelled')", name=op.f("ck_plan_changes_status")
        ),
        sa.CheckConstraint("charge_minor >= 0", name=op.f("ck_plan_changes_charge")),
        sa.ForeignKeyConstraint(
            ["from_plan_id"],
            ["plans.id"],
            name=op.f("fk_plan_changes_from_plan_id_plans"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["line_id"],
            ["lines.id"],
            name=op.f("fk_plan_changes_line_id_lines"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["to_plan_id"],
            ["plans.id"],
            name=op.f("fk_plan_changes_to_plan_id_plans"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_changes")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_plan_changes_idempotency_key")),
    )
    op.create_index(op.f("ix_plan_changes_from_plan_id"), "plan_changes", ["from_plan_id"])
    op.create_index(op.f("ix_plan_changes_to_plan_id"), "plan_changes", ["to_plan_id"])
    op.create_index(
        "uq_plan_changes_pending_line",
        "plan_changes",
        ["line_id"],
        unique=True,
        sqlite_where=PENDING,
        postgresql_where=PENDING,
    )


def _payment_link_invoice(*, nullable: bool) -> None:
    """Make `payment_links.invoice_id` (not) nullable; on SQLite a rebuild that keeps every
    payment's reference to its link (see the module docstring)."""
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        op.alter_column(
            "payment_links", "invoice_id", existing_type=sa.Integer(), nullable=nullable
        )
        return
    links = bind.execute(
        sa.text("SELECT id, payment_link_id FROM payments WHERE payment_link_id IS NOT NULL")
    ).all()
    with op.batch_alter_table("payment_links", recreate="always") as batch:
        batch.alter_column("invoice_id", existing_type=sa.Integer(), nullable=nullable)
    restore = sa.text("UPDATE payments SET payment_link_id = :link WHERE id = :id")
    for payment_id, link_id in links:
        bind.execute(restore, {"id": payment_id, "link": link_id})
