"""Ticket updates from the operator's helpdesk (`ticket.updated` events): each message added
carries the key of the update that added it, unique, so a replay adds nothing.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "ticket_messages", sa.Column("idempotency_key", sa.String(length=160), nullable=True)
    )
    op.create_index(
        "uq_ticket_messages_idempotency_key",
        "ticket_messages",
        ["idempotency_key"],
        unique=True,
    )


def downgrade() -> None:
    op.drop_index("uq_ticket_messages_idempotency_key", table_name="ticket_messages")
    op.drop_column("ticket_messages", "idempotency_key")
