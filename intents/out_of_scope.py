"""`out_of_scope`: say what billbot can do, as a numbered menu, and offer a ticket."""

from __future__ import annotations

import re

from bot.flow import Intent, TurnContext
from bot.menu import menu
from bot.types import Reply
from intents.common import TRAINING

GREETING = {
    "en": "Hi {name}! I'm billbot. Pick a number or tell me in your own words:",
    "es": "¡Hola, {name}! Soy billbot. Elige un número o dímelo con tus palabras:",
}
NOT_UNDERSTOOD = {
    "en": "Sorry, I didn't understand that. I can help with these (for anything else, pick "
    '"Report a problem" and a person will follow up):',
    "es": "Perdona, no lo he entendido. Puedo ayudarte con esto (para cualquier otra cosa, "
    'elige "Informar de un problema" y te atenderá una persona):',
}
UNKNOWN_SENDER = {
    "en": "I don't recognise this number, so I can't show account details here. If you lost "
    'your phone, I can still block its SIM: just say "block my SIM".',
    "es": "No reconozco este número, así que no puedo mostrar datos de la cuenta. Si perdiste "
    'tu teléfono, puedo bloquear su SIM: escribe "bloquear mi SIM".',
}
# A chat the channel knows no phone number for (Telegram) is linked with a one-time code.
UNKNOWN_CHAT = {
    "en": "I don't know who you are in this chat yet, so I can't show account details. Send "
    '/start (or "link my account") to link it to your account. If you lost your phone, I can '
    'still block its SIM: just say "block my SIM".',
    "es": "Aún no sé quién eres en este chat, así que no puedo mostrar datos de la cuenta. Envía "
    '/start (o "vincular mi cuenta") para vincularlo. Si perdiste tu teléfono, puedo bloquear '
    'su SIM: escribe "bloquear mi SIM".',
}
_GREETING = re.compile(
    r"^\s*(hi|hello|hey|hiya|yo|good (morning|afternoon|evening)|hola|buenas)\b"
)


class OutOfScopeIntent(Intent):
    name = "out_of_scope"
    training_file = TRAINING / "out_of_scope.yml"
    allows_anonymous = True

    async def start(self, ctx: TurnContext) -> list[Reply]:
        if ctx.account is None:
            known_number = ctx.message.as_phone is not None
            return [ctx.reply(ctx.say(UNKNOWN_SENDER if known_number else UNKNOWN_CHAT))]
        if _GREETING.match(ctx.text.lower()):
            first_name = ctx.account.name.split()[0]
            return [menu(ctx, ctx.say(GREETING, name=first_name))]
        return [menu(ctx, ctx.say(NOT_UNDERSTOOD))]
