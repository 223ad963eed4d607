"""Conversation rows: one per (channel, sender), its flow state and its lease.

Only `bot.store.turns` calls these, inside the two transactions of a turn; each function is one
statement (two when the row is new), so a turn's state costs no extra round trips.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Row, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.flow import FlowState
from bot.store.models import Conversation
from bot.store.sql import dialect_insert

ConversationKey = tuple[str, str]  # (channel, sender)
_STATE_COLUMNS = (
    Conversation.id,
    Conversation.account_id,
    Conversation.flow,
    Conversation.step,
    Conversation.slots,
    Conversation.options,
    Conversation.updated_at,
)


@dataclass(slots=True)
class ConversationState:
    """What the engine reads and writes for one turn."""

    state: FlowState
    account_id: int | None
    options: list[str] = field(default_factory=list)  # values of the last numbered options
    expired: bool = False
    row_id: int = 0


@dataclass(frozen=True, slots=True)
class BusyConversation:
    """Another turn holds the conversation; where it stands, to judge the next message."""

    flow: str | None
    step: str | None


async def take(
    session: AsyncSession,
    key: ConversationKey,
    *,
    token: str,
    lease_until: datetime,
    lease_now: datetime,
    now: datetime,
    idle_timeout: timedelta,
) -> ConversationState | BusyConversation:
    """Lease the conversation (creating it) and read its state; or say who holds it."""
    channel, sender = key
    free = or_(Conversation.lock_token.is_(None), Conversation.locked_until < lease_now)
    taken = await session.execute(
        update(Conversation)
        .where(Conversation.channel == channel, Conversation.sender == sender, free)
        .values(lock_token=token, locked_until=lease_until)
        .returning(*_STATE_COLUMNS)
    )
    row = taken.first()
    if row is None:
        row = await _create(session, key, token=token, lease_until=lease_until, now=now)
    if row is None:
        return await _holder(session, key)
    return _state_of(row, now, idle_timeout)


async def save(
    session: AsyncSession, current: ConversationState, *, token: str, now: datetime
) -> bool:
    """Store the turn's state and return the lease; False when the lease was lost."""
    state = current.state
    result = await session.execute(
        update(Conversation)
        .where(Conversation.id == current.row_id, Conversation.lock_token == token)
        .values(
            flow=state.flow,
            step=state.step,
            slots={**state.slots, "_history": list(state.history)} if state.active else {},
            options=list(current.options),
            account_id=current.account_id,
            updated_at=now,
            lock_token=None,
            locked_until=None,
        )
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def release(session: AsyncSession, row_id: int, *, token: str) -> None:
    """Return the lease without touching the state (a turn that must be tried again)."""
    await session.execute(
        update(Conversation)
        .where(Conversation.id == row_id, Conversation.lock_token == token)
        .values(lock_token=None, locked_until=None)
    )


async def clear_expired_leases(session: AsyncSession, *, lease_now: datetime) -> int:
    """Forget leases whose holder died (tidiness: an expired lease is already free)."""
    result = await session.execute(
        update(Conversation)
        .where(Conversation.lock_token.is_not(None), Conversation.locked_until < lease_now)
        .values(lock_token=None, locked_until=None)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def _create(
    session: AsyncSession,
    key: ConversationKey,
    *,
    token: str,
    lease_until: datetime,
    now: datetime,
) -> Row[Any] | None:
    """Insert the conversation already leased; None when it exists (someone holds it)."""
    channel, sender = key
    values = {
        "channel": channel,
        "sender": sender,
        "slots": {},
        "options": [],
        "updated_at": now,
        "lock_token": token,
        "locked_until": lease_until,
    }
    statement = dialect_insert(session, Conversation).values(**values).on_conflict_do_nothing()
    created = await session.execute(statement.returning(*_STATE_COLUMNS))
    return created.first()


async def _holder(session: AsyncSession, key: ConversationKey) -> BusyConversation:
    channel, sender = key
    row = (
        await session.execute(
            select(Conversation.flow, Conversation.step).where(
                Conversation.channel == channel, Conversation.sender == sender
            )
        )
    ).first()
    return BusyConversation(None, None) if row is None else BusyConversation(row.flow, row.step)


def _state_of(row: Row[Any], now: datetime, idle_timeout: timedelta) -> ConversationState:
    if now - aware(row.updated_at) > idle_timeout:
        expired = row.flow is not None
        return ConversationState(FlowState(), row.account_id, [], expired, row.id)
    slots = dict(row.slots or {})
    history = list(slots.pop("_history", []))
    state = FlowState(row.flow, row.step, slots, history)
    return ConversationState(state, row.account_id, list(row.options or []), False, row.id)


def aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; they were stored as UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
