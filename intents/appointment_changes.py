"""The confirmed changes of the `appointment` flow: book a visit, move it, cancel it.

Each is done once: a booking is keyed by the flow (`appointment:<flow id>`), and the billing
core refuses a second visit and a full slot. A slot taken meanwhile offers the free ones again.
"""

from __future__ import annotations

from billing_client import AppointmentChange, NotFoundError
from bot.flow import TurnContext
from bot.types import Reply
from intents.appointment_notices import announce, notify, reminder_key
from intents.appointment_slots import long_slot, offer
from intents.appointment_text import (
    BOOKED,
    CANCELLED,
    MOVED,
    NOTICE_BOOKED,
    NOTICE_CANCELLED,
    NOTICE_MOVED,
    REMINDER_PROMISE,
    TAKEN,
)
from intents.appointment_visit import manage, remember_visit


async def book(ctx: TurnContext) -> list[Reply]:
    """Book the chosen slot; a second booking of this flow shows the visit it already has."""
    assert ctx.account is not None
    slots = ctx.state.slots
    try:
        change = await ctx.billing.book_appointment(
            ctx.account.id,
            int(slots["chosen"][0]),
            reason=str(slots.get("reason", "")),
            idempotency_key=f"appointment:{slots['flow_id']}",
            actor=_actor(ctx),
            now=ctx.now,
        )
    except NotFoundError:  # the slot is no longer offered (too soon now)
        change = AppointmentChange("slot_full", None)
    if change.outcome == "slot_full":
        return await offer(ctx, ctx.say(TAKEN))
    assert change.appointment is not None
    if change.outcome == "already_booked":
        remember_visit(ctx, change.appointment)
        return [manage(ctx)]
    ctx.state.finish()
    visit = change.appointment
    reminder = await announce(ctx, visit, NOTICE_BOOKED, "appointment_booked")
    when = long_slot(ctx, visit.slot)
    promise = ctx.say(REMINDER_PROMISE) if reminder else ""
    text = ctx.say(BOOKED, when=when, reference=visit.reference, reminder=promise)
    return [ctx.reply(text.strip())]


async def move(ctx: TurnContext) -> list[Reply]:
    """Move the kept visit to the chosen slot; its old reminder is withdrawn."""
    assert ctx.account is not None
    slots = ctx.state.slots
    visit_id, old_slot = int(slots["visit"]["id"]), int(slots["visit"]["slot"][0])
    try:
        change = await ctx.billing.reschedule_appointment(
            ctx.account.id, visit_id, int(slots["chosen"][0]), actor=_actor(ctx), now=ctx.now
        )
    except NotFoundError:
        change = AppointmentChange("slot_full", None)
    if change.outcome == "slot_full":
        return await offer(ctx, ctx.say(TAKEN))
    assert change.appointment is not None
    ctx.state.finish()
    visit = change.appointment
    # The reminder of the slot this flow saw the visit in, even when a retry finds it moved.
    ctx.withdraw(reminder_key(visit.reference, old_slot))
    reminder = await announce(ctx, visit, NOTICE_MOVED, "appointment_moved")
    promise = ctx.say(REMINDER_PROMISE) if reminder else ""
    when = long_slot(ctx, visit.slot)
    text = ctx.say(MOVED, reference=visit.reference, when=when, reminder=promise)
    return [ctx.reply(text.strip())]


async def cancel(ctx: TurnContext) -> list[Reply]:
    """Cancel the kept visit; its reminder is withdrawn and the customer told."""
    assert ctx.account is not None
    saved = ctx.state.slots["visit"]
    change = await ctx.billing.cancel_appointment(
        ctx.account.id, int(saved["id"]), actor=_actor(ctx), now=ctx.now
    )
    ctx.state.finish()
    assert change.appointment is not None
    visit = change.appointment
    ctx.withdraw(reminder_key(visit.reference, visit.slot.id))
    when = long_slot(ctx, visit.slot)
    text = ctx.say(NOTICE_CANCELLED, when=when, reference=visit.reference)
    await notify(ctx, text, "appointment_cancelled", f"appointment_cancelled:{visit.reference}")
    return [ctx.reply(ctx.say(CANCELLED, reference=visit.reference, when=when))]


def _actor(ctx: TurnContext) -> str:
    """Who made the change, as the billing core audits it."""
    return f"customer:{ctx.message.channel}"
