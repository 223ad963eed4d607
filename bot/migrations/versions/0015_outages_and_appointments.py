"""Field service for diagnostics and technician visits, all in new tables (no ALTER of
`accounts`: rebuilding it on SQLite would cascade-delete its lines, see migration 0009):

- `service_addresses`: where each account is served (one per account), with the folded
  postcode and area keys outages and slots match on;
- `outages`: what the operator reports broken (`billbot outages add|clear`), active while
  `cleared_at` is NULL, unique on `source_id` so an event adds it once;
- `equipment`: an ISP customer's router and what it last reported;
- `technician_slots`: visit windows per area with a capacity, `booked` checked against it;
- `appointments`: visits booked in a slot, unique on their idempotency key.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ACTIVE = sa.text("cleared_at IS NULL")


def upgrade() -> None:
    op.create_table(
        "service_addresses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("street", sa.String(length=200), nullable=False),
        sa.Column("postcode", sa.String(length=16), nullable=False),
        sa.Column("area", sa.String(length=60), nullable=False),
        sa.Column("postcode_key", sa.String(length=16), nullable=False),
        sa.Column("area_key", sa.String(length=60), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_service_addresses_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_addresses")),
        sa.UniqueConstraint("account_id", name=op.f("uq_service_addresses_account_id")),
    )
    op.create_index(
        op.f("ix_service_addresses_postcode_key"), "service_addresses", ["postcode_key"]
    )
    op.create_index(op.f("ix_service_addresses_area_key"), "service_addresses", ["area_key"])

    op.create_table(
        "outages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("area", sa.String(length=60), nullable=False),
        sa.Column("area_key", sa.String(length=60), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("message", sa.String(length=500), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expected_end_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cleared_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("source_id", sa.String(length=160), nullable=True),
        sa.CheckConstraint("kind IN ('mobile', 'broadband')", name=op.f("ck_outages_kind")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outages")),
        sa.UniqueConstraint("source_id", name=op.f("uq_outages_source_id")),
    )
    op.create_index(
        "ix_outages_active_area_key",
        "outages",
        ["area_key"],
        sqlite_where=_ACTIVE,
        postgresql_where=_ACTIVE,
    )

    op.create_table(
        "equipment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("label", sa.String(length=80), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('online', 'offline')", name=op.f("ck_equipment_status")),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_equipment_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_equipment")),
    )
    op.create_index(op.f("ix_equipment_account_id"), "equipment", ["account_id"])

    op.create_table(
        "technician_slots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("area", sa.String(length=60), nullable=False),
        sa.Column("area_key", sa.String(length=60), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("booked", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.String(length=160), nullable=True),
        sa.CheckConstraint(
            "booked >= 0 AND booked <= capacity", name=op.f("ck_technician_slots_booked")
        ),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_technician_slots_window")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_technician_slots")),
        sa.UniqueConstraint("source_id", name=op.f("uq_technician_slots_source_id")),
    )
    op.create_index(
        "ix_technician_slots_area_key_starts_at",
        "technician_slots",
        ["area_key", "starts_at"],
    )

    op.create_table(
        "appointments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("slot_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("idempotency_key", sa.String(length=160), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('booked', 'cancelled')", name=op.f("ck_appointments_status")
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_appointments_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["slot_id"],
            ["technician_slots.id"],
            name=op.f("fk_appointments_slot_id_technician_slots"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointments")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_appointments_idempotency_key")),
    )
    op.create_index(op.f("ix_appointments_account_id"), "appointments", ["account_id"])
    op.create_index(op.f("ix_appointments_slot_id"), "appointments", ["slot_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_appointments_slot_id"), table_name="appointments")
    op.drop_index(op.f("ix_appointments_account_id"), table_name="appointments")
    op.drop_table("appointments")
    op.drop_index("ix_technician_slots_area_key_starts_at", table_name="technician_slots")
    op.drop_table("technician_slots")
    op.drop_index(op.f("ix_equipment_account_id"), table_name="equipment")
    op.drop_table("equipment")
    op.drop_index("ix_outages_active_area_key", table_name="outages")
    op.drop_table("outages")
    op.drop_index(op.f("ix_service_addresses_area_key"), table_name="service_addresses")
    op.drop_index(op.f("ix_service_addresses_postcode_key"), table_name="service_addresses")
    op.drop_table("service_addresses")
