"""Outbox of channel-neutral replies with leases and backoff.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01

`body` (a pre-rendered string) becomes `replies`, a JSON list of `Reply.as_dict()` items: each
existing row gets a one-reply list holding its body. New: `account_id` (demo reset deletes by
it), `next_attempt_at` (backoff; existing rows are due at their creation time),
`lease_token`/`leased_until` (a worker's claim). `payload` was never used and goes. Addresses
grow to 254 characters (e-mail) and provider ids to 128 (WhatsApp Cloud API ids are long).
Downgrading joins the replies' texts back into `body`; rows waiting for a retry or leased
become `queued`, the only waiting status the older code knows.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OUTBOX = "bot_outbox"
_rows = sa.table(
    OUTBOX,
    sa.column("id", sa.Integer()),
    sa.column("body", sa.Text()),
    sa.column("payload", sa.JSON()),
    sa.column("replies", sa.JSON()),
    sa.column("status", sa.String()),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("next_attempt_at", sa.DateTime(timezone=True)),
)


def upgrade() -> None:
    with op.batch_alter_table(OUTBOX) as batch:
        batch.add_column(sa.Column("replies", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("account_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("lease_token", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("leased_until", sa.DateTime(timezone=True), nullable=True))
    _bodies_to_replies()
    with op.batch_alter_table(OUTBOX) as batch:
        batch.alter_column("replies", existing_type=sa.JSON(), nullable=False)
        batch.alter_column(
            "next_attempt_at", existing_type=sa.DateTime(timezone=True), nullable=False
        )
        batch.alter_column(
            "recipient", existing_type=sa.String(length=64), type_=sa.String(length=254)
        )
        batch.alter_column(
            "provider_id", existing_type=sa.String(length=64), type_=sa.String(length=128)
        )
        batch.drop_column("body")
        batch.drop_column("payload")
    op.create_index("ix_bot_outbox_due", OUTBOX, ["status", "next_attempt_at"])
    op.create_index("ix_bot_outbox_account", OUTBOX, ["account_id"])


def downgrade() -> None:
    op.drop_index("ix_bot_outbox_account", table_name=OUTBOX)
    op.drop_index("ix_bot_outbox_due", table_name=OUTBOX)
    with op.batch_alter_table(OUTBOX) as batch:
        batch.add_column(sa.Column("body", sa.Text(), nullable=True))
        batch.add_column(sa.Column("payload", sa.JSON(), nullable=True))
    _replies_to_bodies()
    with op.batch_alter_table(OUTBOX) as batch:
        batch.alter_column("body", existing_type=sa.Text(), nullable=False)
        batch.alter_column("payload", existing_type=sa.JSON(), nullable=False)
        batch.alter_column(
            "provider_id", existing_type=sa.String(length=128), type_=sa.String(length=64)
        )
        batch.alter_column(
            "recipient", existing_type=sa.String(length=254), type_=sa.String(length=64)
        )
        for column in ("leased_until", "lease_token", "next_attempt_at", "account_id"):
            batch.drop_column(column)
        batch.drop_column("replies")


def _bodies_to_replies() -> None:
    bind = op.get_bind()
    for row in bind.execute(sa.select(_rows.c.id, _rows.c.body, _rows.c.created_at)).all():
        bind.execute(
            _rows.update()
            .where(_rows.c.id == row.id)
            .values(replies=[{"text": row.body}], next_attempt_at=row.created_at)
        )


def _replies_to_bodies() -> None:
    bind = op.get_bind()
    for row in bind.execute(sa.select(_rows.c.id, _rows.c.replies, _rows.c.status)).all():
        texts = [str(item.get("text", "")) for item in row.replies or [] if isinstance(item, dict)]
        status = "queued" if row.status in ("leased", "retry") else row.status
        bind.execute(
            _rows.update()
            .where(_rows.c.id == row.id)
            .values(body="\n".join(texts), payload={}, status=status)
        )
