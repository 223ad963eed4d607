"""Conversation state in the database: one row per (channel, sender), one turn at a time."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.flow import FlowState
from bot.store.models import Conversation
from bot.store.sql import claim_write_lock, insert_ignore

log = logging.getLogger(__name__)


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


class ConversationBusyError(Exception):
    """Another worker held the conversation for longer than the lease allows."""


class ConversationStore:
    """Loads and saves conversation state; messages of one conversation run one at a time.

    In one process an asyncio lock serialises turns. Across workers a lease on the row
    (`lock_token`, `locked_until`) does: taking and returning it are short transactions, so no
    database connection stays open while the turn talks to the billing system. A worker that
    dies mid-turn loses the lease after `LEASE`.
    """

    LEASE = timedelta(seconds=30)
    POLL_SECONDS = 0.05

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
        async with self._locks.hold((channel, sender)):
            token = uuid.uuid4().hex
            current = await self._acquire(channel, sender, token, now)
            try:
                yield current
            except BaseException:
                await self._release(channel, sender, token, None, now)
                raise
            await self._release(channel, sender, token, current, now)

    async def _acquire(
        self, channel: str, sender: str, token: str, now: datetime
    ) -> ConversationState:
        give_up = time.monotonic() + self.LEASE.total_seconds()
        while True:
            async with self._sessions() as session, session.begin():
                row = await self._locked_row(session, channel, sender, now)
                lease_now = datetime.now(UTC)
                if row.locked_until is None or _aware(row.locked_until) <= lease_now:
                    row.lock_token, row.locked_until = token, lease_now + self.LEASE
                    return self._state_of(row, now)
            if time.monotonic() > give_up:
                raise ConversationBusyError(f"{channel} conversation is busy")
            await asyncio.sleep(self.POLL_SECONDS)

    async def _release(
        self,
        channel: str,
        sender: str,
        token: str,
        current: ConversationState | None,
        now: datetime,
    ) -> None:
        """Save the state (unless the turn failed) and return the lease, if it is still ours."""
        async with self._sessions() as session, session.begin():
            row = await self._locked_row(session, channel, sender, now)
            if row.lock_token != token:
                log.warning("conversation lease expired before the turn ended; state not saved")
                return
            if current is not None:
                self._store(row, current, now)
            row.lock_token, row.locked_until = None, None

    async def _locked_row(
        self, session: AsyncSession, channel: str, sender: str, now: datetime
    ) -> Conversation:
        """The conversation's row, created if missing, locked for this transaction."""
        await claim_write_lock(session)
        row = await self._find(session, channel, sender)
        if row is None:
            values = {"channel": channel, "sender": sender, "slots": {}, "options": []}
            await insert_ignore(session, Conversation, {**values, "updated_at": now})
            row = await self._find(session, channel, sender)
        assert row is not None
        return row

    @staticmethod
    async def _find(session: AsyncSession, channel: str, sender: str) -> Conversation | None:
        query = (
            select(Conversation)
            .where(Conversation.channel == channel, Conversation.sender == sender)
            .with_for_update()  # PostgreSQL row lock; SQLite is already BEGIN IMMEDIATE
        )
        return (await session.execute(query)).scalar_one_or_none()

    def _state_of(self, row: Conversation, now: datetime) -> ConversationState:
        if now - _aware(row.updated_at) > self._idle_timeout:
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


def _aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; they were stored as UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
