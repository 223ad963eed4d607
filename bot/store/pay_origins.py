"""`bot_pay_link_origins`: the conversation each pay link was handed out in.

A payment lands minutes later, on a web page or a provider's webhook, far from the chat that
asked for the link; this is how its confirmation finds the way back (`bot.pay_confirm`).
Recording is idempotent on the link id: a turn retried after a crash records the same row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.store.models import PayLinkOrigin
from bot.store.sql import claim_write_lock, insert_ignore


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a pay link was sent: a channel and that channel's address."""

    channel: str
    address: str


async def record_origin(
    sessions: async_sessionmaker[AsyncSession],
    *,
    link_id: str,
    origin: Origin,
    now: datetime,
) -> bool:
    """Remember where `link_id` was sent; False when it was recorded before (first one wins)."""
    values = {
        "link_id": link_id,
        "channel": origin.channel,
        "address": origin.address,
        "created_at": now,
    }
    async with sessions() as session, session.begin():
        await claim_write_lock(session)
        return await insert_ignore(session, PayLinkOrigin, values)


async def origin_of(sessions: async_sessionmaker[AsyncSession], link_id: str) -> Origin | None:
    """Where `link_id` was sent, or None (a link made elsewhere, or before this was kept)."""
    async with sessions() as session:
        row = await session.get(PayLinkOrigin, link_id)
        return None if row is None else Origin(row.channel, row.address)


class PayOrigins:
    """The turn's handle on the table: intents record, `bot.pay_confirm` reads."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def record(self, link_id: str, origin: Origin, *, now: datetime) -> bool:
        return await record_origin(self._sessions, link_id=link_id, origin=origin, now=now)

    async def origin_of(self, link_id: str) -> Origin | None:
        return await origin_of(self._sessions, link_id)
