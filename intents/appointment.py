"""`appointment`: a technician visit — book one from the free slots, move it, or cancel it.

Slots come from the billing core's availability table for the customer's service address,
shown in their time zone. Every change is confirmed with its date and time in the same message
and done once (the booking is keyed by the flow; the core refuses a second visit and a full
slot). A booking queues a confirmation and a reminder for the day before through the outbox; a
move or a cancellation withdraws the waiting reminder in the same transaction
(`TurnContext.withdraw`). See docs/flows/appointment.md for the state diagram.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_skeleton, format_time

from billing_client import (
    Account,
    Appointment,
    AppointmentChange,
    InvalidRequestError,
    NotFoundError,
    TechnicianSlot,
)
from bot.alerts.reach import AlertReach, holder_phone
from bot.flow import Intent, TurnContext
from bot.menu import menu
from bot.types import Option, OutboundMessage, Reply
from intents.common import TRAINING, answer_is_yes, yes_no

FIRST_FREE = {
    "en": "The next free technician visit is {first}. Pick a time (your time, {zone}):",
    "es": "La próxima visita libre de un técnico es el {first}. Elige una hora (tu hora, {zone}):",
}
PICK_NEW = {
    "en": "Your visit is {current}. Pick a new time (your time, {zone}):",
    "es": "Tu visita es el {current}. Elige una hora nueva (tu hora, {zone}):",
}
NOT_CAUGHT = {
    "en": "Sorry, I didn't catch which time you want.",
    "es": "Perdona, no he entendido qué hora quieres.",
}
GIVE_UP = {
    "en": "Let's leave the visit for now. Here's what else I can do:",
    "es": "Dejemos la visita por ahora. Esto es lo demás que puedo hacer:",
}
CONFIRM_BOOK = {
    "en": "Book a technician visit on {when} at your service address? Someone aged 18 or over "
    "needs to be home.",
    "es": "¿Reservo la visita de un técnico el {when} en tu dirección? Tiene que haber en casa "
    "alguien mayor de edad.",
}
CONFIRM_MOVE = {
    "en": "Move your technician visit {reference} from {old} to {new}?",
    "es": "¿Cambio tu visita {reference} del {old} al {new}?",
}
CONFIRM_CANCEL = {
    "en": "Cancel your technician visit {reference} on {when}?",
    "es": "¿Anulo tu visita {reference} del {when}?",
}
YES_OR_NO = {"en": "Please answer yes or no.", "es": "Responde sí o no."}
BOOKED = {
    "en": "Booked: a technician will visit on {when}. Reference {reference}. {reminder}",
    "es": "Reservado: un técnico irá el {when}. Referencia {reference}. {reminder}",
}
MOVED = {
    "en": "Done: your visit {reference} is now on {when}. {reminder}",
    "es": "Hecho: tu visita {reference} es ahora el {when}. {reminder}",
}
REMINDER_PROMISE = {
    "en": "I'll send you a reminder the day before.",
    "es": "Te enviaré un recordatorio el día antes.",
}
CANCELLED = {
    "en": "Your technician visit {reference} on {when} is cancelled.",
    "es": "Tu visita {reference} del {when} está anulada.",
}
KEPT_BOOKING = {"en": "OK, nothing booked.", "es": "De acuerdo, no he reservado nada."}
KEPT_VISIT = {
    "en": "OK, your visit stays on {when} ({reference}).",
    "es": "De acuerdo, tu visita sigue el {when} ({reference}).",
}
HAVE_VISIT = {
    "en": "You have a technician visit on {when} (reference {reference}). What would you like "
    "to do?",
    "es": "Tienes una visita de un técnico el {when} (referencia {reference}). ¿Qué quieres "
    "hacer?",
}
NO_VISIT = {
    "en": "You don't have a technician visit booked.",
    "es": "No tienes ninguna visita de un técnico reservada.",
}
TAKEN = {
    "en": "Sorry, that time was just taken.",
    "es": "Lo siento, esa hora se acaba de ocupar.",
}
NO_SLOTS = {
    "en": "There are no free technician visits in your area right now. I can open a ticket "
    "so our team arranges one with you.",
    "es": "Ahora no hay visitas de técnico libres en tu zona. Puedo abrir una incidencia para "
    "que nuestro equipo la organice contigo.",
}
NOT_HERE = {
    "en": "I can't book technician visits for your account here. I can open a ticket so our "
    "team arranges one with you.",
    "es": "No puedo reservar visitas de técnico para tu cuenta desde aquí. Puedo abrir una "
    "incidencia para que nuestro equipo la organice contigo.",
}
NOTICE_BOOKED = {
    "en": "billbot: your technician visit is booked for {when} (reference {reference}). "
    "Message us to move or cancel it.",
    "es": "billbot: tu visita de un técnico está reservada para el {when} (referencia "
    "{reference}). Escríbenos para cambiarla o anularla.",
}
NOTICE_MOVED = {
    "en": "billbot: your technician visit {reference} is now on {when}.",
    "es": "billbot: tu visita de un técnico {reference} es ahora el {when}.",
}
NOTICE_CANCELLED = {
    "en": "billbot: your technician visit {reference} on {when} is cancelled.",
    "es": "billbot: tu visita de un técnico {reference} del {when} está anulada.",
}
NOTICE_REMINDER = {
    "en": "billbot: reminder, a technician visits tomorrow, {when} (reference {reference}). "
    "Someone aged 18 or over needs to be home. Message us to move or cancel it.",
    "es": "billbot: recordatorio, mañana te visita un técnico, el {when} (referencia "
    "{reference}). Tiene que haber en casa alguien mayor de edad. Escríbenos para cambiarla o "
    "anularla.",
}
MOVE = {"en": "Move it", "es": "Cambiarla"}
CANCEL = {"en": "Cancel it", "es": "Anularla"}
KEEP = {"en": "Keep it", "es": "Mantenerla"}
TICKET = {"en": "Open a ticket", "es": "Abrir una incidencia"}
LONG_DAY = {"en": "EEEE, MMMM d", "es": "EEEE d 'de' MMMM"}

MENU_LABEL = {"en": "Technician visits", "es": "Visitas de técnico"}
REMINDER_HOUR = 10  # local time, the day before the visit
SHOWN = 12  # slots offered at once (a text channel shows 8 and "More")
_CANCEL_WORDS = re.compile(r"\b(cancel\w*|call (it )?off|anul\w*)\b")
_MOVE_WORDS = re.compile(
    r"\b(re-?schedul\w*|move|postpone|(another|different|other) (day|time|date)|"
    r"change (it|the|my) (appointment|visit|date|time|day)|cambi\w*|mov\w*|aplaz\w*|"
    r"otro d[ií]a|otra (hora|fecha))\b"
)
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
            return _cannot(ctx, NOT_HERE)
        if not visits:
            prefix = ctx.say(NO_VISIT) if _asks_change(ctx.text) else ""
            return await _offer(ctx, prefix)
        _remember_visit(ctx, visits[0])
        if _CANCEL_WORDS.search(ctx.text.lower()):
            return [_ask_cancel(ctx)]
        if _MOVE_WORDS.search(ctx.text.lower()):
            return await _offer(ctx)
        return [_manage(ctx)]

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
            return [_manage(ctx)]
        if step == "confirm_cancel":
            return [_ask_cancel(ctx)]
        return [_slots_reply(ctx, "")]


# --- the steps ----------------------------------------------------------------------------------
async def _on_manage(ctx: TurnContext) -> list[Reply]:
    text = ctx.text.lower()
    if ctx.text == "visit:cancel" or _CANCEL_WORDS.search(text):
        return [_ask_cancel(ctx)]
    if ctx.text == "visit:move" or _MOVE_WORDS.search(text):
        return await _offer(ctx)
    if ctx.text == "visit:keep" or answer_is_yes(ctx) is False or "keep" in text:
        kept = ctx.say(KEPT_VISIT, **_visit_values(ctx))
        ctx.state.finish()
        return [ctx.reply(kept)]
    return _missed(ctx, _manage(ctx))


async def _on_slot(ctx: TurnContext) -> list[Reply]:
    chosen = _slot_named(ctx)
    if chosen is None:
        return _missed(ctx, _slots_reply(ctx, ""))
    ctx.state.slots.update(chosen=chosen, misses=0)
    ctx.state.goto("confirm")
    return [_ask_confirm(ctx)]


async def _on_confirm(ctx: TurnContext) -> list[Reply]:
    answer = answer_is_yes(ctx)
    if answer is None:
        return [_ask_confirm(ctx, ctx.say(YES_OR_NO))]
    visit = ctx.state.slots.get("visit")
    if not answer:
        kept = (
            ctx.say(KEPT_BOOKING) if visit is None else ctx.say(KEPT_VISIT, **_visit_values(ctx))
        )
        ctx.state.finish()
        return [ctx.reply(kept)]
    return await (_move(ctx) if visit is not None else _book(ctx))


async def _on_cancel(ctx: TurnContext) -> list[Reply]:
    answer = answer_is_yes(ctx)
    if answer is None:
        return [_ask_cancel(ctx, ctx.say(YES_OR_NO))]
    if not answer:
        kept = ctx.say(KEPT_VISIT, **_visit_values(ctx))
        ctx.state.finish()
        return [ctx.reply(kept)]
    return await _cancel(ctx)


# --- the changes ------------------------------------------------------------------------------
async def _book(ctx: TurnContext) -> list[Reply]:
    assert ctx.account is not None
    slots = ctx.state.slots
    try:
        change = await ctx.billing.book_appointment(
            ctx.account.id,
            int(slots["chosen"][0]),
            reason=str(slots.get("reason", "")),
            idempotency_key=f"appointment:{slots['flow_id']}",
            actor=f"customer:{ctx.message.channel}",
            now=ctx.now,
        )
    except NotFoundError:  # the slot is no longer offered (too soon now)
        change = AppointmentChange("slot_full", None)
    if change.outcome == "slot_full":
        return await _offer(ctx, ctx.say(TAKEN))
    assert change.appointment is not None
    if change.outcome == "already_booked":
        _remember_visit(ctx, change.appointment)
        return [_manage(ctx)]
    ctx.state.finish()
    visit = change.appointment
    reminder = await _announce(ctx, visit, NOTICE_BOOKED, "appointment_booked")
    when = _long(ctx, visit.slot)
    promise = ctx.say(REMINDER_PROMISE) if reminder else ""
    text = ctx.say(BOOKED, when=when, reference=visit.reference, reminder=promise)
    return [ctx.reply(text.strip())]


async def _move(ctx: TurnContext) -> list[Reply]:
    assert ctx.account is not None
    slots = ctx.state.slots
    visit_id, old_slot = int(slots["visit"]["id"]), int(slots["visit"]["slot"][0])
    try:
        change = await ctx.billing.reschedule_appointment(
            ctx.account.id,
            visit_id,
            int(slots["chosen"][0]),
            actor=f"customer:{ctx.message.channel}",
            now=ctx.now,
        )
    except NotFoundError:
        change = AppointmentChange("slot_full", None)
    if change.outcome == "slot_full":
        return await _offer(ctx, ctx.say(TAKEN))
    assert change.appointment is not None
    ctx.state.finish()
    visit = change.appointment
    # The reminder of the slot this flow saw the visit in, even when a retry finds it moved.
    ctx.withdraw(_reminder_key(visit.reference, old_slot))
    reminder = await _announce(ctx, visit, NOTICE_MOVED, "appointment_moved")
    promise = ctx.say(REMINDER_PROMISE) if reminder else ""
    text = ctx.say(MOVED, reference=visit.reference, when=_long(ctx, visit.slot), reminder=promise)
    return [ctx.reply(text.strip())]


async def _cancel(ctx: TurnContext) -> list[Reply]:
    assert ctx.account is not None
    saved = ctx.state.slots["visit"]
    change = await ctx.billing.cancel_appointment(
        ctx.account.id,
        int(saved["id"]),
        actor=f"customer:{ctx.message.channel}",
        now=ctx.now,
    )
    ctx.state.finish()
    assert change.appointment is not None
    visit = change.appointment
    ctx.withdraw(_reminder_key(visit.reference, visit.slot.id))
    when = _long(ctx, visit.slot)
    text = ctx.say(NOTICE_CANCELLED, when=when, reference=visit.reference)
    await _notify(ctx, text, "appointment_cancelled", f"appointment_cancelled:{visit.reference}")
    return [ctx.reply(ctx.say(CANCELLED, reference=visit.reference, when=when))]


# --- offering slots -----------------------------------------------------------------------------
async def _offer(ctx: TurnContext, prefix: str = "") -> list[Reply]:
    """The free slots as options (step choose_slot), or why there are none (flow ends)."""
    assert ctx.account is not None
    try:
        free = await ctx.billing.technician_slots(ctx.account.id, now=ctx.now, limit=SHOWN)
    except InvalidRequestError:  # no service address on the account
        return _cannot(ctx, NOT_HERE, prefix)
    current = (ctx.state.slots.get("visit") or {}).get("slot")
    free = [slot for slot in free if current is None or slot.id != int(current[0])]
    if not free:
        return _cannot(ctx, NO_SLOTS, prefix)
    ctx.state.slots["offered"] = [_row(slot) for slot in free]
    ctx.state.goto("choose_slot")
    return [_slots_reply(ctx, prefix)]


def _slots_reply(ctx: TurnContext, prefix: str) -> Reply:
    offered = [_unrow(row) for row in ctx.state.slots.get("offered", [])]
    zone = _zone(ctx)
    visit = ctx.state.slots.get("visit")
    if visit is not None:
        text = ctx.say(PICK_NEW, current=_long(ctx, _unrow(visit["slot"])), zone=zone)
    else:
        text = ctx.say(FIRST_FREE, first=_long(ctx, offered[0]), zone=zone)
    options = [Option(_short(ctx, slot), f"slot:{slot.id}") for slot in offered]
    return ctx.reply(f"{prefix} {text}".strip(), *options)


def _slot_named(ctx: TurnContext) -> SlotRow | None:
    """The offered slot picked by option, or named by weekday (and morning/afternoon)."""
    offered: list[SlotRow] = ctx.state.slots.get("offered", [])
    for row in offered:
        if ctx.text == f"slot:{row[0]}":
            return row
    words = set(re.findall(r"[^\W\d_]+", ctx.text.lower()))
    days = {_WEEKDAYS[word] for word in words if word in _WEEKDAYS}
    if not days:
        return None
    zone = ZoneInfo(_zone(ctx))
    for row in offered:
        start = _unrow(row).starts_at.astimezone(zone)
        if start.weekday() in days and _part_of_day_fits(ctx.text.lower(), start.hour):
            return row
    return None


def _part_of_day_fits(text: str, hour: int) -> bool:
    if _MORNING.search(text):
        return hour < 12
    if _AFTERNOON.search(text):
        return hour >= 12
    return True


# --- replies ----------------------------------------------------------------------------------
def _manage(ctx: TurnContext) -> Reply:
    ctx.state.goto("manage")
    options = (
        Option(ctx.say(MOVE), "visit:move"),
        Option(ctx.say(CANCEL), "visit:cancel"),
        Option(ctx.say(KEEP), "visit:keep"),
    )
    return ctx.reply(ctx.say(HAVE_VISIT, **_visit_values(ctx)), *options)


def _ask_confirm(ctx: TurnContext, prefix: str = "") -> Reply:
    chosen = _unrow(ctx.state.slots["chosen"])
    visit = ctx.state.slots.get("visit")
    if visit is None:
        text = ctx.say(CONFIRM_BOOK, when=_long(ctx, chosen))
    else:
        old = _long(ctx, _unrow(visit["slot"]))
        text = ctx.say(CONFIRM_MOVE, reference=visit["reference"], old=old, new=_long(ctx, chosen))
    return ctx.reply(f"{prefix} {text}".strip(), *yes_no(ctx))


def _ask_cancel(ctx: TurnContext, prefix: str = "") -> Reply:
    ctx.state.goto("confirm_cancel")
    text = ctx.say(CONFIRM_CANCEL, **_visit_values(ctx))
    return ctx.reply(f"{prefix} {text}".strip(), *yes_no(ctx))


def _cannot(ctx: TurnContext, why: dict[str, str], prefix: str = "") -> list[Reply]:
    ctx.state.finish()
    ticket = Option(ctx.say(TICKET), "intent:open_ticket")
    return [ctx.reply(f"{prefix} {ctx.say(why)}".strip(), ticket)]


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


# --- the outbox ---------------------------------------------------------------------------------
async def _announce(
    ctx: TurnContext, visit: Appointment, notice: dict[str, str], kind: str
) -> bool:
    """Queue the change's notice and the reminder for the day before; whether one was queued
    (none when the day before has already begun)."""
    when = _long(ctx, visit.slot)
    text = ctx.say(notice, when=when, reference=visit.reference)
    await _notify(ctx, text, kind, f"{kind}:{visit.reference}:{visit.slot.id}")
    due = _reminder_time(ctx, visit.slot)
    if due is None:
        return False
    reminder = ctx.say(NOTICE_REMINDER, when=when, reference=visit.reference)
    key = _reminder_key(visit.reference, visit.slot.id)
    await _notify(ctx, reminder, "appointment_reminder", key, due=due, always=True)
    return True


async def _notify(
    ctx: TurnContext,
    text: str,
    kind: str,
    key: str,
    *,
    due: datetime | None = None,
    always: bool = False,
) -> None:
    """Queue `text` where the account's alerts go; a notice is skipped when that is this very
    conversation (the reply says it), a reminder (`always`) never is."""
    assert ctx.account is not None
    reach = await _reach(ctx, ctx.account)
    if reach is None or (not always and reach == (ctx.message.channel, ctx.message.sender)):
        return
    channel, address = reach
    ctx.notify(
        OutboundMessage(
            channel=channel,
            address=address,
            replies=(Reply(text=text),),
            kind=kind,
            dedupe_key=key[:160],
            account_id=ctx.account.id,
            not_before=due,
        )
    )


async def _reach(ctx: TurnContext, account: Account) -> tuple[str, str] | None:
    """The customer's alert channel (`bot.alerts.reach`); without their settings, the
    holder's number by SMS, else email."""
    if ctx.alert_settings is not None:
        reach = AlertReach(
            billing=ctx.billing, settings=ctx.alert_settings, addresses=ctx.addresses
        )
        return await reach.reach_of(account.id)
    phone = holder_phone(account, await ctx.billing.list_lines(account.id))
    return ("sms", phone) if phone else ("email", account.email)


def _reminder_time(ctx: TurnContext, slot: TechnicianSlot) -> datetime | None:
    """REMINDER_HOUR the day before the visit, in the customer's zone; None once past."""
    zone = ZoneInfo(_zone(ctx))
    day_before = slot.starts_at.astimezone(zone).date() - timedelta(days=1)
    due = datetime.combine(day_before, time(REMINDER_HOUR), zone).astimezone(UTC)
    return due if due > ctx.now else None


def _reminder_key(reference: str, slot_id: int) -> str:
    """One reminder per visit and slot: a move's new slot gets its own, the old one is
    withdrawn by this key."""
    return f"appointment_reminder:{reference}:{slot_id}"


# --- small helpers ------------------------------------------------------------------------------
def _remember_visit(ctx: TurnContext, visit: Appointment) -> None:
    ctx.state.slots["visit"] = {
        "id": visit.id,
        "reference": visit.reference,
        "slot": _row(visit.slot),
    }


def _visit_values(ctx: TurnContext) -> dict[str, str]:
    visit = ctx.state.slots["visit"]
    return {"when": _long(ctx, _unrow(visit["slot"])), "reference": str(visit["reference"])}


def _row(slot: TechnicianSlot) -> SlotRow:
    return [slot.id, slot.starts_at.isoformat(), slot.ends_at.isoformat()]


def _unrow(row: SlotRow) -> TechnicianSlot:
    starts, ends = datetime.fromisoformat(row[1]), datetime.fromisoformat(row[2])
    return TechnicianSlot(int(row[0]), "", starts, ends, 0)


def _zone(ctx: TurnContext) -> str:
    return ctx.account.timezone if ctx.account is not None else "UTC"


def _long(ctx: TurnContext, slot: TechnicianSlot) -> str:
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
    return moment.astimezone(ZoneInfo(_zone(ctx)))
