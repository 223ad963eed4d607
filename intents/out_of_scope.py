"""`out_of_scope`: say what billbot can do, as a numbered menu, and offer a ticket."""

from __future__ import annotations

import re

from bot.flow import Intent, TurnContext
from bot.types import Reply
from intents.common import menu_options

GREETING = {
    "en": "Hi {name}! I'm billbot. I can help with:",
    "es": "¡Hola, {name}! Soy billbot. Puedo ayudarte con:",
}
NOT_UNDERSTOOD = {
    "en": "Sorry, I didn't understand that. I can help with:",
    "es": "Perdona, no lo he entendido. Puedo ayudarte con:",
}
MENU = {"en": "Here's what I can do:", "es": "Esto es lo que puedo hacer:"}
TICKET_HINT = {
    "en": "For anything else, pick 4 and a person will follow up.",
    "es": "Para cualquier otra cosa, elige 4 y una persona te atenderá.",
}
UNKNOWN_SENDER = {
    "en": "I don't recognise this number, so I can't show account details here. If you lost "
    'your phone, I can still block its SIM: just say "block my SIM".',
    "es": "No reconozco este número, así que no puedo mostrar datos de la cuenta. Si perdiste "
    'tu teléfono, puedo bloquear su SIM: escribe "bloquear mi SIM".',
}
_GREETING = re.compile(
    r"^\s*(hi|hello|hey|hiya|yo|good (morning|afternoon|evening)|hola|buenas)\b"
)


class OutOfScopeIntent(Intent):
    name = "out_of_scope"
    allows_anonymous = True

    async def start(self, ctx: TurnContext) -> list[Reply]:
        if ctx.account is None:
            return [ctx.reply(ctx.say(UNKNOWN_SENDER))]
        if _GREETING.match(ctx.text.lower()):
            first_name = ctx.account.name.split()[0]
            return [menu(ctx, ctx.say(GREETING, name=first_name))]
        return [menu(ctx, ctx.say(NOT_UNDERSTOOD))]


def menu(ctx: TurnContext, heading: str | None = None) -> Reply:
    """The numbered list of things billbot can do."""
    text = (heading or ctx.say(MENU)) + "\n" + ctx.say(TICKET_HINT)
    return ctx.reply(text, *menu_options(ctx))
