"""The conversation engine: one inbound message in, the replies to it out.

accept (dedupe, store first) → lock the conversation → identify → global commands →
numbered options → active flow or NLU → intent handler → save state → store the replies.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

from billing_client import Account, BillingClient
from bot.clock import Clock
from bot.errors import messages_for
from bot.flow import FlowState, TurnContext
from bot.links import LinkSigner
from bot.menu import menu
from bot.nlu import NluModel, ParseResult
from bot.outbox import Outbox
from bot.phones import PhoneError, mask, normalize
from bot.registry import Registry
from bot.settings import Settings
from bot.store.conversations import (
    ConversationBusyError,
    ConversationState,
    ConversationStore,
)
from bot.store.inbound import InboundLog
from bot.text import MAX_PROCESSED_CHARS, clean, has_words, redact_card_numbers
from bot.types import InboundMessage, OutboundMessage, Reply

log = logging.getLogger(__name__)

# Channels whose sender address is the customer's phone number.
PHONE_CHANNELS = frozenset({"sms", "whatsapp", "console"})
# Switching intents in the middle of a flow needs a confident, different intent.
SWITCH_CONFIDENCE = 0.7

_MENU = re.compile(r"^(menu|men[uú]|main menu|start over|restart|help|ayuda|inicio)$")
_CANCEL = re.compile(
    r"^(never ?mind|nevermind|nvm|cancel|forget it|quit|exit|abort|stop that|no thanks|"
    r"cancelar|olv[ií]dalo|da igual)$"
)
_BACK = re.compile(r"^(back|go back|previous|atr[aá]s|volver)$")

EMPTY = {
    "en": 'I didn\'t get any words there. Try "balance", "pay my bill" or "menu".',
    "es": 'No he recibido texto. Prueba con "saldo", "pagar factura" o "menú".',
}
CANCELLED = {
    "en": "OK, I've stopped that. Nothing was changed.",
    "es": "De acuerdo, lo he dejado. No se ha cambiado nada.",
}
EXPIRED = {
    "en": "We were in the middle of something, but it timed out, so I started over.",
    "es": "Estábamos a medias, pero ha caducado, así que empiezo de nuevo.",
}
BUSY = "Sorry, I'm still busy with your previous message. Please send this one again."
CARD_WARNING = {
    "en": "For your safety I removed what looked like a card number. Never send card details "
    "in chat — use the secure payment link instead.",
    "es": "Por tu seguridad he borrado lo que parecía un número de tarjeta. Nunca envíes datos "
    "de tarjeta por chat: usa el enlace de pago seguro.",
}


@dataclass(slots=True)
class Turn:
    """The outcome of one turn, for the inbound log."""

    replies: list[Reply]
    intent: str | None
    lang: str = "en"
    secret_input: bool = False
    failed: bool = False
    outgoing: list[OutboundMessage] = field(default_factory=list)


class ConversationEngine:
    """Handles one customer message at a time per conversation; see the module docstring."""

    def __init__(
        self,
        *,
        billing: BillingClient,
        nlu: NluModel,
        registry: Registry,
        conversations: ConversationStore,
        inbound: InboundLog,
        outbox: Outbox,
        links: LinkSigner,
        settings: Settings,
        clock: Clock,
    ) -> None:
        self._billing = billing
        self._nlu = nlu
        self._registry = registry
        self._conversations = conversations
        self._inbound = inbound
        self._outbox = outbox
        self._links = links
        self._settings = settings
        self._clock = clock

    async def handle(self, message: InboundMessage) -> list[Reply]:
        """The replies to `message`. A replayed message gets the stored replies, nothing else."""
        text, had_card = redact_card_numbers(clean(message.text))
        replayed = await self._inbound.accept(message, text)
        if replayed is not None:
            log.info("replayed %s message %s ignored", message.channel, message.external_id)
            return replayed
        now = self._clock.now()
        try:
            async with self._conversations.turn(message.channel, message.sender, now=now) as conv:
                turn = await self._turn(message, text[:MAX_PROCESSED_CHARS], conv)
        except ConversationBusyError:
            log.warning(
                "conversation on %s busy; message %s not handled",
                message.channel,
                message.external_id,
            )
            turn = Turn([Reply(text=BUSY)], None, failed=True)
        if had_card:
            turn.replies.insert(0, Reply(text=CARD_WARNING.get(turn.lang, CARD_WARNING["en"])))
        await self._inbound.finish(
            message,
            replies=turn.replies,
            intent=turn.intent,
            status="failed" if turn.failed else "handled",
            redacted_text="[secret removed]" if turn.secret_input else None,
        )
        for outgoing in turn.outgoing:
            await self._outbox.enqueue_message(outgoing)
        return turn.replies

    async def _turn(self, message: InboundMessage, text: str, conv: ConversationState) -> Turn:
        account = await self._identify(message)
        account_id = account.id if account is not None else None
        if conv.account_id != account_id:  # a different customer on this address: start over
            conv.state, conv.options, conv.account_id = FlowState(), [], account_id
        ctx = self._context(message, text, account, conv)
        secret = self._registry.get(conv.state.flow).is_secret_step(conv.state.step)
        try:
            replies, intent = await self._route(ctx, conv)
        except Exception as error:  # every failure becomes a friendly reply, state reset
            conv.state.finish()
            replies, intent = [ctx.reply(ctx.say(messages_for(error)))], None
            return Turn(replies, intent, ctx.lang, secret_input=secret, failed=True)
        if conv.expired and intent != "menu":
            replies = [ctx.reply(ctx.say(EXPIRED)), *replies]
        conv.options = [option.value for option in replies[-1].options] if replies else []
        return Turn(replies, intent, ctx.lang, secret_input=secret, outgoing=ctx.outgoing)

    async def _route(
        self, ctx: TurnContext, conv: ConversationState
    ) -> tuple[list[Reply], str | None]:
        command = ctx.text.lower().strip(" .!?")
        if not has_words(ctx.text):
            return [ctx.reply(ctx.say(EMPTY))], None
        if _MENU.match(command):
            conv.state.finish()
            return [menu(ctx)], "menu"
        if _CANCEL.match(command) and conv.state.active:
            conv.state.finish()
            return [ctx.reply(ctx.say(CANCELLED)), menu(ctx)], "cancel"
        if _BACK.match(command):
            return await self._back(ctx, conv), "back"
        self._pick_option(ctx, conv)
        if ctx.text.startswith("intent:"):
            conv.state.finish()
            return await self._start(ctx, ctx.text.removeprefix("intent:"))
        if conv.state.active and not self._switches_intent(ctx, conv):
            intent = self._registry.get(conv.state.flow)
            return await intent.resume(ctx), intent.name
        conv.state.finish()
        return await self._start(ctx, ctx.parse.intent)

    async def _start(self, ctx: TurnContext, name: str) -> tuple[list[Reply], str]:
        intent = self._registry.get(name)
        if ctx.account is None and not intent.allows_anonymous:
            intent = self._registry.get("out_of_scope")
        return await intent.start(ctx), intent.name

    async def _back(self, ctx: TurnContext, conv: ConversationState) -> list[Reply]:
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

    async def _identify(self, message: InboundMessage) -> Account | None:
        raw = message.as_phone or (message.sender if message.channel in PHONE_CHANNELS else None)
        if raw is None:
            return None
        try:
            msisdn = normalize(raw, default_region=self._settings.default_region)
        except PhoneError:
            return None
        account = await self._billing.find_account_by_msisdn(msisdn)
        if account is None:
            log.info("unknown sender %s on %s", mask(msisdn), message.channel)
        return account

    def _context(
        self,
        message: InboundMessage,
        text: str,
        account: Account | None,
        conv: ConversationState,
    ) -> TurnContext:
        parse: ParseResult = self._nlu.parse(text)
        return TurnContext(
            message=message,
            text=text,
            parse=parse,
            account=account,
            state=conv.state,
            billing=self._billing,
            links=self._links,
            registry=self._registry,
            settings=self._settings,
            now=self._clock.now(),
        )
