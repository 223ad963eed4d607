"""The step-up sub-flow's frame: its slots, who asks, and the return to the caller.

Shared by the PIN (`bot.stepup_pin`), code (`bot.stepup_code`) and hand-over
(`bot.stepup_notices`) parts; intents use `bot.stepup` only.
"""

from __future__ import annotations

from typing import Any, Literal

from bot import i18n
from bot.features import contacts_text
from bot.flow import TurnContext
from bot.phones import display
from bot.stepup_text import ACTIONS, ANY_ACTION, VERIFIED
from bot.types import Reply

Level = Literal["light", "strong"]
SUB = "stepup"
VERIFIED_SLOT = "verified"
SECRET_STEPS = frozenset({f"{SUB}.pin", f"{SUB}.code"})
RANK = {"light": 1, "strong": 2}


def frame(ctx: TurnContext) -> dict[str, Any]:
    """The sub-flow's slots (level, purpose, number, where codes may go, the code's state)."""
    found = ctx.state.slots.get(SUB)
    assert isinstance(found, dict), "not inside step-up verification"
    return found


def step(ctx: TurnContext, name: str) -> None:
    """Move to the sub-flow's step `name` ("code" → "stepup.code")."""
    ctx.state.goto(f"{SUB}.{name}")


async def passed(ctx: TurnContext) -> list[Reply]:
    """Return to the caller at its `then` step, verified, and ask that step's question."""
    current = frame(ctx)
    level = str(current["level"])
    ctx.state.leave(SUB)
    ctx.state.slots[VERIFIED_SLOT] = level
    if ctx.account is None:  # a stranger proved this number only
        ctx.state.slots["verified_number"] = current["number"]
    replies = await ctx.registry.get(ctx.state.flow).prompt(ctx)
    if level == "strong":
        return [ctx.reply(ctx.say(VERIFIED)), *replies]
    return replies


def action(current: dict[str, Any], locale: str) -> str:
    """What the customer was trying to do ("unblock +1 202-555-0103"), for messages."""
    number = display(str(current["number"])) if current.get("number") else ""
    return i18n.say(ACTIONS.get(str(current["purpose"]), ANY_ACTION), locale, number=number)


def contacts(ctx: TurnContext) -> str:
    """The operator's support contacts, where the sub-flow sends people it cannot help."""
    return contacts_text(ctx.operator.support, ctx.locale)


def requester_id(ctx: TurnContext) -> str:
    """Who asks, as the billing core counts and audits it."""
    return f"{ctx.message.channel}:{ctx.message.sender}"


async def audit(ctx: TurnContext, name: str, detail: str) -> None:
    """Record a step of the check on the account (strangers have none to record on)."""
    if ctx.account is not None:
        await ctx.billing.record_audit(
            ctx.account.id, name, actor=requester_id(ctx), detail=detail, now=ctx.now
        )
