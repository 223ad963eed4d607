"""Conversation rows: one per (channel, sender), its flow state and its lease.

Only `bot.store.turns` calls these, inside the two transactions of a turn. Each function is one
statement (two when the row is new), built once at import and run on a plain `Connection`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Row, Table, bindparam, or_, select, update

from bot import suspended
from bot.flow import FlowState
from bot.store.models import Conversation
from bot.store.sql import dialect_inserts
from bot.suspended import SuspendedFlow

ConversationKey = tuple[str, str]  # (channel, sender)
_TABLE: Table = Conversation.__table__  # type: ignore[assignment]
_C = _TABLE.c
_STATE = (_C.id, _C.account_id, _C.flow, _C.step, _C.slots, _C.options, _C.updated_at)
THIS = (_C.channel == bindparam("c_channel"), _C.sender == bindparam("c_sender"))
_FREE = or_(_C.lock_token.is_(None), _C.locked_until < bindparam("c_lease_now"))
_HELD_BY_US = (_C.id == bindparam("c_id"), _C.lock_token == bindparam("c_token"))

TAKE = (
    update(_TABLE)
    .where(*THIS, _FREE)
    .values(
        lock_token=bindparam("c_token"),
        locked_until=bindparam("c_lease_until"),
        last_inbound_at=bindparam("c_inbound_at"),
    )
    .returning(*_STATE)
)
_CREATE = {
    dialect: insert.on_conflict_do_nothing().returning(*_STATE)
    for dialect, insert in dialect_inserts(_TABLE).items()
}
_HOLDER = select(_C.flow, _C.step).where(*THIS)
SAVE = (
    update(_TABLE)
    .where(*_HELD_BY_US)
    .values(
        flow=bindparam("c_flow"),
        step=bindparam("c_step"),
        slots=bindparam("c_slots"),
        options=bindparam("c_options"),
        account_id=bindparam("c_account_id"),
        updated_at=bindparam("c_now"),
        lock_token=None,
        locked_until=None,
    )
)
RELEASE = update(_TABLE).where(*_HELD_BY_US).values(lock_token=None, locked_until=None)
_CLEAR_EXPIRED = (
    update(_TABLE)
    .where(_C.lock_token.is_not(None), _C.locked_until < bindparam("c_lease_now"))
    .values(lock_token=None, locked_until=None)
)


@dataclass(slots=True)
class ConversationState:
    """What the engine reads and writes for one turn."""

    state: FlowState
    account_id: int | None
    options: list[str] = field(default_factory=list)  # values of the last numbered options
    expired: bool = False
    row_id: int = 0
    # Why nothing may be sent to this address (`bot_suppressions`), as the claim found it.
    suppressed: str | None = None
    # The number the address is linked to (`bot_links`), when the claim looked it up.
    linked_phone: str | None = None
    linked_checked: bool = False
    # Flows set aside by a topic switch, oldest first (`bot.suspended`); stored in the slots.
    suspended: list[SuspendedFlow] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class BusyConversation:
    """Another turn holds the conversation; where it stands, to judge the next message."""

    flow: str | None
    step: str | None


def take(
    connection: Connection,
    key: ConversationKey,
    *,
    token: str,
    lease_until: datetime,
    lease_now: datetime,
    now: datetime,
    idle_timeout: timedelta,
) -> ConversationState | BusyConversation:
    """Lease the conversation (creating it) and read its state; or say who holds it."""
    row = connection.execute(
        TAKE,
        take_values(
            key, token=token, lease_until=lease_until, lease_now=lease_now, inbound_at=now
        ),
    ).first()
    if row is None:
        return create_or_wait(
            connection,
            key,
            token=token,
            lease_until=lease_until,
            now=now,
            idle_timeout=idle_timeout,
        )
    return state_of(row, now, idle_timeout)


def take_values(
    key: ConversationKey,
    *,
    token: str,
    lease_until: datetime,
    lease_now: datetime,
    inbound_at: datetime,
) -> dict[str, object]:
    """The parameters of `TAKE`."""
    channel, sender = key
    return {
        "c_channel": channel,
        "c_sender": sender,
        "c_lease_now": lease_now,
        "c_token": token,
        "c_lease_until": lease_until,
        "c_inbound_at": inbound_at,
    }


def create_or_wait(
    connection: Connection,
    key: ConversationKey,
    *,
    token: str,
    lease_until: datetime,
    now: datetime,
    idle_timeout: timedelta,
) -> ConversationState | BusyConversation:
    """When `TAKE` found nothing free: create the conversation leased, or say who holds it."""
    row = _create(connection, key, token=token, lease_until=lease_until, now=now)
    if row is None:
        return _holder(connection, key)
    return state_of(row, now, idle_timeout)


def release_values(row_id: int, token: str) -> dict[str, object]:
    """The parameters of `RELEASE`."""
    return {"c_id": row_id, "c_token": token}


def save_values(current: ConversationState, token: str, now: datetime) -> dict[str, object]:
    """The parameters of `SAVE`: the turn's state, and the lease it held."""
    state = current.state
    slots = {**state.slots, "_history": list(state.history)} if state.active else {}
    if current.suspended:  # kept even when no flow is active: that is when they are resumed
        slots[suspended.KEY] = suspended.dump(current.suspended)
    return {
        "c_id": current.row_id,
        "c_token": token,
        "c_flow": state.flow,
        "c_step": state.step,
        "c_slots": slots,
        "c_options": list(current.options),
        "c_account_id": current.account_id,
        "c_now": now,
    }


def release(connection: Connection, row_id: int, *, token: str) -> None:
    """Return the lease without touching the state (a turn that must be tried again)."""
    connection.execute(RELEASE, release_values(row_id, token))


def clear_expired_leases(connection: Connection, *, lease_now: datetime) -> int:
    """Forget leases whose holder died (tidiness: an expired lease is already free)."""
    return int(connection.execute(_CLEAR_EXPIRED, {"c_lease_now": lease_now}).rowcount)


def _create(
    connection: Connection,
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
        "last_inbound_at": now,
    }
    return connection.execute(_CREATE[connection.dialect.name], values).first()


def _holder(connection: Connection, key: ConversationKey) -> BusyConversation:
    channel, sender = key
    row = connection.execute(_HOLDER, {"c_channel": channel, "c_sender": sender}).first()
    return BusyConversation(None, None) if row is None else BusyConversation(row.flow, row.step)


def state_of(row: Row[Any], now: datetime, idle_timeout: timedelta) -> ConversationState:
    """The stored state, or a fresh one when the conversation was idle too long: the active
    flow and the suspended ones expire together."""
    if now - aware(row.updated_at) > idle_timeout:
        expired = row.flow is not None
        return ConversationState(FlowState(), row.account_id, [], expired, row.id)
    slots = dict(row.slots or {})
    history = list(slots.pop("_history", []))
    stack = suspended.load(slots.pop(suspended.KEY, None))
    state = FlowState(row.flow, row.step, slots, history)
    options = list(row.options or [])
    return ConversationState(state, row.account_id, options, False, row.id, suspended=stack)


def aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; they were stored as UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


_TOUCH = update(_TABLE).where(*THIS).values(last_inbound_at=bindparam("c_inbound_at"))


def touch(connection: Connection, key: ConversationKey, *, at: datetime) -> None:
    """Note that the customer wrote (the service window) for a message the engine never sees
    (a compliance keyword); the conversation is created when there is none yet."""
    channel, sender = key
    values = {"c_channel": channel, "c_sender": sender, "c_inbound_at": at}
    if connection.execute(_TOUCH, values).rowcount:
        return
    row = {
        "channel": channel,
        "sender": sender,
        "slots": {},
        "options": [],
        "updated_at": at,
        "last_inbound_at": at,
    }
    connection.execute(_INSERT_IGNORE[connection.dialect.name], row)


_INSERT_IGNORE = {
    dialect: insert.on_conflict_do_nothing() for dialect, insert in dialect_inserts(_TABLE).items()
}
