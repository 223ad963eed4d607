"""A turn's answer and its conversation's state saved in one statement, on PostgreSQL.

The two-statement transaction of `bot.store.turns` costs four round trips there (BEGIN, two
UPDATEs, COMMIT); this costs one. The conversation is saved only while the message's lease is
still ours, and the message answered only when the conversation was saved, so one statement
keeps both or neither. SQLite cannot update in a WITH clause; it uses the transaction, which
costs it nothing.
"""

from __future__ import annotations

from sqlalchemy import Connection, Table, Update, bindparam, select

from bot.store import conversations, inbound
from bot.store.models import Conversation, InboundRecord
from bot.store.sql import rows

_CONVERSATIONS: Table = Conversation.__table__  # type: ignore[assignment]
_INBOUND: Table = InboundRecord.__table__  # type: ignore[assignment]
_MESSAGE_IS_OURS = (
    select(_INBOUND.c.id)
    .where(_INBOUND.c.id == bindparam("i_id"), _INBOUND.c.lease_token == bindparam("i_token"))
    .exists()
)


def _answer_after(conversation_update: Update) -> Update:
    done = conversation_update.where(_MESSAGE_IS_OURS).returning(_CONVERSATIONS.c.id).cte()
    return inbound.FINISH.where(select(done.c.id).exists()).returning(_INBOUND.c.id)


SAVE_AND_ANSWER = _answer_after(conversations.SAVE)
RELEASE_AND_ANSWER = _answer_after(conversations.RELEASE)


def record(
    connection: Connection,
    conversation_values: dict[str, object],
    inbound_values: dict[str, object],
    *,
    save_state: bool,
) -> bool:
    """Save (or only release) the conversation and answer the message; False, and nothing
    written, when either lease was lost."""
    statement = SAVE_AND_ANSWER if save_state else RELEASE_AND_ANSWER
    return bool(rows(connection, statement, {**conversation_values, **inbound_values}))
