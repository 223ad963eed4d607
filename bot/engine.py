"""The conversation engine: one inbound message in, its answer out — exactly once.

clean + redact → claim (store first, secret as placeholder, lease message and conversation) →
the turn inside one error boundary (identify → NLU → route → intent) → finish (state, answer
and outbound messages in one transaction) → wake the outbox. See docs/turns.md.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

from billing_client import Account, BillingClient
from bot.addresses import AddressBook
from bot.alerts.preferences import AlertSettingsStore
from bot.clock import Clock
from bot.compliance import Operator, Outcome, decide
from bot.errors import is_transient, messages_for
from bot.flow import TurnContext
from bot.i18n import language, say
from bot.identity import UNKNOWN, Identity
from bot.links import LinkSigner
from bot.nlu import NluModel
from bot.operator import OperatorConfig
from bot.otp import OneTimeCodes
from bot.ratelimit import RateLimiter, Verdict, polite_reply
from bot.routing import Router
from bot.secret_text import PLACEHOLDER, looks_secret
from bot.settings import Settings
from bot.store import inbound
from bot.store.conversations import ConversationState
from bot.store.pay_origins import PayOrigins
from bot.store.turns import Busy, OpenTurn, Replay, TurnResult, TurnStore
from bot.text import MAX_PROCESSED_CHARS, clean, redact_card_numbers
from bot.types import InboundMessage, OutboundMessage, Reply

log = logging.getLogger(__name__)
# A turn is cut off after this share of its lease (billing hanging, say) and answered with an
# apology, so no other worker takes a message over while its turn still runs.
TURN_TIMEOUT_SHARE = 2 / 3
RATE_LIMITED = "rate_limited"  # the intent recorded for a refused stranger's message
REPLY_KIND = "reply"  # the outbox kind of an answer queued for a channel that pushes

BUSY = {
    "en": "I'm still working on your previous message. Please send this one again in a moment.",
    "es": "Sigo con tu mensaje anterior. Vuelve a enviar este dentro de un momento.",
}
RESEND = {
    "en": "Sorry, I lost your last message in a hiccup on our side. Please send it again.",
    "es": "Perdona, he perdido tu último mensaje por un fallo nuestro. Envíalo de nuevo.",
}
CARD_WARNING = {
    "en": "For your safety I removed what looked like a card number. Never send card details "
    "in chat — use the secure payment link instead.",
    "es": "Por tu seguridad he borrado lo que parecía un número de tarjeta. Nunca envíes datos "
    "de tarjeta por chat: usa el enlace de pago seguro.",
}


class Outbox(Protocol):
    """What the engine needs of the outbox: a nudge after commit, and a queue for the sweep."""

    def wake(self) -> None: ...

    async def enqueue(self, message: OutboundMessage) -> bool: ...


@dataclass(frozen=True, slots=True)
class Answer:
    """The replies to one message, and whether it was really answered now.

    `busy`: another worker is still answering this message or its conversation; the caller
    should ask for a retry after `retry_after` seconds (the web API answers 409).
    `rate_limited`: a stranger sent too much and was told so once already; messaging channels
    send nothing, the web API answers 429 with `retry_after`.
    """

    replies: list[Reply]
    status: Literal["answered", "busy", "rate_limited"] = "answered"
    retry_after: float = 0.0
    replayed: bool = False  # answered before: these are the stored replies, nothing was done
    lang: str | None = None  # the language answered in ("es" for María); None: not answered now


class ConversationEngine:
    """Answers each accepted message once; see the module docstring."""

    def __init__(
        self,
        *,
        billing: BillingClient,
        nlu: NluModel,
        router: Router,
        turns: TurnStore,
        identity: Identity,
        limiter: RateLimiter,
        outbox: Outbox,
        links: LinkSigner,
        settings: Settings,
        clock: Clock,
        addresses: AddressBook | None = None,
        codes: OneTimeCodes | None = None,
        operator: Operator | None = None,
        alert_settings: AlertSettingsStore | None = None,
        operator_config: OperatorConfig | None = None,
        pay_origins: PayOrigins | None = None,
    ) -> None:
        """`operator`: who HELP and opt-out texts name; `operator_config`: what turns see of
        the operator (name, contacts, feature toggles); `pay_origins`: where pay links go."""
        self._billing = billing
        self._nlu = nlu
        self._router = router
        self._turns = turns
        self._identity = identity
        self._limiter = limiter
        self._outbox = outbox
        self._links = links
        self._settings = settings
        self._clock = clock
        self._addresses = addresses
        self._codes = codes
        self._alert_settings = alert_settings
        self._operator = operator or Operator(
            settings.channels.operator_name, settings.channels.support_contact
        )
        self._operator_config = operator_config or OperatorConfig()
        self._pay_origins = pay_origins

    async def handle(self, message: InboundMessage) -> list[Reply]:
        """The replies to `message` (a busy conversation answers with a please-retry)."""
        return (await self.answer(message)).replies

    async def answer(self, message: InboundMessage, *, push: bool = False) -> Answer:
        """Answer `message` once; a replay or a duplicate gets the same replies.

        `push`: the channel cannot carry the answer back in its response (SMS, WhatsApp,
        Telegram), so the replies are queued for the outbox in the same transaction that
        stores the answer: sent once, whatever crashes or webhook retries follow.
        """
        text, had_card = redact_card_numbers(clean(message.text))
        now = self._clock.now()
        async with self._turns.claim(message, text=text, secret=looks_secret(text), now=now) as c:
            if isinstance(c, Replay):
                return Answer(list(c.replies), replayed=True, lang=await self._lang_of(message))
            if isinstance(c, Busy):
                return Answer([Reply(text=say(BUSY, "en"))], "busy", c.retry_after)
            result, lang = await self._turn(message, text[:MAX_PROCESSED_CHARS], c, now)
            if had_card:
                result.replies.insert(0, Reply(text=say(CARD_WARNING, lang)))
            if push and result.replies and result.intent != RATE_LIMITED:
                result.outgoing.append(_reply_message(message, result))
            await self._finish(c, result, now)
        if result.intent == RATE_LIMITED:
            return Answer(result.replies, "rate_limited", result.retry_after)
        return Answer(result.replies, lang=language(lang))

    async def _lang_of(self, message: InboundMessage) -> str:
        """The sender's language, for a replay (whose answer was stored without it)."""
        try:
            account = await self._identity.identify(message)
        except Exception:  # the stored answer must still go out when billing is down
            log.warning("could not identify a replayed message's sender", exc_info=True)
            return "en"
        return language(account.locale) if account is not None else "en"

    async def recover(self, *, limit: int = 100) -> int:
        """Answer messages whose worker died (at start-up and every minute).

        The answer is stored for the message's retry and queued in the outbox for the sender,
        since nobody waits for it any more; the outbox delivers it where the channel can push.
        """
        orphans = await self._turns.orphans(limit=limit)
        for message in orphans:
            # Queued only when this sweep answers it: a retry may have got there first.
            await self.answer(message, push=True)
        return len(orphans)

    # --- the turn -------------------------------------------------------------------------
    async def _turn(
        self, message: InboundMessage, text: str, claim: OpenTurn, now: datetime
    ) -> tuple[TurnResult, str]:
        """Everything between claim and finish, inside one error boundary."""
        conv = claim.conversation
        account: Account | None = None
        try:
            async with asyncio.timeout(self._turns.lease.total_seconds() * TURN_TIMEOUT_SHARE):
                linked = conv.linked_phone if conv.linked_checked else UNKNOWN
                account = await self._identity.identify(message, linked)
                return await self._converse(message, text, conv, account, now)
        except Exception as error:  # every failure becomes a friendly reply
            lang = account.locale if account is not None else "en"
            return _failed(error, conv, account, lang), lang

    async def _converse(
        self,
        message: InboundMessage,
        text: str,
        conv: ConversationState,
        account: Account | None,
        now: datetime,
    ) -> tuple[TurnResult, str]:
        account_id = account.id if account is not None else None
        keyword = message.payload.get("keyword")
        lang = language(account.locale) if account is not None else None
        outcome = decide(keyword, conv.suppressed, text, self._operator, lang=lang)
        if outcome.handled:  # STOP, START, HELP, or an opted-out address: not a conversation
            return _complied(outcome, account_id), lang or "en"
        if conv.account_id != account_id:  # a different customer on this address: start over
            conv.state.finish()
            conv.options, conv.account_id = [], account_id
        if account is None:
            verdict = self._limiter.check((message.channel, message.sender), now)
            if not verdict.allowed:
                return _slowed_down(verdict, conv), "en"
        ctx = self._context(message, text, account, conv, now)
        if text == PLACEHOLDER:  # recovered after a crash: the secret itself was never stored
            replies, intent = [ctx.reply(ctx.say(RESEND))], None
        else:
            replies, intent = await self._router.route(ctx, conv)
        result = TurnResult(
            replies,
            intent,
            inbound.HANDLED,
            account_id,
            outgoing=ctx.outgoing,
            withdrawn=ctx.withdrawn,
        )
        result.lift = outcome.lift  # the customer writes again: "cannot receive" is over
        return result, ctx.lang

    def _context(
        self,
        message: InboundMessage,
        text: str,
        account: Account | None,
        conv: ConversationState,
        now: datetime,
    ) -> TurnContext:
        return TurnContext(
            message=message,
            text=text,
            parse=self._nlu.parse(text),
            account=account,
            state=conv.state,
            billing=self._billing,
            links=self._links,
            registry=self._router.registry,
            settings=self._settings,
            now=now,
            addresses=self._addresses,
            codes=self._codes,
            alert_settings=self._alert_settings,
            operator=self._operator_config,
            pay_origins=self._pay_origins,
        )

    async def _finish(self, claim: OpenTurn, result: TurnResult, now: datetime) -> None:
        """Store the answer; if the database fails now, the lease runs out and a retry or the
        sweep answers again (side effects are idempotent), so the caller still gets replies."""
        try:
            await self._turns.finish(claim, result, now=now)
        except Exception:
            log.exception("could not store the answer to a message; it will be retried")
            return
        if result.outgoing:
            self._outbox.wake()


def _complied(outcome: Outcome, account_id: int | None) -> TurnResult:
    """The turn's result when compliance handled the message: its confirmation, if any, and
    the suppression change, written with the answer; the conversation's state untouched."""
    replies = [Reply(text=outcome.text)] if outcome.text else []
    return TurnResult(
        replies,
        outcome.intent,
        inbound.HANDLED,
        account_id,
        save_state=False,
        reply_kind=outcome.kind or REPLY_KIND,
        suppress=outcome.suppress,
        lift=outcome.lift,
    )


def _reply_message(message: InboundMessage, result: TurnResult) -> OutboundMessage:
    """The answer to `message` as an outbox message to its sender (one per inbound message)."""
    return OutboundMessage(
        channel=message.channel,
        address=message.sender,
        replies=tuple(result.replies),
        kind=result.reply_kind,
        dedupe_key=f"reply:{message.channel}:{message.external_id}",
        account_id=result.account_id,
    )


def _slowed_down(verdict: Verdict, conv: ConversationState) -> TurnResult:
    """One polite reply when a stranger first goes over the limit; the state is left alone."""
    locale = str(conv.state.slots.get("locale", "en_US"))
    reply = Reply(text=polite_reply(verdict, locale))
    intent = RATE_LIMITED if not verdict.first_refusal else "slow_down"
    return TurnResult(
        [reply], intent, inbound.HANDLED, None, save_state=False, retry_after=verdict.retry_after
    )


def _failed(
    error: Exception, conv: ConversationState, account: Account | None, lang: str
) -> TurnResult:
    """The apology for a failed turn. A transient failure keeps the state for the retry."""
    transient = is_transient(error)
    if not transient:
        conv.state.finish()
    status = inbound.RETRY if transient else inbound.FAILED
    reply = Reply(text=say(messages_for(error), lang))
    account_id = account.id if account is not None else None
    return TurnResult([reply], None, status, account_id, save_state=not transient)
