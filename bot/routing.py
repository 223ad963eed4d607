"""Where one message goes inside a turn: global commands, numbered options, the active flow or a
new intent. Pure decisions over the TurnContext; the engine around it does the storing.
"""

from __future__ import annotations

import re

from bot.features import unavailable_text
from bot.flow import FlowState, Intent, TurnContext
from bot.menu import asked_page, menu
from bot.pages import MORE, next_page, paginate
from bot.registry import Registry
from bot.store.conversations import ConversationState
from bot.text import has_words
from bot.types import Reply

# Switching intents in the middle of a flow needs a confident, different intent.
SWITCH_CONFIDENCE = 0.7

_MENU = re.compile(r"^(menu|men[uú]|main menu|start over|restart|inicio)$")
# "help" alone: what billbot can do, the operator's contacts and how to reach a person.
_HELP = re.compile(r"^(help|ayuda|help me|ay[uú]dame)$")
HELP_INTENT = "help"
_CANCEL = re.compile(
    r"^(never ?mind|nevermind|nvm|cancel|forget it|quit|exit|abort|stop that|no thanks|"
    r"cancelar|olv[ií]dalo|da igual|d[eé]jalo)$"
)
_BACK = re.compile(r"^(back|go back|previous|atr[aá]s|volver)$")
_THANKS = re.compile(
    r"^((thanks?|thank you|thank u|thx|ty|cheers|ta|great|perfect|awesome|cool|ok(ay)?|got it)"
    r"( (so much|very much|a lot|lots|billbot|again|anyway))*|"
    r"(muchas )?gracias( (billbot|de nuevo|igualmente))*|vale,? gracias|perfecto)$"
)

EMPTY = {
    "en": 'I didn\'t get any words there. Try "balance", "pay my bill" or "menu".',
    "es": 'No he recibido texto. Prueba con "saldo", "pagar factura" o "menú".',
}
CANCELLED = {
    "en": "OK, I've stopped that. Nothing was changed.",
    "es": "De acuerdo, lo he dejado. No se ha cambiado nada.",
}
NOTHING_OPEN = {
    "en": 'No problem, there\'s nothing in progress. Type "menu" whenever you need me.',
    "es": 'Sin problema, no hay nada a medias. Escribe "menú" cuando me necesites.',
}
WELCOME = {
    "en": "You're welcome! Type \"menu\" if there's anything else.",
    "es": '¡De nada! Escribe "menú" si necesitas algo más.',
}
EXPIRED = {
    "en": "We were in the middle of something, but it timed out, so I started over.",
    "es": "Estábamos a medias, pero ha caducado, así que empiezo de nuevo.",
}

Routed = tuple[list[Reply], str | None]  # the replies and the intent (or command) that gave them
# Channel commands (InboundMessage.payload["command"]) that start an intent; a shared contact
# continues (or starts) the linking flow.
LINK_INTENT = "link_account"
_COMMAND_INTENTS = {"start": LINK_INTENT, "stop": "unlink_account"}


class Router:
    """Routes each message of a turn; flows are entered, resumed and left here."""

    def __init__(self, registry: Registry) -> None:
        self._registry = registry

    @property
    def registry(self) -> Registry:
        return self._registry

    def is_secret_step(self, flow: str | None, step: str | None) -> bool:
        """Whether the answer at `step` of `flow` is a secret (decided before it is stored)."""
        return flow is not None and self._registry.get(flow).is_secret_step(step)

    async def route(self, ctx: TurnContext, conv: ConversationState) -> Routed:
        """The replies to the message, with the conversation's state moved along."""
        started = (conv.state.flow, conv.state.step)
        replies, intent = await self._route(ctx, conv)
        if intent != "back":
            _remember_asked(conv.state, started)
        if conv.expired and intent != "menu":
            replies = [ctx.reply(ctx.say(EXPIRED)), *replies]
        if replies and intent != "more":
            replies[-1] = paginate(replies[-1], conv.state, ctx.locale)
        conv.options = [option.value for option in replies[-1].options] if replies else []
        return replies, intent

    async def _route(self, ctx: TurnContext, conv: ConversationState) -> Routed:
        routed = await self._payload(ctx, conv)
        if routed is not None:
            return routed
        command = ctx.text.lower().strip(" .!?¡¿")
        if not has_words(ctx.text):
            return [ctx.reply(ctx.say(EMPTY))], None
        if _MENU.match(command):
            conv.state.finish()
            return [menu(ctx)], "menu"
        if _HELP.match(command):
            return await self._help(ctx, conv)
        if _CANCEL.match(command):
            return self._cancel(ctx, conv.state), "cancel"
        if _BACK.match(command):
            return await self._back(ctx, conv), "back"
        if _THANKS.match(command) and not conv.state.active:
            return [ctx.reply(ctx.say(WELCOME))], "thanks"
        self._pick_option(ctx, conv)
        if ctx.text.lower().strip(" .!") in (MORE, "más", "mas") and conv.state.active:
            page = next_page(conv.state, ctx.locale)
            if page is not None:
                return [page], "more"
        menu_page = asked_page(ctx.text, conv.options)
        if menu_page is not None:  # "More…" on the menu: its next page
            conv.state.finish()
            return [menu(ctx, page=menu_page)], "menu"
        if ctx.text.startswith("intent:"):
            conv.state.finish()
            return await self._start(ctx, ctx.text.removeprefix("intent:"))
        if conv.state.active and not self._switches_intent(ctx, conv):
            intent = self._registry.get(conv.state.flow)
            if not ctx.allows(intent.feature):  # switched off while the flow was open
                return _unavailable(ctx, intent), intent.name
            return await intent.resume(ctx), intent.name
        conv.state.finish()
        return await self._start(ctx, ctx.parse.intent)

    async def _payload(self, ctx: TurnContext, conv: ConversationState) -> Routed | None:
        """A channel's commands (/start, /help, /menu, /stop) and shared contacts."""
        payload = ctx.message.payload
        command = payload.get("command")
        if command == "help":
            return await self._help(ctx, conv)
        if command == "menu" or (command == "start" and ctx.account is not None):
            conv.state.finish()
            return [menu(ctx)], "menu"
        if command in _COMMAND_INTENTS:
            conv.state.finish()
            return await self._start(ctx, _COMMAND_INTENTS[command])
        if "contact_phone" in payload or "contact_not_own" in payload:
            linking = self._registry.get(LINK_INTENT)
            if conv.state.flow == LINK_INTENT:
                return await linking.resume(ctx), LINK_INTENT
            conv.state.finish()
            return await self._start(ctx, LINK_INTENT)
        return None

    async def _help(self, ctx: TurnContext, conv: ConversationState) -> Routed:
        """The help intent (the menu where none is registered); any open flow is left."""
        conv.state.finish()
        if HELP_INTENT not in self._registry:
            return [menu(ctx)], "menu"
        return await self._start(ctx, HELP_INTENT)

    async def _start(self, ctx: TurnContext, name: str) -> Routed:
        intent = self._registry.get(name)
        if ctx.account is None and not intent.allows_anonymous:
            intent = self._registry.get(None)
        if not ctx.allows(intent.feature):
            return _unavailable(ctx, intent), intent.name
        return await intent.start(ctx), intent.name

    def _cancel(self, ctx: TurnContext, state: FlowState) -> list[Reply]:
        if not state.active:
            return [ctx.reply(ctx.say(NOTHING_OPEN))]
        state.finish()
        return [ctx.reply(ctx.say(CANCELLED)), menu(ctx)]

    async def _back(self, ctx: TurnContext, conv: ConversationState) -> list[Reply]:
        """The question asked before the current one; the menu when there was none."""
        if conv.state.active and conv.state.back():
            return await self._registry.get(conv.state.flow).prompt(ctx)
        conv.state.finish()
        return [menu(ctx)]

    def _pick_option(self, ctx: TurnContext, conv: ConversationState) -> None:
        """Turn "2", "option 2" or an option's value into the value of the offered option."""
        if not conv.options:
            return
        if ctx.text in conv.options:
            ctx.picked_option = True
            return
        option = ctx.parse.entity("option")
        digits = ctx.text.strip(" .#)")
        number = int(digits) if digits.isdigit() and len(digits) <= 2 else None
        if number is None and option is not None and isinstance(option.value, int):
            number = option.value
        if number is not None and 1 <= number <= len(conv.options):
            ctx.text = conv.options[number - 1]
            ctx.picked_option = True

    def _switches_intent(self, ctx: TurnContext, conv: ConversationState) -> bool:
        """Leave the flow when the customer clearly asks for something else."""
        flow = self._registry.get(conv.state.flow)
        if ctx.picked_option or flow.expects_free_text(conv.state.step):
            return False
        parse = ctx.parse
        structured = any(e.kind in ("yes_no", "option", "phone") for e in parse.entities)
        return (
            not structured
            and not ctx.text.replace(" ", "").isdigit()
            and parse.intent not in (flow.name, "out_of_scope")
            and parse.confidence >= SWITCH_CONFIDENCE
        )


def _unavailable(ctx: TurnContext, intent: Intent) -> list[Reply]:
    """The polite refusal of something the operator switched off; any open flow is left."""
    assert intent.feature is not None
    ctx.state.finish()
    return [ctx.reply(unavailable_text(ctx.operator, intent.feature, ctx.locale))]


def _remember_asked(state: FlowState, started: tuple[str | None, str | None]) -> None:
    """Keep "back" to questions the customer was actually asked.

    The step a conversation rests at between turns is the question last put to the customer.
    When a turn moves the same flow on, that step joins the history; steps a turn passed
    through without asking (a number given up front) never do.
    """
    flow, step = started
    if state.begun or state.flow != flow:
        return  # a flow begun this turn has asked only its current question
    if step is not None and state.step != step:
        state.history.append(step)
