"""Where one message goes inside a turn: global commands, numbered options, the active flow or a
new intent. Pure decisions over the TurnContext; the engine around it does the storing.

A confident, different intent in the middle of a flow sets the flow aside (`bot.suspended`)
instead of ending it; "back" and the words of `bot.topic_switch` come back to it. The order in
which commands win is in docs/turns.md ("Switching topic and coming back").
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta

from bot import clarify, suspended, topic_switch
from bot.features import unavailable_text
from bot.flow import FlowState, Intent, TurnContext
from bot.menu import asked_page, menu
from bot.pages import MORE, next_page, paginate
from bot.registry import Registry
from bot.store.conversations import ConversationState
from bot.suspended import SuspendedFlow
from bot.text import has_words
from bot.types import Reply

# Switching intents in the middle of a flow needs a confident, different intent.
SWITCH_CONFIDENCE = 0.7
DID_YOU_MEAN = "did_you_mean"  # what a turn that asked "did you mean A or B?" is recorded as

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
NOTHING_TO_RESUME = {
    "en": "There's nothing to go back to any more: it timed out or was finished.",
    "es": "Ya no hay nada a lo que volver: ha caducado o ya se terminó.",
}

Routed = tuple[list[Reply], str | None]  # the replies and the intent (or command) that gave them
# Channel commands (InboundMessage.payload["command"]) that start an intent; a shared contact
# continues (or starts) the linking flow.
LINK_INTENT = "link_account"
_COMMAND_INTENTS = {"start": LINK_INTENT, "stop": "unlink_account"}
RESUMED = "resume"  # the command recorded for a message that brought a suspended flow back


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
        conv.suspended = _still_suspended(ctx, conv.suspended)
        replies, intent = await self._route(ctx, conv)
        if intent != "back":
            _remember_asked(conv.state, started)
        if intent in self._registry:  # started afresh (or going on): no older copy waits
            conv.suspended = suspended.without(conv.suspended, intent)
        if (
            replies
            and conv.suspended
            and not conv.state.active
            and not conv.suspended[-1].reminded
        ):
            replies[-1] = topic_switch.remind(ctx, replies[-1], conv.suspended[-1])
            conv.suspended[-1] = replace(conv.suspended[-1], reminded=True)  # once is enough
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
            return _start_over(ctx, conv)
        if _HELP.match(command):
            return await self._help(ctx, conv)
        if _CANCEL.match(command):
            return self._cancel(ctx, conv), "cancel"
        if _BACK.match(command):
            return await self._back(ctx, conv), "back"
        if _THANKS.match(command) and not conv.state.active:
            return [ctx.reply(ctx.say(WELCOME))], "thanks"
        self._pick_option(ctx, conv)
        routed = await self._come_back(ctx, conv, command)
        if routed is not None:
            return routed
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
        if conv.state.active:
            if not self._switches_intent(ctx, conv):
                return await self._continue(ctx)
            _suspend(ctx, conv)
        conv.state.finish()
        return await self._new_request(ctx, conv)

    async def _new_request(self, ctx: TurnContext, conv: ConversationState) -> Routed:
        """A request read by the recogniser: "did you mean?" on a close call; a second
        request in the message waits its turn (`bot.clarify`)."""
        asked = clarify.close_call(ctx)
        if asked is not None:
            return [asked], DID_YOU_MEAN
        replies, name = await self._start(ctx, ctx.parse.intent)
        queued = clarify.queued_request(ctx, name or "")
        if queued is not None:
            conv.suspended = suspended.push(conv.suspended, queued)
        return replies, name

    async def _continue(self, ctx: TurnContext) -> Routed:
        """The active flow takes the message."""
        intent = self._registry.get(ctx.state.flow)
        if not ctx.allows(intent.feature):  # switched off while the flow was open
            return _unavailable(ctx, intent), intent.name
        return await intent.resume(ctx), intent.name

    async def _payload(self, ctx: TurnContext, conv: ConversationState) -> Routed | None:
        """A channel's commands (/start, /help, /menu, /stop) and shared contacts."""
        payload = ctx.message.payload
        command = payload.get("command")
        if command == "help":
            return await self._help(ctx, conv)
        if command == "menu" or (command == "start" and ctx.account is not None):
            return _start_over(ctx, conv)
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
        """The help intent (the menu where none is registered). An open flow is set aside like
        for any other intent: help is a question, and the answer reminds of the flow."""
        if conv.state.active:
            _suspend(ctx, conv)
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

    def _cancel(self, ctx: TurnContext, conv: ConversationState) -> list[Reply]:
        """Stop what is open and drop what was set aside: "never mind" means all of it."""
        if not conv.state.active and not conv.suspended:
            return [ctx.reply(ctx.say(NOTHING_OPEN))]
        conv.state.finish()
        conv.suspended = []
        return [ctx.reply(ctx.say(CANCELLED)), menu(ctx)]

    async def _back(self, ctx: TurnContext, conv: ConversationState) -> list[Reply]:
        """The question asked before the current one; else the flow last set aside (an open
        flow with no earlier question is left, as "back" always left it); else the menu."""
        if conv.state.active and conv.state.back():
            return await self._registry.get(conv.state.flow).prompt(ctx)
        conv.state.finish()
        if conv.suspended:
            return await self._resume(ctx, conv, conv.suspended[-1])
        return [menu(ctx)]

    async def _come_back(
        self, ctx: TurnContext, conv: ConversationState, command: str
    ) -> Routed | None:
        """A message asking for a suspended flow ("ok back to the plan", "where were we", the
        reminder's option, "yes" to it). With a flow open, only one naming a suspended flow
        takes it over ("continue" there is the open flow's, or the spending cap's CONTINUE)."""
        answer = self._reminder_answer(ctx, conv)
        if answer is False:  # "no" to the reminder: leave what was set aside
            return self._cancel(ctx, conv), "cancel"
        option = topic_switch.is_option(ctx)
        if not (answer or option or self._asks_to_resume(conv, command)):
            return None
        frame = topic_switch.named_frame(ctx, conv.suspended)
        if frame is None and not conv.state.active and conv.suspended:
            frame = conv.suspended[-1]
        if frame is not None:
            return await self._resume(ctx, conv, frame), RESUMED
        if option and not conv.state.active:  # an old reminder's option, timed out since
            return [ctx.reply(ctx.say(NOTHING_TO_RESUME)), menu(ctx)], RESUMED
        return None

    @staticmethod
    def _reminder_answer(ctx: TurnContext, conv: ConversationState) -> bool | None:
        """Yes or no to the reminder the last reply ended with (no flow open since)."""
        if conv.state.active or not conv.suspended:
            return None
        return topic_switch.answers_reminder(ctx, conv.options)

    @staticmethod
    def _asks_to_resume(conv: ConversationState, command: str) -> bool:
        return bool(conv.suspended) and topic_switch.asks_to_resume(command)

    async def _resume(
        self, ctx: TurnContext, conv: ConversationState, frame: SuspendedFlow
    ) -> list[Reply]:
        """Make `frame` the active flow again (setting aside the one open, if any) and ask its
        step's question afresh: at a PIN or code step that asks for it again."""
        conv.suspended = suspended.without(conv.suspended, frame.flow)
        if conv.state.active:
            _suspend(ctx, conv)
        if frame.queued:  # the message's second request: asked for, never started
            replies, _ = await self._start(ctx, frame.flow)
            return replies
        frame.restore(conv.state)
        intent = self._registry.get(frame.flow)
        if not ctx.allows(intent.feature):  # switched off while it was set aside
            return _unavailable(ctx, intent)
        return [topic_switch.resuming(ctx, frame), *await intent.prompt(ctx)]

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


def _start_over(ctx: TurnContext, conv: ConversationState) -> Routed:
    """The menu, from a clean slate: the open flow and the suspended ones are left."""
    conv.state.finish()
    conv.suspended = []
    return [menu(ctx)], "menu"


def _suspend(ctx: TurnContext, conv: ConversationState) -> None:
    """Set the active flow aside, as it stands (its flow_id too), and leave it."""
    owner = ctx.account.id if ctx.account is not None else None
    frame = SuspendedFlow.of(conv.state, account_id=owner, at=ctx.now)
    conv.suspended = suspended.push(conv.suspended, frame)
    conv.state.finish()


def _still_suspended(ctx: TurnContext, stack: list[SuspendedFlow]) -> list[SuspendedFlow]:
    """The suspended flows this turn may come back to: this customer's (an address can change
    hands), set aside less than the idle timeout ago."""
    owner = ctx.account.id if ctx.account is not None else None
    idle = timedelta(seconds=ctx.settings.conversation_idle_seconds)
    return suspended.current(stack, account_id=owner, now=ctx.now, idle=idle)


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
