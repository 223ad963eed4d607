"""Step-up verification: one sub-flow any intent calls before a sensitive action.

Levels (docs/flows/stepup.md has the table of which action needs which):

- ``light``: the account PIN (barring: it reduces harm and must stay fast).
- ``strong``: the PIN, then a 6-digit one-time code sent to one of the holder's verified
  channels other than the one asking (`bot.second_factors`: their own number by SMS, a chat
  linked over 7 days ago, the account email). With several, the customer picks (the first by
  default). Codes come from `bot.otp`: 10 minutes, single use, 5 tries, never stored.

An intent calls it and gets control back, like a function call inside its own flow::

    return await stepup.require(ctx, level="strong", purpose="unbar_sim", then="confirm")

The conversation stays in the caller's flow (`FlowState.call`): the sub-flow's steps are
"stepup.pin", "stepup.channel", "stepup.code" and "stepup.expired", its slots live in
``slots["stepup"]``. The caller lists `SECRET_STEPS` among its secret steps (what is typed
there is stored as a placeholder) and hands those steps back here first::

    if stepup.owns(ctx.state):
        return await stepup.resume(ctx)

On success the sub-flow returns (`FlowState.leave`): ``slots["verified"]`` records the level
(a later `require` in the same flow asks nothing again), the flow moves to ``then`` and the
caller's `prompt` asks that step's question in the same reply. On failure the caller's flow
ends: wrong PINs count down and lock in the billing core (`verify_pin`, which audits each);
wrong codes count down here and are audited; at the limit of a strong check a support ticket
(one per account per day) hands it to a person, the customer gets its reference and the
holder is told on their other channels. `number` names the line in the PIN question; when
nobody is identified (barring another phone), the PIN is that number's account's
(`verify_line_pin`) and ``slots["verified_line"]`` says which line it proved.

This module is the sub-flow's only entry for intents; its parts live beside it:
`bot.stepup_pin` (the PIN, locks), `bot.stepup_code` (where the code goes, sending and
checking it), `bot.stepup_notices` (the hand-over ticket and the holder's notices),
`bot.stepup_frame` (the frame and the return to the caller), `bot.stepup_zones` (lock times)
and `bot.stepup_text` (what it says).
"""

from __future__ import annotations

from typing import Any

from bot.flow import FlowState, TurnContext
from bot.stepup_code import (
    CODE_KIND,
    MAX_SENDS,
    code_again,
    destinations,
    expired,
    on_channel,
    on_code,
    on_expired,
    where_to,
)
from bot.stepup_frame import RANK, SECRET_STEPS, SUB, VERIFIED_SLOT, Level
from bot.stepup_notices import requester_label
from bot.stepup_pin import ask_pin, forgot_pin, on_pin
from bot.stepup_zones import local_moment, number_zone, zone_for
from bot.types import Reply

__all__ = [
    "CODE_KIND",
    "MAX_SENDS",
    "SECRET_STEPS",
    "SUB",
    "VERIFIED_SLOT",
    "Level",
    "forgot_pin",
    "local_moment",
    "number_zone",
    "owns",
    "prompt",
    "requester_label",
    "require",
    "resume",
]


def owns(state: FlowState) -> bool:
    """Whether the conversation is inside the sub-flow (the caller hands the turn here)."""
    return state.called(SUB) is not None


async def require(
    ctx: TurnContext, *, level: Level, purpose: str, then: str, number: str | None = None
) -> list[Reply]:
    """Verify the customer at `level` for `purpose`, then continue the caller's flow at
    `then` (its question is asked by the caller's `prompt`). See the module docstring."""
    if _already(ctx, level, number):
        ctx.state.goto(then)
        return await ctx.registry.get(ctx.state.flow).prompt(ctx)
    current: dict[str, Any] = {"level": level, "purpose": purpose, "number": number}
    current["zone"] = zone_for(ctx, number)
    if level == "strong":
        refusal = await destinations(ctx, current)
        if refusal is not None:
            ctx.state.finish()
            return [ctx.reply(refusal)]
    ctx.state.call(SUB, "pin", then=then, **current)
    return [ask_pin(ctx)]


def _already(ctx: TurnContext, level: Level, number: str | None) -> bool:
    """Whether this flow verified at `level` or above — for a stranger, for this number."""
    slots = ctx.state.slots
    if RANK.get(str(slots.get(VERIFIED_SLOT)), 0) < RANK[level]:
        return False
    return ctx.account is not None or slots.get("verified_number") == number


async def resume(ctx: TurnContext) -> list[Reply]:
    """Handle the customer's answer at the sub-flow's current step."""
    handlers = {
        "pin": on_pin,
        "channel": on_channel,
        "code": on_code,
        "expired": on_expired,
    }
    return await handlers[ctx.state.called(SUB) or "pin"](ctx)


async def prompt(ctx: TurnContext) -> list[Reply]:
    """Ask the current step's question again (after "back")."""
    step = ctx.state.called(SUB)
    if step == "channel":
        return [where_to(ctx)]
    if step == "code":
        return [code_again(ctx)]
    if step == "expired":
        return [expired(ctx)]
    return [ask_pin(ctx)]
