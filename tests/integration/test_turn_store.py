"""The turn store's two transactions, leases, replays and secrets, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Connection, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from billing_client.sql.transactions import Transactions
from bot.clock import FakeClock
from bot.outbox.store import row_values
from bot.secret_text import PLACEHOLDER
from bot.store import inbound
from bot.store.models import Conversation, InboundRecord
from bot.store.turns import Busy, OpenTurn, Replay, TurnResult, TurnStore
from bot.types import InboundMessage, OutboundMessage, Reply

IDLE = timedelta(minutes=15)


class RecordingOutgoing:
    """Stands in for the outbox: remembers what each finished turn queued."""

    def __init__(self) -> None:
        self.stored: list[OutboundMessage] = []

    def store(
        self, connection: Connection, messages: Sequence[OutboundMessage], *, now: datetime
    ) -> None:
        self.stored.extend(messages)

    def row_values(self, message: OutboundMessage, *, now: datetime) -> dict[str, Any]:
        """PostgreSQL queues one message in the answer's own statement: still remembered."""
        self.stored.append(message)
        return row_values(message, now=now)


PIN_STEPS = {("bar_sim", "ask_pin")}


@pytest.fixture
def sessions(
    sessions: async_sessionmaker[AsyncSession],
) -> Iterator[async_sessionmaker[AsyncSession]]:
    """The database's sessions; every store made on them shares one `Transactions`."""
    engine = sessions.kw["bind"]
    _RUNNERS[id(sessions)] = Transactions(engine)
    yield sessions
    _RUNNERS.pop(id(sessions)).close()


_RUNNERS: dict[int, Transactions] = {}


def make_store(
    sessions: async_sessionmaker[AsyncSession], lease_clock: FakeClock | None = None
) -> TurnStore:
    store = TurnStore(
        _RUNNERS[id(sessions)],
        idle_timeout=IDLE,
        secret_steps=PIN_STEPS,
        outgoing=RecordingOutgoing(),
        lease_clock=lease_clock,
    )
    store.wait_seconds = 1.0
    return store


def msg(text: str, external_id: str = "m1", sender: str = "s1") -> InboundMessage:
    return InboundMessage("web", sender, text, external_id, datetime.now(UTC), as_phone="+1202")


def done(text: str) -> TurnResult:
    return TurnResult([Reply(text)], "balance", inbound.HANDLED, 7)


async def answer(
    store: TurnStore, message: InboundMessage, now: datetime, reply: str = "ok"
) -> object:
    async with store.claim(message, text=message.text, secret=False, now=now) as claim:
        if isinstance(claim, OpenTurn):
            await store.finish(claim, done(reply), now=now)
        return claim


async def stored_text(sessions: async_sessionmaker[AsyncSession], external_id: str) -> str:
    async with sessions() as session:
        query = select(InboundRecord.text).where(InboundRecord.external_id == external_id)
        return str(await session.scalar(query))


async def test_state_is_saved_between_turns(
    sessions: async_sessionmaker[AsyncSession], now: datetime
) -> None:
    store = make_store(sessions)
    async with store.claim(msg("block my sim"), text="block my sim", secret=False, now=now) as c:
        assert isinstance(c, OpenTurn)
        c.conversation.state.begin("bar_sim", "ask_pin", line_id=11)
        c.conversation.options = ["yes", "no"]
        await store.finish(c, done("PIN?"), now=now)
    later = now + timedelta(minutes=1)
    async with store.claim(msg("2468", "m2"), text="2468", secret=False, now=later) as c:
        assert isinstance(c, OpenTurn)
        state = c.conversation.state
        assert (state.flow, state.step, state.slots) == ("bar_sim", "ask_pin", {"line_id": 11})
        assert c.conversation.options == ["yes", "no"]
        await store.finish(c, done("ok"), now=later)


async def test_idle_state_expires(
    sessions: async_sessionmaker[AsyncSession], now: datetime
) -> None:
    store = make_store(sessions)
    async with store.claim(msg("hi"), text="hi", secret=False, now=now) as c:
        assert isinstance(c, OpenTurn)
        c.conversation.state.begin("open_ticket", "describe")
        await store.finish(c, done("describe it"), now=now)
    later = now + IDLE + timedelta(seconds=1)
    async with store.claim(msg("hello", "m2"), text="hello", secret=False, now=later) as c:
        assert isinstance(c, OpenTurn)
        assert c.conversation.expired
        assert not c.conversation.state.active
        await store.finish(c, done("hi"), now=later)


async def test_a_replay_gets_the_stored_replies(
    sessions: async_sessionmaker[AsyncSession], now: datetime
) -> None:
    store = make_store(sessions)
    await answer(store, msg("balance"), now, "You owe $64.20")
    replay = await answer(store, msg("balance"), now, "never used")
    assert replay == Replay((Reply("You owe $64.20"),))


async def test_an_answer_at_a_pin_step_is_never_stored(
    sessions: async_sessionmaker[AsyncSession], now: datetime
) -> None:
    store = make_store(sessions)
    async with store.claim(msg("lost"), text="lost", secret=False, now=now) as c:
        assert isinstance(c, OpenTurn)
        c.conversation.state.begin("bar_sim", "ask_pin")
        await store.finish(c, done("PIN?"), now=now)
    async with store.claim(msg("its 97531864", "m2"), text="its 97531864", secret=False, now=now):
        pass  # the turn dies before finishing: the stored text must already be safe
    assert await stored_text(sessions, "m2") == PLACEHOLDER


async def test_a_pin_looking_text_is_stored_as_a_placeholder(
    sessions: async_sessionmaker[AsyncSession], now: datetime
) -> None:
    store = make_store(sessions)
    text = "my pin is 2468"
    async with store.claim(msg(text), text=text, secret=True, now=now) as c:
        assert isinstance(c, OpenTurn)
        assert c.stored_text == PLACEHOLDER
        await store.finish(c, done("ok"), now=now)
    assert await stored_text(sessions, "m1") == PLACEHOLDER


async def test_a_duplicate_in_flight_waits_and_gets_the_same_replies(
    sessions: async_sessionmaker[AsyncSession], now: datetime
) -> None:
    first, second = make_store(sessions), make_store(sessions)  # two workers

    async def slow() -> object:
        async with first.claim(msg("yes"), text="yes", secret=False, now=now) as c:
            assert isinstance(c, OpenTurn)
            await asyncio.sleep(0.3)
            await first.finish(c, done("Done. B-000001"), now=now)
        return c

    async def duplicate() -> object:
        await asyncio.sleep(0.05)
        return await answer(second, msg("yes"), now, "never used")

    _, copy = await asyncio.gather(slow(), duplicate())
    assert copy == Replay((Reply("Done. B-000001"),))


async def test_a_second_worker_waits_for_the_conversation(
    sessions: async_sessionmaker[AsyncSession], now: datetime
) -> None:
    first, second = make_store(sessions), make_store(sessions)
    order: list[str] = []

    async def slow() -> None:
        async with first.claim(msg("a", "m1"), text="a", secret=False, now=now) as c:
            assert isinstance(c, OpenTurn)
            order.append("first in")
            await asyncio.sleep(0.3)
            order.append("first out")
            await first.finish(c, done("a"), now=now)

    async def quick() -> None:
        await asyncio.sleep(0.05)
        claim = await answer(second, msg("b", "m2"), now)
        assert isinstance(claim, OpenTurn)
        order.append("second in")

    await asyncio.gather(slow(), quick())
    assert order == ["first in", "first out", "second in"]


async def test_a_message_still_held_after_the_wait_is_busy(
    sessions: async_sessionmaker[AsyncSession], now: datetime
) -> None:
    first, second = make_store(sessions), make_store(sessions)
    second.wait_seconds = 0.2
    async with first.claim(msg("yes"), text="yes", secret=False, now=now) as c:
        assert isinstance(c, OpenTurn)
        copy = await answer(second, msg("yes"), now)
        assert isinstance(copy, Busy)
        assert copy.retry_after > 0
        await first.finish(c, done("done"), now=now)


async def test_a_dead_workers_message_is_taken_over_after_its_lease(
    sessions: async_sessionmaker[AsyncSession], now: datetime
) -> None:
    lease_clock = FakeClock(datetime.now(UTC))
    dead, alive = make_store(sessions, lease_clock), make_store(sessions, lease_clock)
    alive.wait_seconds = 0.2
    async with dead.claim(msg("yes"), text="yes", secret=False, now=now) as c:
        assert isinstance(c, OpenTurn)
        c.finished = True  # the worker is killed here: nothing is released
    assert isinstance(await answer(alive, msg("yes"), now), Busy)
    lease_clock.advance(seconds=alive.lease.total_seconds() + 1)
    assert [m.external_id for m in await alive.orphans()] == ["m1"]
    taken = await answer(alive, msg("yes"), now, "answered after the crash")
    assert isinstance(taken, OpenTurn)
    assert await answer(alive, msg("yes"), now) == Replay((Reply("answered after the crash"),))
    assert await alive.orphans() == []


async def test_the_sweep_clears_expired_conversation_leases(
    sessions: async_sessionmaker[AsyncSession], now: datetime
) -> None:
    store = make_store(sessions)
    await answer(store, msg("hi"), now)
    async with sessions() as session, session.begin():
        past = datetime(2000, 1, 1, tzinfo=UTC)
        await session.execute(update(Conversation).values(lock_token="dead", locked_until=past))
    await store.orphans()
    async with sessions() as session:
        assert await session.scalar(select(Conversation.lock_token)) is None


async def test_a_turn_that_outlived_its_lease_does_not_overwrite_the_new_holder(
    sessions: async_sessionmaker[AsyncSession], now: datetime
) -> None:
    store = make_store(sessions)
    async with store.claim(msg("yes"), text="yes", secret=False, now=now) as c:
        assert isinstance(c, OpenTurn)
        async with sessions() as session, session.begin():  # someone took the lease over
            await session.execute(update(InboundRecord).values(lease_token="other"))
        assert not await store.finish(c, done("late"), now=now)
    async with sessions() as session:
        status = await session.scalar(select(InboundRecord.status))
    assert status == inbound.RECEIVED


async def test_an_abandoned_turn_can_be_retried(
    sessions: async_sessionmaker[AsyncSession], now: datetime
) -> None:
    store = make_store(sessions)
    with pytest.raises(RuntimeError):
        async with store.claim(msg("yes"), text="yes", secret=False, now=now) as c:
            assert isinstance(c, OpenTurn)
            raise RuntimeError("a bug in the turn")
    retried = await answer(store, msg("yes"), now, "second time lucky")
    assert isinstance(retried, OpenTurn)


async def test_outbound_messages_are_stored_with_the_answer(
    sessions: async_sessionmaker[AsyncSession], now: datetime
) -> None:
    store = make_store(sessions)
    notice = OutboundMessage("email", "sam@example.com", (Reply("barred"),), "bar_notice", "k1")
    async with store.claim(msg("yes"), text="yes", secret=False, now=now) as c:
        assert isinstance(c, OpenTurn)
        result = done("Done")
        result.outgoing.append(notice)
        assert await store.finish(c, result, now=now)
    assert store._outgoing.stored == [notice]  # type: ignore[attr-defined]
