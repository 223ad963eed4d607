"""Conversation state in the database: one row per (channel, sender), one turn at a time."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.flow import FlowState
from bot.store.models import Conversation
from bot.store.sql import claim_write_lock, insert_ignore


@dataclass(slots=True)
class ConversationState:
    """What the engine reads and writes for one turn."""

    state: FlowState
    account_id: int | None
    options: list[str] = field(default_factory=list)  # values of the last numbered options
    expired: bool = False


class KeyedLocks:
    """One asyncio.Lock per key, dropped when nobody holds or waits for it."""

    def __init__(self) -> None:
        self._locks: dict[tuple[str, str], tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def hold(self, key: tuple[str, str]) -> AsyncIterator[None]:
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users == 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)


class ConversationStore:
    """Loads and saves conversation state; messages of one conversation run one at a time.

    In one process an asyncio lock serialises turns. On PostgreSQL the row is also locked
    (SELECT … FOR UPDATE) for the whole turn, so several workers serialise too. SQLite is the
    single-process embedded default, where short transactions avoid holding its write lock
    while the billing core writes.
    """

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], *, idle_timeout: timedelta
    ) -> None:
        self._sessions = sessions
        self._idle_timeout = idle_timeout
        self._locks = KeyedLocks()

    @asynccontextmanager
    async def turn(
        self, channel: str, sender: str, *, now: datetime
    ) -> AsyncIterator[ConversationState]:
        async with self._locks.hold((channel, sender)), self._sessions() as session:
            if session.bind is not None and session.bind.dialect.name == "postgresql":
                await self._create_if_missing(session, channel, sender, now)
                async with session.begin():
                    row = await self._find(session, channel, sender, for_update=True)
                    assert row is not None
                    current = self._state_of(row, now)
                    yield current
                    self._store(row, current, now)
                return
            async with session.begin():  # a short read: SQLite's write lock stays free
                row = await self._find(session, channel, sender, for_update=False)
                current = self._state_of(row, now)
            yield current
            async with session.begin():
                await claim_write_lock(session)
                row = await self._find(session, channel, sender, for_update=False)
                if row is None:
                    row = Conversation(channel=channel, sender=sender)
                    session.add(row)
                self._store(row, current, now)

    @staticmethod
    async def _create_if_missing(
        session: AsyncSession, channel: str, sender: str, now: datetime
    ) -> None:
        values = {"channel": channel, "sender": sender, "slots": {}, "options": []}
        async with session.begin():
            await insert_ignore(session, Conversation, {**values, "updated_at": now})

    @staticmethod
    async def _find(
        session: AsyncSession, channel: str, sender: str, *, for_update: bool
    ) -> Conversation | None:
        query = select(Conversation).where(
            Conversation.channel == channel, Conversation.sender == sender
        )
        if for_update:
            query = query.with_for_update()
        return (await session.execute(query)).scalar_one_or_none()

    def _state_of(self, row: Conversation | None, now: datetime) -> ConversationState:
        if row is None:
            return ConversationState(FlowState(), None)
        updated = row.updated_at if row.updated_at.tzinfo else row.updated_at.replace(tzinfo=UTC)
        if now - updated > self._idle_timeout:
            return ConversationState(FlowState(), row.account_id, [], expired=row.flow is not None)
        slots = dict(row.slots or {})
        history = list(slots.pop("_history", []))
        state = FlowState(row.flow, row.step, slots, history)
        return ConversationState(state, row.account_id, list(row.options or []))

    @staticmethod
    def _store(row: Conversation, current: ConversationState, now: datetime) -> None:
        state = current.state
        row.flow, row.step = state.flow, state.step
        row.slots = {**state.slots, "_history": list(state.history)} if state.active else {}
        row.options = list(current.options)
        row.account_id = current.account_id
        row.updated_at = now
