"""The customer's booked visit inside the `appointment` flow: kept in the flow's slots,
described, and the questions asked about it (what to do with it, confirm a booking or a move,
confirm a cancellation)."""

from __future__ import annotations

from billing_client import Appointment
from bot.flow import TurnContext
from bot.types import Option, Reply
from intents.appointment_slots import long_slot, row, unrow
from intents.appointment_text import (
    CANCEL,
    CONFIRM_BOOK,
    CONFIRM_CANCEL,
    CONFIRM_MOVE,
    HAVE_VISIT,
    KEEP,
    MOVE,
)
from intents.common import yes_no


def remember_visit(ctx: TurnContext, visit: Appointment) -> None:
    """Keep the booked visit in the flow: later steps move or cancel this one."""
    ctx.state.slots["visit"] = {
        "id": visit.id,
        "reference": visit.reference,
        "slot": row(visit.slot),
    }


def visit_values(ctx: TurnContext) -> dict[str, str]:
    """The kept visit's {when} and {reference}, for the texts that name it."""
    visit = ctx.state.slots["visit"]
    return {"when": long_slot(ctx, unrow(visit["slot"])), "reference": str(visit["reference"])}


def manage(ctx: TurnContext) -> Reply:
    """A visit is booked: move it, cancel it or keep it (step manage)."""
    ctx.state.goto("manage")
    options = (
        Option(ctx.say(MOVE), "visit:move"),
        Option(ctx.say(CANCEL), "visit:cancel"),
        Option(ctx.say(KEEP), "visit:keep"),
    )
    return ctx.reply(ctx.say(HAVE_VISIT, **visit_values(ctx)), *options)


def ask_confirm(ctx: TurnContext, prefix: str = "") -> Reply:
    """Book the chosen slot, or move the kept visit to it? With both dates and times."""
    chosen = unrow(ctx.state.slots["chosen"])
    visit = ctx.state.slots.get("visit")
    if visit is None:
        text = ctx.say(CONFIRM_BOOK, when=long_slot(ctx, chosen))
    else:
        old = long_slot(ctx, unrow(visit["slot"]))
        new = long_slot(ctx, chosen)
        text = ctx.say(CONFIRM_MOVE, reference=visit["reference"], old=old, new=new)
    return ctx.reply(f"{prefix} {text}".strip(), *yes_no(ctx))


def ask_cancel(ctx: TurnContext, prefix: str = "") -> Reply:
    """Cancel the kept visit? (step confirm_cancel)."""
    ctx.state.goto("confirm_cancel")
    text = ctx.say(CONFIRM_CANCEL, **visit_values(ctx))
    return ctx.reply(f"{prefix} {text}".strip(), *yes_no(ctx))
