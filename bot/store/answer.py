"""A turn's answer and its conversation's state saved in one statement, on PostgreSQL.

The transaction of `bot.store.turns` costs four round trips there (BEGIN, two UPDATEs,
COMMIT), five with the reply a messaging channel sends (its outbox row); this costs one. The
conversation is saved only while the message's lease is still ours, the message answered only
when the conversation was saved, and the outbound message (at most one: a channel's reply)
queued only when the message was answered, so one statement keeps all or none. SQLite cannot
update in a WITH clause; it uses the transaction, which costs it nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, Select, Table, Update, bindparam, select
from sqlalchemy.dialects import postgresql

from bot.store import conversations, inbound
from bot.store.models import Conversation, InboundRecord, OutboxMessage
from bot.store.sql import rows

_CONVERSATIONS: Table = Conversation.__table__  # type: ignore[assignment]
_INBOUND: Table = InboundRecord.__table__  # type: ignore[assignment]
_OUTBOX: Table = OutboxMessage.__table__  # type: ignore[assignment]
_MESSAGE_IS_OURS = (
    select(_INBOUND.c.id)
    .where(_INBOUND.c.id == bindparam("i_id"), _INBOUND.c.lease_token == bindparam("i_token"))
    .exists()
)
# The outbox columns a queued message sets (`bot.outbox.store.row_values`).
_QUEUED = (
    "channel",
    "recipient",
    "replies",
    "kind",
    "dedupe_key",
    "account_id",
    "status",
    "attempts",
    "next_attempt_at",
    "created_at",
)


def _answer_after(conversation_update: Update) -> Update:
    done = conversation_update.where(_MESSAGE_IS_OURS).returning(_CONVERSATIONS.c.id).cte()
    return inbound.FINISH.where(select(done.c.id).exists()).returning(_INBOUND.c.id)


def _answer_and_queue_after(conversation_update: Update) -> Select[Any]:
    answered = _answer_after(conversation_update).cte("answered")
    values = select(
        *(bindparam(f"o_{name}", type_=_OUTBOX.c[name].type) for name in _QUEUED)
    ).where(select(answered.c.id).exists())
    queued = (
        postgresql.insert(_OUTBOX)
        .from_select(list(_QUEUED), values)
        .on_conflict_do_nothing()
        .cte("queued")
    )
    return select(answered.c.id).add_cte(queued)


SAVE_AND_ANSWER = _answer_after(conversations.SAVE)
RELEASE_AND_ANSWER = _answer_after(conversations.RELEASE)
SAVE_ANSWER_AND_QUEUE = _answer_and_queue_after(conversations.SAVE)
RELEASE_ANSWER_AND_QUEUE = _answer_and_queue_after(conversations.RELEASE)


def record(
    connection: Connection,
    conversation_values: dict[str, object],
    inbound_values: dict[str, object],
    *,
    save_state: bool,
    queued: Mapping[str, Any] | None = None,
) -> bool:
    """Save (or only release) the conversation, answer the message and queue `queued` (an
    outbox row's values); False, and nothing written, when either lease was lost."""
    values = {**conversation_values, **inbound_values}
    if queued is None:
        statement: Any = SAVE_AND_ANSWER if save_state else RELEASE_AND_ANSWER
    else:
        statement = SAVE_ANSWER_AND_QUEUE if save_state else RELEASE_ANSWER_AND_QUEUE
        values |= {f"o_{name}": queued[name] for name in _QUEUED}
    return bool(rows(connection, statement, values))
