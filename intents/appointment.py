"""`appointment`: a technician visit — book one from the free slots, move it, or cancel it.

Slots come from the billing core's availability table for the customer's service address,
shown in their time zone. Every change is confirmed with its date and time in the same message
and done once (the booking is keyed by the flow; the core refuses a second visit and a full
slot). A booking queues a confirmation and a reminder for the day before through the outbox; a
move or a cancellation withdraws the waiting reminder in the same transaction
(`TurnContext.withdraw`). See docs/flows/appointment.md for the state diagram.

This module is the intent and its steps; beside it: `intents.appointment_slots` (offering and
picking slots), `intents.appointment_visit` (the booked visit and the questions about it),
`intents.appointment_changes` (book, move, cancel), `intents.appointment_notices` (the
outbox) and `intents.appointment_text` (what it says).
"""

from __future__ import annotations

import re
import uuid

from billing_client import InvalidRequestError
from bot.flow import Intent, TurnContext
from bot.menu import menu
from bot.types import Reply
from intents.appointment_changes import book, cancel, move
from intents.appointment_slots import cannot, offer, slot_named, slots_reply
from intents.appointment_text import (
    GIVE_UP,
    KEPT_BOOKING,
    KEPT_VISIT,
    MENU_LABEL,
    NO_VISIT,
    NOT_CAUGHT,
    NOT_HERE,
    YES_OR_NO,
)
from intents.appointment_visit import ask_cancel, ask_confirm, manage, remember_visit, visit_values
from intents.common import TRAINING, answer_is_yes

__all__ = ["MENU_LABEL", "AppointmentIntent"]

_CANCEL_WORDS = re.compile(r"\b(cancel\w*|call (it )?off|anul\w*)\b")
_MOVE_WORDS = re.compile(
    r"\b(re-?schedul\w*|move|postpone|(another|different|other) (day|time|date)|"
    r"change (it|the|my) (appointment|visit|date|time|day)|cambi\w*|mov\w*|aplaz\w*|"
    r"otro d[ií]a|otra (hora|fecha))\b"
)


class AppointmentIntent(Intent):
    name = "appointment"
    menu_label = MENU_LABEL
    training_file = TRAINING / "appointment.yml"

    async def start(self, ctx: TurnContext) -> list[Reply]:
        assert ctx.account is not None  # not anonymous: the router sends strangers elsewhere
        reason = "Technician visit" if ctx.picked_option else ctx.text
        ctx.state.begin(self.name, "choose_slot", flow_id=uuid.uuid4().hex, reason=reason)
        try:
            visits = await ctx.billing.list_appointments(ctx.account.id, now=ctx.now)
        except InvalidRequestError:
            return cannot(ctx, NOT_HERE)
        if not visits:
            prefix = ctx.say(NO_VISIT) if _asks_change(ctx.text) else ""
            return await offer(ctx, prefix)
        remember_visit(ctx, visits[0])
        if _CANCEL_WORDS.search(ctx.text.lower()):
            return [ask_cancel(ctx)]
        if _MOVE_WORDS.search(ctx.text.lower()):
            return await offer(ctx)
        return [manage(ctx)]

    async def resume(self, ctx: TurnContext) -> list[Reply]:
        handlers = {
            "manage": _on_manage,
            "choose_slot": _on_slot,
            "confirm": _on_confirm,
            "confirm_cancel": _on_cancel,
        }
        return await handlers[ctx.state.step or "choose_slot"](ctx)

    async def prompt(self, ctx: TurnContext) -> list[Reply]:
        step = ctx.state.step
        if step == "manage":
            return [manage(ctx)]
        if step == "confirm_cancel":
            return [ask_cancel(ctx)]
        return [slots_reply(ctx, "")]


# --- the steps ----------------------------------------------------------------------------------
async def _on_manage(ctx: TurnContext) -> list[Reply]:
    text = ctx.text.lower()
    if ctx.text == "visit:cancel" or _CANCEL_WORDS.search(text):
        return [ask_cancel(ctx)]
    if ctx.text == "visit:move" or _MOVE_WORDS.search(text):
        return await offer(ctx)
    if ctx.text == "visit:keep" or answer_is_yes(ctx) is False or "keep" in text:
        kept = ctx.say(KEPT_VISIT, **visit_values(ctx))
        ctx.state.finish()
        return [ctx.reply(kept)]
    return _missed(ctx, manage(ctx))


async def _on_slot(ctx: TurnContext) -> list[Reply]:
    chosen = slot_named(ctx)
    if chosen is None:
        return _missed(ctx, slots_reply(ctx, ""))
    ctx.state.slots.update(chosen=chosen, misses=0)
    ctx.state.goto("confirm")
    return [ask_confirm(ctx)]


async def _on_confirm(ctx: TurnContext) -> list[Reply]:
    answer = answer_is_yes(ctx)
    if answer is None:
        return [ask_confirm(ctx, ctx.say(YES_OR_NO))]
    visit = ctx.state.slots.get("visit")
    if not answer:
        kept = ctx.say(KEPT_BOOKING) if visit is None else ctx.say(KEPT_VISIT, **visit_values(ctx))
        ctx.state.finish()
        return [ctx.reply(kept)]
    return await (move(ctx) if visit is not None else book(ctx))


async def _on_cancel(ctx: TurnContext) -> list[Reply]:
    answer = answer_is_yes(ctx)
    if answer is None:
        return [ask_cancel(ctx, ctx.say(YES_OR_NO))]
    if not answer:
        kept = ctx.say(KEPT_VISIT, **visit_values(ctx))
        ctx.state.finish()
        return [ctx.reply(kept)]
    return await cancel(ctx)


def _missed(ctx: TurnContext, again: Reply) -> list[Reply]:
    """Ask once more; after a second miss, leave the flow for the menu."""
    misses = int(ctx.state.slots.get("misses", 0)) + 1
    if misses >= 2:
        ctx.state.finish()
        return [menu(ctx, f"{ctx.say(NOT_CAUGHT)} {ctx.say(GIVE_UP)}")]
    ctx.state.slots["misses"] = misses
    return [ctx.reply(f"{ctx.say(NOT_CAUGHT)} {again.text}", *again.options)]


def _asks_change(text: str) -> bool:
    lowered = text.lower()
    return bool(_CANCEL_WORDS.search(lowered) or _MOVE_WORDS.search(lowered))
