"""Flows set aside when the customer switches topic mid-flow, kept to come back to.

"Actually, what do I owe?" in the middle of a plan change answers the balance and keeps the
plan change where it was (its step, slots and the questions already asked) on a small stack of
the conversation. The router (`bot.routing`) pushes and resumes; the conversation store
(`bot.store.conversations`) keeps the stack in the row's slots, so it survives a restart and
expires with the conversation. docs/turns.md has the diagram.

A frame keeps the flow's `flow_id` (inside its slots) unchanged, so a side effect keyed by it
happens once however often the flow is set aside and resumed. It never holds a secret: PINs
and codes are never in the slots, and resuming asks the step's question again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bot.flow import FlowState

MAX_SUSPENDED = 2  # older frames are dropped: nobody comes back three topics deep
KEY = "_suspended"  # where the stack lives in the stored slots (next to "_history")


@dataclass(frozen=True, slots=True)
class SuspendedFlow:
    """A flow set aside by a topic switch: where it stood, whose it is and since when."""

    flow: str
    step: str | None
    slots: dict[str, Any] = field(default_factory=dict)
    history: tuple[str, ...] = ()
    account_id: int | None = None  # the customer it belongs to (an address can change hands)
    at: datetime | None = None  # when it was set aside: it ages like an idle conversation
    reminded: bool = False  # the customer was told once how to come back: not on every reply
    queued: bool = False  # never started: the second request of a message (`bot.clarify`)

    @classmethod
    def of(cls, state: FlowState, *, account_id: int | None, at: datetime) -> SuspendedFlow:
        """The frame of the active flow `state` (which the caller then leaves)."""
        assert state.flow is not None
        slots, history = dict(state.slots), tuple(state.history)
        return cls(state.flow, state.step, slots, history, account_id, at)

    def restore(self, state: FlowState) -> None:
        """Make this flow the active one again, at its step, as if never left."""
        state.flow, state.step = self.flow, self.step
        state.slots, state.history = dict(self.slots), list(self.history)
        state.begun = False  # resumed, not begun: "back" still reaches its earlier questions

    def to_json(self) -> dict[str, Any]:
        return {
            "flow": self.flow,
            "step": self.step,
            "slots": self.slots,
            "history": list(self.history),
            "account_id": self.account_id,
            "at": self.at.isoformat() if self.at is not None else None,
            "reminded": self.reminded,
            "queued": self.queued,
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> SuspendedFlow:
        at = raw.get("at")
        return cls(
            str(raw["flow"]),
            raw.get("step"),
            dict(raw.get("slots") or {}),
            tuple(raw.get("history") or ()),
            raw.get("account_id"),
            datetime.fromisoformat(at) if at else None,
            bool(raw.get("reminded", False)),
            bool(raw.get("queued", False)),
        )


Stack = list[SuspendedFlow]  # oldest first; the last is the one a reminder names


def push(stack: Sequence[SuspendedFlow], frame: SuspendedFlow) -> Stack:
    """`stack` with `frame` on top: an older copy of the same flow and the oldest beyond
    MAX_SUSPENDED go."""
    return [*without(stack, frame.flow), frame][-MAX_SUSPENDED:]


def without(stack: Sequence[SuspendedFlow], flow: str | None) -> Stack:
    """`stack` less any frame of `flow` (resumed, or started afresh)."""
    return [frame for frame in stack if frame.flow != flow]


def current(
    stack: Sequence[SuspendedFlow], *, account_id: int | None, now: datetime, idle: timedelta
) -> Stack:
    """The frames still good: the customer's own, set aside less than `idle` ago (an active
    flow left alone that long times out too)."""
    return [
        frame
        for frame in stack
        if frame.account_id == account_id and frame.at is not None and now - frame.at <= idle
    ]


def dump(stack: Sequence[SuspendedFlow]) -> list[dict[str, Any]]:
    return [frame.to_json() for frame in stack]


def load(raw: object) -> Stack:
    """The stack stored in a row's slots; anything unreadable is dropped, not fatal."""
    if not isinstance(raw, list):
        return []
    return [SuspendedFlow.from_json(item) for item in raw if _readable(item)]


def _readable(item: object) -> bool:
    return isinstance(item, dict) and isinstance(item.get("flow"), str)
