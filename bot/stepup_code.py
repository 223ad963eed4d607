"""The second half of a strong step-up check: a 6-digit code sent to another verified channel.

Where it may go comes from `bot.second_factors`; the code itself from `bot.otp` (10 minutes,
single use, 5 tries, never stored: the frame keeps its reference, the message a placeholder
the outbox fills in at send time). Steps "stepup.channel", "stepup.code", "stepup.expired".
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from bot import otp
from bot.flow import TurnContext
from bot.second_factors import Destination, second_factors
from bot.stepup_frame import action, audit, contacts, frame, passed, step
from bot.stepup_notices import hand_over
from bot.stepup_text import (
    CODE_AGAIN,
    CODE_MESSAGE,
    CODE_SENT,
    EXPIRED,
    HANDED_OVER,
    NEW_CODE,
    NO_CHANNEL,
    NO_CODES,
    STOP,
    STOPPED,
    TOO_MANY_SENDS,
    WHERE,
    WRONG_CODE,
)
from bot.types import Option, OutboundMessage, Reply

CODE_KIND = "stepup_code"
MAX_SENDS = 3  # codes sent in one verification (the first and two new ones)
_RESEND = re.compile(
    r"\b(resend|new code|another code|send (it )?again|didn[' ’]?t (get|receive)|no code|"
    r"otro c[oó]digo|reenv[ií]a|no (me )?(ha )?llegado|no me lleg[oó])\b"
)


async def destinations(ctx: TurnContext, current: dict[str, Any]) -> str | None:
    """Where a code may go, into the frame; why the check cannot be done here, if it can't."""
    if ctx.account is None or ctx.codes is None:
        return ctx.say(NO_CODES, contacts=contacts(ctx))
    found = await second_factors(ctx, ctx.account)
    if not found:
        return ctx.say(NO_CHANNEL, contacts=contacts(ctx))
    current["to"] = [[where.channel, where.address] for where in found]
    return None


async def choose(ctx: TurnContext) -> list[Reply]:
    """After the PIN: send the code, or ask where first when there are several places."""
    if len(frame(ctx)["to"]) == 1:
        return [_send(ctx, 0)]
    step(ctx, "channel")
    return [where_to(ctx)]


def where_to(ctx: TurnContext) -> Reply:
    """The question "where should the code go?", one option per destination."""
    options = [
        Option(Destination(channel, address).label(ctx.locale), f"via:{n}")
        for n, (channel, address) in enumerate(frame(ctx)["to"], 1)
    ]
    return ctx.reply(ctx.say(WHERE), *options)


def code_again(ctx: TurnContext) -> Reply:
    """The code step's question again (after "back"), naming where the code went."""
    return ctx.reply(ctx.say(CODE_AGAIN, where=_destination(frame(ctx)).label(ctx.locale)))


async def on_channel(ctx: TurnContext) -> list[Reply]:
    """The customer's pick; anything that is not one of the options takes the first."""
    count = len(frame(ctx)["to"])
    picked = ctx.text.removeprefix("via:")
    index = int(picked) - 1 if picked.isdigit() and 1 <= int(picked) <= count else 0
    return [_send(ctx, index)]


def _send(ctx: TurnContext, index: int) -> Reply:
    """Queue a new code to destination `index`; the outbox writes the code in at send time."""
    assert ctx.account is not None
    current = frame(ctx)
    where = Destination(*current["to"][index])
    reference = otp.OneTimeCodes.new_reference()
    sends = int(current.get("sends", 0)) + 1
    current.update(via=index, reference=reference, issued_at=ctx.now.isoformat(), sends=sends)
    current.setdefault("tries", 0)
    text = ctx.say(
        CODE_MESSAGE,
        operator=ctx.operator.name,
        code=otp.placeholder(reference),
        action=action(current, ctx.locale),
        phone=ctx.operator.support.phone,
    )
    ctx.notify(
        OutboundMessage(
            channel=where.channel,
            address=where.address,
            replies=(Reply(text=text),),
            kind=CODE_KIND,
            dedupe_key=f"{CODE_KIND}:{reference}",
            account_id=ctx.account.id,
        )
    )
    step(ctx, "code")
    return ctx.reply(ctx.say(CODE_SENT, where=where.label(ctx.locale)))


async def on_code(ctx: TurnContext) -> list[Reply]:
    """A typed code: right (verified), wrong (tries left), late (expired) or "resend"."""
    current = frame(ctx)
    if _RESEND.search(ctx.text.lower()):
        return [_resend(ctx)]
    if ctx.now - datetime.fromisoformat(str(current["issued_at"])) > otp.TTL:
        step(ctx, "expired")
        await audit(ctx, "stepup_code_expired", str(current["purpose"]))
        return [expired(ctx)]
    assert ctx.codes is not None
    if ctx.codes.matches(str(current["reference"]), ctx.text):
        detail = f"{current['purpose']}; code by {_destination(current).channel}"
        await audit(ctx, "stepup_passed", detail)
        return await passed(ctx)
    return [await _wrong_code(ctx)]


async def _wrong_code(ctx: TurnContext) -> Reply:
    """Count the try down; the last one hands the check to a person."""
    current = frame(ctx)
    current["tries"] = int(current.get("tries", 0)) + 1
    left = otp.MAX_TRIES - current["tries"]
    await audit(ctx, "stepup_code_wrong", f"{current['purpose']}; {left} tries left")
    if left > 0:
        return ctx.reply(ctx.plural(WRONG_CODE, left))
    ticket = await hand_over(ctx, f"{otp.MAX_TRIES} wrong one-time codes")
    ctx.state.finish()
    return ctx.reply(ctx.say(HANDED_OVER, ticket=ticket))


def expired(ctx: TurnContext) -> Reply:
    """The code ran out: offer a new one, or stop."""
    return ctx.reply(
        ctx.say(EXPIRED), Option(ctx.say(NEW_CODE), "resend"), Option(ctx.say(STOP), "stop")
    )


async def on_expired(ctx: TurnContext) -> list[Reply]:
    """A new code when asked for (or a plain yes); anything else stops, changing nothing."""
    wants = ctx.text == "resend" or bool(_RESEND.search(ctx.text.lower()))
    yes = ctx.parse.entity("yes_no")
    if wants or (yes is not None and yes.value is True):
        return [_resend(ctx)]
    ctx.state.finish()
    return [ctx.reply(ctx.say(STOPPED))]


def _resend(ctx: TurnContext) -> Reply:
    """A new code to the same place, up to `MAX_SENDS` per verification."""
    current = frame(ctx)
    if int(current.get("sends", 0)) >= MAX_SENDS:
        ctx.state.finish()
        return ctx.reply(ctx.say(TOO_MANY_SENDS, contacts=contacts(ctx)))
    return _send(ctx, int(current.get("via", 0)))


def _destination(current: dict[str, Any]) -> Destination:
    """Where the latest code went."""
    return Destination(*current["to"][int(current.get("via", 0))])
