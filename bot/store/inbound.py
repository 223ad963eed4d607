"""The inbound log: every accepted message stored first; a replay returns what was answered."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.store.models import InboundRecord
from bot.store.sql import insert_ignore
from bot.types import InboundMessage, Reply


class InboundLog:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def accept(self, message: InboundMessage, text: str) -> list[Reply] | None:
        """Store the message; None when it is new, else the replies it already got.

        A replay that arrives while the first copy is still being handled gets no replies
        (the first copy answers), so nothing is done or sent twice.
        """
        values = {
            "channel": message.channel,
            "external_id": message.external_id,
            "sender": message.sender,
            "text": text,
            "received_at": message.received_at,
            "status": "received",
            "replies": [],
        }
        async with self._sessions() as session, session.begin():
            if await insert_ignore(session, InboundRecord, values):
                return None
            record = await session.scalar(
                select(InboundRecord).where(
                    InboundRecord.channel == message.channel,
                    InboundRecord.external_id == message.external_id,
                )
            )
        stored = record.replies if record is not None else []
        return [Reply.from_dict(item) for item in stored or []]

    async def finish(
        self,
        message: InboundMessage,
        *,
        replies: list[Reply],
        intent: str | None,
        status: str,
        redacted_text: str | None = None,
    ) -> None:
        values: dict[str, object] = {
            "replies": [reply.as_dict() for reply in replies],
            "intent": intent,
            "status": status,
        }
        if redacted_text is not None:
            values["text"] = redacted_text
        async with self._sessions() as session, session.begin():
            await session.execute(
                update(InboundRecord)
                .where(
                    InboundRecord.channel == message.channel,
                    InboundRecord.external_id == message.external_id,
                )
                .values(**values)
            )
