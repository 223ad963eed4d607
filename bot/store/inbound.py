"""Inbound rows: every accepted message, stored before it is acted on, with its answer.

A row is `received` while a worker holds its lease (or after that worker died), then
`handled`, `failed` (answered with an apology, final) or `retry` (a transient failure was
answered; the same message sent again is handled again). Only `bot.store.turns` calls these,
inside a turn's transactions; statements are built once at import.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, and_, bindparam, or_, select, update

from bot.store.conversations import aware
from bot.store.models import InboundRecord
from bot.store.sql import dialect_inserts
from bot.types import InboundMessage, Reply

RECEIVED, HANDLED, FAILED, RETRY = "received", "handled", "failed", "retry"
FINAL = frozenset({HANDLED, FAILED})

_TABLE: Table = InboundRecord.__table__  # type: ignore[assignment]
_C = _TABLE.c
_NOBODY_HOLDS = or_(_C.leased_until.is_(None), _C.leased_until < bindparam("i_lease_now"))
_OURS = (_C.id == bindparam("i_id"), _C.lease_token == bindparam("i_token"))


def insert_parameters() -> dict[str, Any]:
    """The INSERT's values as parameters, but for `text` (see `insert_values`)."""
    return {
        "channel": bindparam("i_channel"),
        "external_id": bindparam("i_external_id"),
        "sender": bindparam("i_sender"),
        "as_phone": bindparam("i_as_phone"),
        "received_at": bindparam("i_received_at"),
        "status": RECEIVED,
        "replies": [],
        "lease_token": bindparam("i_token"),
        "leased_until": bindparam("i_lease_until"),
        "attempts": 1,
    }


_INSERT = {
    dialect: insert.values(**insert_parameters(), text=bindparam("i_text"))
    .on_conflict_do_nothing()
    .returning(_C.id)
    for dialect, insert in dialect_inserts(_TABLE).items()
}
_FIND = select(_C.id, _C.status, _C.lease_token, _C.leased_until, _C.replies, _C.text).where(
    _C.channel == bindparam("i_channel"), _C.external_id == bindparam("i_external_id")
)
_TAKE_OVER = (
    update(_TABLE)
    .where(
        _C.id == bindparam("i_id"),
        or_(and_(_C.status == RECEIVED, _NOBODY_HOLDS), _C.status == RETRY),
    )
    .values(
        status=RECEIVED,
        lease_token=bindparam("i_token"),
        leased_until=bindparam("i_lease_until"),
        attempts=_C.attempts + 1,
    )
)
_RENEW = update(_TABLE).where(*_OURS).values(leased_until=bindparam("i_lease_until"))
FINISH = (
    update(_TABLE)
    .where(*_OURS)
    .values(
        status=bindparam("i_status"),
        replies=bindparam("i_replies"),
        intent=bindparam("i_intent"),
        account_id=bindparam("i_account_id"),
        handled_at=bindparam("i_now"),
        lease_token=None,
        leased_until=None,
    )
)
_ORPHANS = (
    select(_C.channel, _C.sender, _C.text, _C.external_id, _C.received_at, _C.as_phone)
    .where(_C.status == RECEIVED, _NOBODY_HOLDS)
    .order_by(_C.id)
    .limit(bindparam("i_limit"))
)


@dataclass(frozen=True, slots=True)
class StoredInbound:
    """What a worker needs to know about a message someone stored before."""

    id: int
    status: str
    lease_token: str | None
    leased_until: datetime | None
    replies: tuple[Reply, ...]
    text: str

    def answered(self) -> bool:
        return self.status in FINAL

    def held(self, lease_now: datetime) -> bool:
        """Another live worker is answering it right now."""
        until = self.leased_until
        return self.status == RECEIVED and until is not None and aware(until) > lease_now


def insert(
    connection: Connection,
    message: InboundMessage,
    *,
    text: str,
    token: str,
    lease_until: datetime,
) -> int | None:
    """Store the message leased to us; its id, or None when it was stored before."""
    values = {**insert_values(message, token=token, lease_until=lease_until), "i_text": text}
    inserted = connection.execute(_INSERT[connection.dialect.name], values)
    return inserted.scalar()


def insert_values(
    message: InboundMessage, *, token: str, lease_until: datetime
) -> dict[str, object]:
    """The parameters of `insert_parameters()`."""
    return {
        "i_channel": message.channel,
        "i_external_id": message.external_id,
        "i_sender": message.sender,
        "i_as_phone": message.as_phone,
        "i_received_at": message.received_at,
        "i_token": token,
        "i_lease_until": lease_until,
    }


def find(connection: Connection, message: InboundMessage) -> StoredInbound | None:
    key = {"i_channel": message.channel, "i_external_id": message.external_id}
    row = connection.execute(_FIND, key).first()
    if row is None:
        return None
    replies = tuple(Reply.from_dict(item) for item in row.replies or [])
    return StoredInbound(row.id, row.status, row.lease_token, row.leased_until, replies, row.text)


def take_over(
    connection: Connection,
    row_id: int,
    *,
    token: str,
    lease_until: datetime,
    lease_now: datetime,
) -> bool:
    """Lease a row nobody is answering (its worker died, or it is to be retried)."""
    values = {
        "i_id": row_id,
        "i_token": token,
        "i_lease_until": lease_until,
        "i_lease_now": lease_now,
    }
    return bool(connection.execute(_TAKE_OVER, values).rowcount)


def renew(connection: Connection, row_id: int, *, token: str, lease_until: datetime) -> bool:
    """Extend our own lease (after waiting for a busy conversation)."""
    values = {"i_id": row_id, "i_token": token, "i_lease_until": lease_until}
    return bool(connection.execute(_RENEW, values).rowcount)


def finish_values(
    row_id: int,
    *,
    token: str,
    status: str,
    replies: list[Reply],
    intent: str | None,
    account_id: int | None,
    now: datetime,
) -> dict[str, object]:
    """The parameters of `FINISH`."""
    return {
        "i_id": row_id,
        "i_token": token,
        "i_status": status,
        "i_replies": [reply.as_dict() for reply in replies],
        "i_intent": intent,
        "i_account_id": account_id,
        "i_now": now,
    }


def orphans(connection: Connection, *, lease_now: datetime, limit: int) -> list[InboundMessage]:
    """Messages accepted but never answered: `received`, and nobody holds their lease."""
    rows = connection.execute(_ORPHANS, {"i_lease_now": lease_now, "i_limit": limit})
    return [
        InboundMessage(
            channel=row.channel,
            sender=row.sender,
            text=row.text,
            external_id=row.external_id,
            received_at=aware(row.received_at),
            as_phone=row.as_phone,
        )
        for row in rows
    ]
