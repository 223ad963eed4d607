"""Outbox messages for one web chat session: what the chat page shows besides its answers.

The web chat has no push channel: a message queued for it (`channel="web"`, the session id as
the address) is stored like any other outbound message and the open page polls for it (a
payment confirmed while the customer was on the pay page, an answer a crashed worker's
sweep finished). Reads go by the outbox's primary key from a cursor, so each poll looks only
at rows newer than the last one, however large the outbox grows.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.outbox.store import SUPPRESSED, replies_of
from bot.store.models import OutboxMessage
from bot.types import Reply

MAX_MESSAGES = 20  # a page that slept for a day catches up over a few polls


@dataclass(frozen=True, slots=True)
class ChatMessage:
    """One queued message for the session, in outbox order."""

    id: int
    kind: str
    replies: tuple[Reply, ...]


@dataclass(frozen=True, slots=True)
class ChatMessages:
    """The session's new messages, and the cursor to ask from next time."""

    messages: list[ChatMessage]
    after: int


async def latest_id(sessions: async_sessionmaker[AsyncSession]) -> int:
    """The newest outbox row's id (0 when empty): a new session's starting cursor."""
    async with sessions() as session:
        return int(await session.scalar(select(func.max(OutboxMessage.id))) or 0)


async def messages_since(
    sessions: async_sessionmaker[AsyncSession], *, channel: str, address: str, after: int
) -> ChatMessages:
    """The address's messages with ids above `after` (withdrawn ones left out)."""
    async with sessions() as session:
        newest = int(await session.scalar(select(func.max(OutboxMessage.id))) or 0)
        query = (
            select(OutboxMessage)
            .where(
                OutboxMessage.id > after,
                OutboxMessage.id <= newest,
                OutboxMessage.channel == channel,
                OutboxMessage.recipient == address,
                OutboxMessage.status != SUPPRESSED,
            )
            .order_by(OutboxMessage.id)
            .limit(MAX_MESSAGES)
        )
        rows = (await session.scalars(query)).all()
    found = [ChatMessage(row.id, row.kind, replies_of(row.replies)) for row in rows]
    # A full page may have more behind it: resume after the last one shown, not the newest.
    cursor = found[-1].id if len(found) == MAX_MESSAGES else max(newest, after)
    return ChatMessages(found, cursor)
