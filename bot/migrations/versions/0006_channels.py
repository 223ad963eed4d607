"""Messaging channels: the service window, delivery statuses, suppressed addresses, links.

- `bot_conversation.last_inbound_at`: when the customer last wrote on that channel address
  (WhatsApp's 24-hour customer-service window);
- `bot_outbox.provider_status`, `provider_error`, `provider_status_at` and an index on
  `provider_id`: status callbacks find their row;
- `bot_suppressions`: addresses nothing is sent to (STOP, a blocked bot, an unreachable number);
- `bot_links`: channel addresses proven to belong to a phone number (a Telegram chat).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("bot_conversation") as batch:
        batch.add_column(sa.Column("last_inbound_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("bot_outbox") as batch:
        batch.add_column(sa.Column("provider_status", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("provider_error", sa.String(length=20), nullable=True))
        batch.add_column(
            sa.Column("provider_status_at", sa.DateTime(timezone=True), nullable=True)
        )
    op.create_index("ix_bot_outbox_provider", "bot_outbox", ["provider_id"])
    op.create_table(
        "bot_suppressions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("address", sa.String(length=254), nullable=False),
        sa.Column("reason", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bot_suppressions")),
        sa.UniqueConstraint("channel", "address", name="uq_bot_suppressions_key"),
    )
    op.create_table(
        "bot_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("msisdn", sa.String(length=20), nullable=False),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bot_links")),
        sa.UniqueConstraint("channel", "address", name="uq_bot_links_key"),
    )
    op.create_index("ix_bot_links_msisdn", "bot_links", ["msisdn"])


def downgrade() -> None:
    op.drop_index("ix_bot_links_msisdn", table_name="bot_links")
    op.drop_table("bot_links")
    op.drop_table("bot_suppressions")
    op.drop_index("ix_bot_outbox_provider", table_name="bot_outbox")
    with op.batch_alter_table("bot_outbox") as batch:
        batch.drop_column("provider_status_at")
        batch.drop_column("provider_error")
        batch.drop_column("provider_status")
    with op.batch_alter_table("bot_conversation") as batch:
        batch.drop_column("last_inbound_at")
