"""Per-database facts billbot keeps for itself, in `bot_meta` (key → value)."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.store.models import MetaValue
from bot.store.sql import insert_ignore


async def get_or_create(
    sessions: async_sessionmaker[AsyncSession], key: str, make: Callable[[], str]
) -> str:
    """The value stored under `key`; on first use store `make()` and return it.

    Safe against a race: two processes creating the same key at once both insert-ignore, then
    both read back the one row that won.
    """
    async with sessions() as session:
        stored = await session.scalar(select(MetaValue.value).where(MetaValue.key == key))
    if stored is not None:
        return stored
    async with sessions() as session, session.begin():
        await insert_ignore(session, MetaValue, {"key": key, "value": make()})
    async with sessions() as session:
        winner = await session.scalar(select(MetaValue.value).where(MetaValue.key == key))
    if winner is None:  # pragma: no cover - the row was inserted or already there
        raise RuntimeError(f"bot_meta lost the value of {key!r}")
    return winner
