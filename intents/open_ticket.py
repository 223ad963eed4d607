"""`open_ticket`: collect a description, confirm, create a ticket, reply with its reference."""

from __future__ import annotations

import re
import uuid

from bot.flow import Intent, TurnContext
from bot.types import Reply
from intents.common import TRAINING, answer_is_yes, yes_no

ASK = {
    "en": "Sorry to hear that. Please describe the problem in a message.",
    "es": "Lamento oírlo. Describe el problema en un mensaje.",
}
TOO_SHORT = {
    "en": "Could you tell me a bit more about the problem?",
    "es": "¿Puedes contarme un poco más sobre el problema?",
}
CONFIRM = {
    "en": 'I\'ll open a support ticket: "{summary}". Shall I go ahead?',
    "es": 'Abriré una incidencia: "{summary}". ¿Continúo?',
}
DONE = {
    "en": "Your ticket {reference} is open. Our team will get back to you here, usually within "
    "one business day. Quote {reference} if you contact us.",
    "es": "Tu incidencia {reference} está abierta. Nuestro equipo te responderá por aquí, "
    "normalmente en un día laborable. Indica {reference} si nos contactas.",
}
DROPPED = {
    "en": "OK, no ticket opened.",
    "es": "De acuerdo, no he abierto ninguna incidencia.",
}
ANONYMOUS = {
    "en": "I can only open tickets for numbers on an account. Please text from your own phone, "
    "or contact support.",
    "es": "Solo puedo abrir incidencias para números de una cuenta. Escríbenos desde tu teléfono.",
}
YES_OR_NO = {"en": "Please answer yes or no.", "es": "Responde sí o no."}

# Words that ask for a ticket without saying what is wrong.
_GENERIC = re.compile(
    r"\b(hi|hello|hey|hola|please|pls|plz|i|want|would|like|need|to|a|an|the|my|me|open|"
    r"raise|create|log|file|make|new|ticket|support|report|problem|issue|complaint|complain|"
    r"talk|speak|chat|with|someone|somebody|person|human|agent|representative|customer|"
    r"service|help|can|you|have|got|there|is|quiero|una|un|con|hablar|incidencia|problema|"
    r"queja|reclamación|persona|agente|abrir|tengo)\b"
)
MIN_WORDS = 2
MAX_SUMMARY = 200

MENU_LABEL = {"en": "Report a problem", "es": "Informar de un problema"}


class OpenTicketIntent(Intent):
    name = "open_ticket"
    menu_label = MENU_LABEL
    training_file = TRAINING / "open_ticket.yml"

    async def start(self, ctx: TurnContext) -> list[Reply]:
        if ctx.account is None:
            return [ctx.reply(ctx.say(ANONYMOUS))]
        ctx.state.begin(self.name, "describe", flow_id=uuid.uuid4().hex)
        if ctx.picked_option or not _has_detail(ctx.text):
            return [ctx.reply(ctx.say(ASK))]
        return self._confirm(ctx, ctx.text)

    async def resume(self, ctx: TurnContext) -> list[Reply]:
        if ctx.state.step == "describe":
            if not _has_detail(ctx.text) and len(ctx.text.split()) < MIN_WORDS:
                return [ctx.reply(ctx.say(TOO_SHORT))]
            return self._confirm(ctx, ctx.text)
        return await self._on_confirm(ctx)

    async def prompt(self, ctx: TurnContext) -> list[Reply]:
        return [ctx.reply(ctx.say(ASK))]

    def expects_free_text(self, step: str | None) -> bool:
        return step == "describe"

    def _confirm(self, ctx: TurnContext, description: str) -> list[Reply]:
        ctx.state.slots["description"] = description
        ctx.state.goto("confirm")
        summary = _summary(description)
        return [ctx.reply(ctx.say(CONFIRM, summary=summary), *yes_no(ctx))]

    async def _on_confirm(self, ctx: TurnContext) -> list[Reply]:
        answer = answer_is_yes(ctx)
        if answer is None:
            summary = _summary(ctx.state.slots["description"])
            text = ctx.say(YES_OR_NO) + " " + ctx.say(CONFIRM, summary=summary)
            return [ctx.reply(text, *yes_no(ctx))]
        if not answer:
            ctx.state.finish()
            return [ctx.reply(ctx.say(DROPPED))]
        return [await self._create(ctx)]

    async def _create(self, ctx: TurnContext) -> Reply:
        assert ctx.account is not None
        description = str(ctx.state.slots["description"])
        ticket = await ctx.billing.create_ticket(
            ctx.account.id,
            subject=_summary(description, 80),
            description=description,
            channel=ctx.message.channel,
            idempotency_key=f"open_ticket:{ctx.state.slots['flow_id']}",
            now=ctx.now,
        )
        ctx.state.finish()
        return ctx.reply(ctx.say(DONE, reference=ticket.reference))


def _has_detail(text: str) -> bool:
    """True when the message says what is wrong, beyond "I want to open a ticket"."""
    remaining = _GENERIC.sub(" ", text.lower())
    return len(re.findall(r"[^\W\d_]{2,}", remaining)) >= MIN_WORDS


def _summary(text: str, limit: int = MAX_SUMMARY) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
