"""`help`: what billbot can do, the operator's contacts and hours, and how to reach a person.

What it can do is the menu's list (`bot.menu`: the registry's entries the operator allows, so a
switched-off feature is not offered here either); the contacts are worded by the same helper as
the SMS HELP answer (`bot.features.contacts_text`). A person is reached through a ticket, which
the operator's team answers in this same chat. Strangers get help too, but no account menu.
"""

from __future__ import annotations

from babel.lists import format_list

from bot.features import contacts_text
from bot.flow import Intent, TurnContext
from bot.menu import PAGE_PREFIX, menu_entries
from bot.types import Option, Reply
from intents.common import TRAINING

INTRO = {
    "en": "I'm {operator}'s billing assistant. I can help with: {things}.",
    "es": "Soy el asistente de facturación de {operator}. Puedo ayudarte con: {things}.",
}
HOW = {
    "en": 'Tell me in your own words, or type "menu" to pick from a list.',
    "es": 'Dímelo con tus palabras o escribe "menú" para elegir de una lista.',
}
CONTACTS = {
    "en": "To reach our team directly: {contacts}.",
    "es": "Para contactar directamente con nuestro equipo: {contacts}.",
}
HOURS = {"en": "Opening hours: {hours}.", "es": "Horario: {hours}."}
PERSON = {
    "en": 'Or pick "Talk to a person": I\'ll open a ticket and someone from our team will '
    "reply here, usually within one business day.",
    "es": 'O elige "Hablar con una persona": abriré una incidencia y alguien de nuestro equipo '
    "te responderá por aquí, normalmente en un día laborable.",
}
STRANGER = {
    "en": "I'm {operator}'s billing assistant. I don't recognise this number, so I can't show "
    'account details here. If you lost your phone, I can still block its SIM: say "block my '
    'SIM".',
    "es": "Soy el asistente de facturación de {operator}. No reconozco este número, así que no "
    "puedo mostrar datos de la cuenta. Si perdiste tu teléfono, puedo bloquear su SIM: escribe "
    '"bloquear mi SIM".',
}
PERSON_LABEL = {"en": "Talk to a person", "es": "Hablar con una persona"}
SHOW_MENU = {"en": "Show the menu", "es": "Ver el menú"}

MENU_LABEL = {"en": "Help and contact us", "es": "Ayuda y contacto"}


class HelpIntent(Intent):
    name = "help"
    menu_label = MENU_LABEL
    training_file = TRAINING / "help.yml"
    allows_anonymous = True

    async def start(self, ctx: TurnContext) -> list[Reply]:
        operator = ctx.operator.name
        reach = _reach(ctx)
        if ctx.account is None:
            return [ctx.reply("\n".join([ctx.say(STRANGER, operator=operator), *reach]))]
        text = "\n".join([ctx.say(INTRO, operator=operator, things=_things(ctx)), ctx.say(HOW)])
        text = "\n\n".join([text, *reach, ctx.say(PERSON)])
        person = Option(ctx.say(PERSON_LABEL), "intent:open_ticket")
        return [ctx.reply(text, person, Option(ctx.say(SHOW_MENU), f"{PAGE_PREFIX}1"))]


def _things(ctx: TurnContext) -> str:
    """Everything on the menu but help itself, as one phrase ("balance…, pay my bill and …")."""
    labels = [_lower_first(ctx.say(label)) for name, label in menu_entries(ctx) if name != "help"]
    return format_list(labels, locale=ctx.locale)


def _reach(ctx: TurnContext) -> list[str]:
    """The operator's contacts (phone with its hours, email, web), each only when set."""
    support = ctx.operator.support
    lines = []
    contacts = contacts_text(support, ctx.locale)
    if contacts:
        lines.append(ctx.say(CONTACTS, contacts=contacts))
    if support.hours and not support.phone:  # the phone's wording carries the hours otherwise
        lines.append(ctx.say(HOURS, hours=support.hours))
    return lines


def _lower_first(label: str) -> str:
    """A menu label as part of a sentence: "Pay my bill" → "pay my bill", "¿Por qué…?" → "por
    qué…"; "SIM settings" stays as it is."""
    label = label.strip("¿?")
    if len(label) > 1 and label[1].isupper():
        return label
    return label[:1].lower() + label[1:]
