"""Forget the bot's own state about the demo customers when their billing data is recreated.

`billbot db seed-demo --reset` recreates the demo accounts; notices, inbound messages and
conversations about the old ones would otherwise live on (and a recreated barring reference
would collide with an old notice's dedupe key, so the new notice were silently dropped).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import delete, false, or_
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.models import (
    AddressLink,
    Conversation,
    InboundRecord,
    OutboxMessage,
    Suppression,
)


async def reset_bot_state(
    session: AsyncSession, account_ids: Collection[int], *, addresses: Collection[str] = ()
) -> int:
    """Delete the outbox, inbound and conversation rows of these accounts, and those to or from
    these addresses (rows stored before they carried an account), with the addresses' opt-outs
    and linked chats; how many rows went."""
    ids, where = list(account_ids), list(addresses)
    statements = (
        delete(OutboxMessage).where(
            _any(OutboxMessage.account_id.in_(ids), OutboxMessage.recipient.in_(where))
        ),
        delete(InboundRecord).where(
            _any(
                InboundRecord.account_id.in_(ids),
                InboundRecord.sender.in_(where),
                InboundRecord.as_phone.in_(where),
            )
        ),
        delete(Conversation).where(
            _any(Conversation.account_id.in_(ids), Conversation.sender.in_(where))
        ),
        delete(Suppression).where(Suppression.address.in_(where)),
        delete(AddressLink).where(AddressLink.msisdn.in_(where)),
    )
    deleted = 0
    for statement in statements:
        result = await session.execute(statement)
        deleted += int(getattr(result, "rowcount", 0) or 0)
    return deleted


def _any(*conditions: Any) -> Any:
    # `x IN ()` is false on both backends (SQLAlchemy renders an empty set), but say so.
    return or_(false(), *conditions)
