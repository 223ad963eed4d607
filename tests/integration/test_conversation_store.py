"""Conversation state and its lease, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.store.conversations import ConversationBusyError, ConversationStore
from bot.store.models import Conversation

IDLE = timedelta(minutes=15)


def store(sessions: async_sessionmaker[AsyncSession]) -> ConversationStore:
    return ConversationStore(sessions, idle_timeout=IDLE)


async def test_state_is_saved_between_turns(
    sessions: async_sessionmaker[AsyncSession], now: datetime
) -> None:
    conversations = store(sessions)
    async with conversations.turn("web", "s1", now=now) as conv:
        conv.state.begin("bar_sim", "ask_pin", line_id=11)
        conv.options = ["yes", "no"]
    async with conversations.turn("web", "s1", now=now + timedelta(minutes=1)) as conv:
        assert (conv.state.flow, conv.state.step) == ("bar_sim", "ask_pin")
        assert conv.state.slots == {"line_id": 11}
        assert conv.options == ["yes", "no"]


async def test_idle_state_expires(
    sessions: async_sessionmaker[AsyncSession], now: datetime
) -> None:
    conversations = store(sessions)
    async with conversations.turn("web", "s1", now=now) as conv:
        conv.state.begin("open_ticket", "describe")
    async with conversations.turn("web", "s1", now=now + IDLE + timedelta(seconds=1)) as conv:
        assert conv.expired
        assert not conv.state.active


async def test_a_second_worker_waits_for_the_first_turn_to_end(
    sessions: async_sessionmaker[AsyncSession], now: datetime
) -> None:
    first, second = store(sessions), store(sessions)  # two workers: separate in-process locks
    order: list[str] = []

    async def slow_turn() -> None:
        async with first.turn("sms", "+12025550101", now=now):
            order.append("first in")
            await asyncio.sleep(0.3)
            order.append("first out")

    async def quick_turn() -> None:
        await asyncio.sleep(0.05)
        async with second.turn("sms", "+12025550101", now=now):
            order.append("second in")

    await asyncio.gather(slow_turn(), quick_turn())
    assert order == ["first in", "first out", "second in"]


async def test_a_dead_workers_lease_expires(
    sessions: async_sessionmaker[AsyncSession], now: datetime
) -> None:
    conversations = store(sessions)
    async with conversations.turn("sms", "+12025550101", now=now):
        pass
    async with sessions() as session, session.begin():  # a worker died holding the lease
        await session.execute(
            update(Conversation).values(lock_token="dead", locked_until=datetime(2999, 1, 1))
        )
    impatient = store(sessions)
    impatient.LEASE = timedelta(seconds=0.2)
    with pytest.raises(ConversationBusyError):
        async with impatient.turn("sms", "+12025550101", now=now):
            pass
    async with sessions() as session, session.begin():
        await session.execute(update(Conversation).values(locked_until=datetime(2000, 1, 1)))
    async with impatient.turn("sms", "+12025550101", now=now) as conv:
        assert not conv.state.active
