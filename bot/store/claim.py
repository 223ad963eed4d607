"""A turn's claim in one statement, on PostgreSQL.

The claim leases the conversation and stores the message leased to us, deciding before
anything is written whether the text is a secret (the caller says so, or the conversation is at
a secret step). Two statements cost two round trips; here both are data-modifying CTEs of one
statement, and the secrecy is decided by the database from the conversation row as it was when
the statement began. The result is always one row: the conversation's state when we took its
lease (empty when it is new or someone else holds it), the message's id and stored text
(empty when it was stored before), why nothing may be sent to the sender, if anything (its
suppression: compliance decides on it in the turn), and the number the sender's address is
linked to (a Telegram chat: identity needs no read of its own). `bot.store.turns` handles the empty
cases with the ordinary statements. SQLite runs the two statements (and reads the suppression)
in one transaction, which costs it nothing.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import (
    Connection,
    Select,
    Table,
    and_,
    bindparam,
    case,
    exists,
    false,
    literal,
    or_,
    select,
    true,
)
from sqlalchemy.dialects import postgresql

from bot.secret_text import PLACEHOLDER
from bot.store import conversations, inbound, links, suppressions
from bot.store.models import Conversation, InboundRecord
from bot.store.sql import rows

_CONVERSATIONS: Table = Conversation.__table__  # type: ignore[assignment]
_INBOUND: Table = InboundRecord.__table__  # type: ignore[assignment]
_C = _CONVERSATIONS.c
_I = _INBOUND.c
SecretSteps = Collection[tuple[str, str]]  # (flow, step) pairs whose answer is a secret


def claim_statement(secret_steps: SecretSteps) -> Select[Any]:
    """The claim for a registry whose secret steps are `secret_steps` (built once per store)."""
    taken = conversations.TAKE.cte("taken")
    at_secret_step = or_(
        false(), *(and_(_C.flow == flow, _C.step == step) for flow, step in sorted(secret_steps))
    )
    secret = or_(
        bindparam("i_secret"),
        exists().where(*conversations.THIS, at_secret_step),
    )
    stored = (
        postgresql.insert(_INBOUND)
        .values(
            **inbound.insert_parameters(),
            text=case((secret, PLACEHOLDER), else_=bindparam("i_text")),
        )
        .on_conflict_do_nothing()
        .returning(_I.id, _I.text)
        .cte("stored")
    )
    one = select(literal(1).label("one")).subquery("one")
    return select(
        *taken.c,
        stored.c.id.label("message_id"),
        stored.c.text.label("message_text"),
        suppressions.REASON_OF_SENDER.label("suppressed"),
        links.PHONE_OF_SENDER.label("linked_phone"),
    ).select_from(one.outerjoin(taken, true()).outerjoin(stored, true()))


def run_claim(connection: Connection, claim: Select[Any], values: dict[str, object]) -> Any:
    """Run the claim; the one row it always returns."""
    (row,) = rows(connection, claim, values)
    return row
