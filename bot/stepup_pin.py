"""The first half of every step-up check: the account PIN (step "stepup.pin").

Wrong PINs count down and lock in the billing core (`verify_pin`, which audits each); a
stranger barring another phone proves that number's account's PIN (`verify_line_pin`). A
light check ends here; a strong one goes on to the code (`bot.stepup_code`).
"""

from __future__ import annotations

import re
from typing import Any

from billing_client import AccountLockedError, Line, PinChecksPausedError, VerificationError
from bot.flow import TurnContext
from bot.phones import display
from bot.stepup_code import choose
from bot.stepup_frame import contacts, frame, passed, requester_id
from bot.stepup_notices import hand_over, notify_lock
from bot.stepup_text import (
    ASK_PIN,
    ASK_PIN_FOR,
    FORGOT,
    HANDED_HINT,
    LOCKED,
    LOCKED_FOR,
    PAUSED,
    PAUSED_FOR,
    PIN_FORMAT,
    STOLEN_HINT,
    WRONG_PIN,
)
from bot.stepup_zones import local_moment
from bot.types import Reply

_PIN = re.compile(r"\d{4,8}")
_FORGOT = re.compile(
    r"\b(forgot|forget|forgotten|don[' ’]?t (know|remember)|lost my pin|"
    r"olvid[eéoa]|no (la |lo |me )?(s[eé]|recuerdo|acuerdo))\b"
)


def ask_pin(ctx: TurnContext) -> Reply:
    """The PIN question, naming the line when the check is about one number."""
    number = frame(ctx).get("number")
    if number:
        return ctx.reply(ctx.say(ASK_PIN_FOR, number=display(str(number))))
    return ctx.reply(ctx.say(ASK_PIN))


def forgot_pin(ctx: TurnContext) -> Reply | None:
    """The way to a person when the customer says they forgot their PIN; else None."""
    if not _FORGOT.search(ctx.text.lower()):
        return None
    return ctx.reply(ctx.say(FORGOT, contacts=contacts(ctx)))


async def on_pin(ctx: TurnContext) -> list[Reply]:
    """A typed PIN: checked, then the light check passes or the strong one sends a code."""
    forgot = forgot_pin(ctx)
    if forgot is not None:
        ctx.state.finish()
        return [forgot]
    pin = ctx.text.replace(" ", "")
    if not _PIN.fullmatch(pin):
        return [ctx.reply(ctx.say(PIN_FORMAT))]
    try:
        line = await _check_pin(ctx, pin)
    except VerificationError as exc:
        return [ctx.reply(ctx.plural(WRONG_PIN, exc.attempts_left))]
    except AccountLockedError as exc:
        return [await _locked(ctx, exc)]
    if line is not None:  # a stranger proved the number: the caller learns whose it is
        ctx.state.slots.update(verified_line=line.id, verified_account=line.account_id)
    if frame(ctx)["level"] == "light":
        return await passed(ctx)
    return await choose(ctx)


async def _check_pin(ctx: TurnContext, pin: str) -> Line | None:
    """Check the PIN for this requester; the named number's line when nobody is identified."""
    requester = requester_id(ctx)
    if ctx.account is not None:
        await ctx.billing.verify_pin(ctx.account.id, pin, actor=requester, now=ctx.now)
        return None
    number = str(frame(ctx)["number"])
    return await ctx.billing.verify_line_pin(number, pin, requester=requester, now=ctx.now)


async def _locked(ctx: TurnContext, error: AccountLockedError) -> Reply:
    """The lock (or the daily pause) as the requester reads it; the holder is told by email."""
    current = frame(ctx)
    until = local_moment(error.until, str(current["zone"]), ctx.locale, now=ctx.now)
    paused = isinstance(error, PinChecksPausedError)
    number = display(str(current["number"])) if current.get("number") else None
    if error.holder is not None:
        notify_lock(ctx, error, current)
    if number is not None:
        text = ctx.say(PAUSED_FOR if paused else LOCKED_FOR, number=number, until=until)
    else:
        text = ctx.say(PAUSED if paused else LOCKED, until=until)
    hint = await _lock_hint(ctx, error, current)
    ctx.state.finish()
    return ctx.reply(f"{text} {hint}".strip())


async def _lock_hint(ctx: TurnContext, error: AccountLockedError, current: dict[str, Any]) -> str:
    """What to do now: block by phone (barring), or the ticket a person follows (strong)."""
    if current["purpose"] == "bar_sim":
        return ctx.say(STOLEN_HINT)
    if current["level"] != "strong" or ctx.account is None:
        return ""
    ticket = getattr(error, "ticket_reference", None)
    if ticket is None:
        ticket = await hand_over(ctx, "5 wrong PINs in a row (locked for 30 minutes)")
    return ctx.say(HANDED_HINT, ticket=ticket)
