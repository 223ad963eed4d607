"""The free technician slots in the `appointment` flow: offered as options in the customer's
time zone and language, picked by option or by weekday ("tuesday afternoon").

A slot is kept in the flow's slots as a row `[id, starts ISO, ends ISO]` (`SlotRow`), so the
conversation state stays plain JSON.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_skeleton, format_time

from billing_client import InvalidRequestError, TechnicianSlot
from bot.flow import TurnContext
from bot.types import Option, Reply
from intents.appointment_text import FIRST_FREE, LONG_DAY, NO_SLOTS, NOT_HERE, PICK_NEW, TICKET

SHOWN = 12  # slots offered at once (a text channel shows 8 and "More")
_WEEKDAYS = {
    **dict.fromkeys(("monday", "mon", "lunes"), 0),
    **dict.fromkeys(("tuesday", "tue", "tues", "martes"), 1),
    **dict.fromkeys(("wednesday", "wed", "miercoles", "miércoles"), 2),
    **dict.fromkeys(("thursday", "thu", "thurs", "jueves"), 3),
    **dict.fromkeys(("friday", "fri", "viernes"), 4),
    **dict.fromkeys(("saturday", "sat", "sabado", "sábado"), 5),
    **dict.fromkeys(("sunday", "sun", "domingo"), 6),
}
_MORNING = re.compile(r"\b(morning|am|mañana|manana)\b")
_AFTERNOON = re.compile(r"\b(afternoon|pm|evening|tarde)\b")
SlotRow = list[Any]  # [id, starts ISO, ends ISO], kept in the flow's slots


async def offer(ctx: TurnContext, prefix: str = "") -> list[Reply]:
    """The free slots as options (step choose_slot), or why there are none (flow ends)."""
    assert ctx.account is not None
    try:
        free = await ctx.billing.technician_slots(ctx.account.id, now=ctx.now, limit=SHOWN)
    except InvalidRequestError:  # no service address on the account
        return cannot(ctx, NOT_HERE, prefix)
    current = (ctx.state.slots.get("visit") or {}).get("slot")
    free = [slot for slot in free if current is None or slot.id != int(current[0])]
    if not free:
        return cannot(ctx, NO_SLOTS, prefix)
    ctx.state.slots["offered"] = [row(slot) for slot in free]
    ctx.state.goto("choose_slot")
    return [slots_reply(ctx, prefix)]


def slots_reply(ctx: TurnContext, prefix: str) -> Reply:
    """The offered slots again: the first free one (or the visit being moved) and options."""
    offered = [unrow(saved) for saved in ctx.state.slots.get("offered", [])]
    zone = zone_of(ctx)
    visit = ctx.state.slots.get("visit")
    if visit is not None:
        text = ctx.say(PICK_NEW, current=long_slot(ctx, unrow(visit["slot"])), zone=zone)
    else:
        text = ctx.say(FIRST_FREE, first=long_slot(ctx, offered[0]), zone=zone)
    options = [Option(_short(ctx, slot), f"slot:{slot.id}") for slot in offered]
    return ctx.reply(f"{prefix} {text}".strip(), *options)


def slot_named(ctx: TurnContext) -> SlotRow | None:
    """The offered slot picked by option, or named by weekday (and morning/afternoon)."""
    offered: list[SlotRow] = ctx.state.slots.get("offered", [])
    for saved in offered:
        if ctx.text == f"slot:{saved[0]}":
            return saved
    words = set(re.findall(r"[^\W\d_]+", ctx.text.lower()))
    days = {_WEEKDAYS[word] for word in words if word in _WEEKDAYS}
    if not days:
        return None
    zone = ZoneInfo(zone_of(ctx))
    for saved in offered:
        start = unrow(saved).starts_at.astimezone(zone)
        if start.weekday() in days and _part_of_day_fits(ctx.text.lower(), start.hour):
            return saved
    return None


def _part_of_day_fits(text: str, hour: int) -> bool:
    if _MORNING.search(text):
        return hour < 12
    if _AFTERNOON.search(text):
        return hour >= 12
    return True


def cannot(ctx: TurnContext, why: dict[str, str], prefix: str = "") -> list[Reply]:
    """No visit can be booked here: end the flow and offer a ticket a person follows."""
    ctx.state.finish()
    ticket = Option(ctx.say(TICKET), "intent:open_ticket")
    return [ctx.reply(f"{prefix} {ctx.say(why)}".strip(), ticket)]


# --- a slot kept in the flow, and shown in the customer's time -------------------------------
def row(slot: TechnicianSlot) -> SlotRow:
    return [slot.id, slot.starts_at.isoformat(), slot.ends_at.isoformat()]


def unrow(saved: SlotRow) -> TechnicianSlot:
    starts, ends = datetime.fromisoformat(saved[1]), datetime.fromisoformat(saved[2])
    return TechnicianSlot(int(saved[0]), "", starts, ends, 0)


def zone_of(ctx: TurnContext) -> str:
    """The customer's time zone, in which every slot is shown and reminders are due."""
    return ctx.account.timezone if ctx.account is not None else "UTC"


def long_slot(ctx: TurnContext, slot: TechnicianSlot) -> str:
    """ "Monday, March 17, 8:00 AM – 12:00 PM" in the customer's zone and language."""
    start, end = _local(ctx, slot.starts_at), _local(ctx, slot.ends_at)
    pattern = LONG_DAY.get(ctx.lang, LONG_DAY["en"])
    day = format_date(start.date(), format=pattern, locale=ctx.locale)
    return f"{day}, {_hours(ctx, start, end)}"


def _short(ctx: TurnContext, slot: TechnicianSlot) -> str:
    """ "Mon, Mar 17, 8:00 AM – 12:00 PM", an option's label."""
    start, end = _local(ctx, slot.starts_at), _local(ctx, slot.ends_at)
    day = format_skeleton("MMMEd", start, locale=ctx.locale)
    return f"{day}, {_hours(ctx, start, end)}"


def _hours(ctx: TurnContext, start: datetime, end: datetime) -> str:
    text = " – ".join(format_time(t, format="short", locale=ctx.locale) for t in (start, end))
    return text.replace("\u202f", " ")  # CLDR's narrow no-break space is not in SMS alphabets


def _local(ctx: TurnContext, moment: datetime) -> datetime:
    return moment.astimezone(ZoneInfo(zone_of(ctx)))
