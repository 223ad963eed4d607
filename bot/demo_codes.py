"""Demo mode only: show the one-time codes the sandbox recorded, so a demo can finish a check.

A strong check (`bot.stepup`) sends its code to another of the holder's channels, never the
conversation asking. In a demo that channel is the sandbox: the message is recorded, not sent,
so whoever tries the web chat or `billbot chat --as` could never type the code. Here, right
after the reply that says a code was sent, a clearly labelled note shows what that message
says.

The composition root (`bot.bootstrap.build_engine`) builds these classes only when
`settings.demo` is on; outside demo mode nothing here exists, so no reply ever carries a code.
Even in a demo the code is never stored, the same way the outbox keeps it out of its rows:

- `DemoCodeRouter` adds the note inside the turn with the code's placeholder
  (`bot.otp.placeholder`), so the stored answer (replays, the reply's outbox row) holds only
  the reference, which the conversation's state keeps anyway;
- `DemoCodeEngine` fills the placeholders in as the answer is handed back, computing the code
  from its reference at reply time (`OneTimeCodes.fill`).

A code going out on a live channel is really delivered, so it is never shown.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

from bot import i18n, otp
from bot.engine import Answer, ConversationEngine
from bot.flow import TurnContext
from bot.registry import Registry
from bot.routing import Routed, Router
from bot.second_factors import Destination
from bot.store.conversations import ConversationState
from bot.types import InboundMessage, OutboundMessage, Reply

NOTE = {
    "en": "Demo mode: messages are recorded here, not sent, so this is what I sent by {where}: "
    '"{text}" (a real deployment never shows this).',
    "es": "Modo demo: aquí los mensajes se registran, no se envían, así que esto es lo que envié "
    'por {where}: "{text}" (una instalación real nunca lo muestra).',
}


def notes(
    messages: Iterable[OutboundMessage], *, live: frozenset[str], locale: str
) -> list[Reply]:
    """A demo note for each queued message that carries a code and will not really be sent;
    its code stays a placeholder."""
    return [_note(message, locale) for message in messages if _reveals(message, live)]


def _reveals(message: OutboundMessage, live: frozenset[str]) -> bool:
    """Whether the message holds a code that only the sandbox will ever see."""
    return message.channel not in live and otp.hide(_text(message)) != _text(message)


def _note(message: OutboundMessage, locale: str) -> Reply:
    where = Destination(message.channel, message.address).label(locale)
    return Reply(text=i18n.say(NOTE, locale, where=where, text=_text(message)))


def _text(message: OutboundMessage) -> str:
    return " ".join(reply.text for reply in message.replies)


def filled(replies: Sequence[Reply], codes: otp.OneTimeCodes) -> list[Reply]:
    """`replies` with every code placeholder replaced by its code (at reply time)."""
    return [replace(reply, text=codes.fill(reply.text)) for reply in replies]


class DemoCodeRouter(Router):
    """The router, plus a demo note after a turn that queued a code for the sandbox."""

    def __init__(self, registry: Registry, *, live: frozenset[str]) -> None:
        super().__init__(registry)
        self._live = live

    async def route(self, ctx: TurnContext, conv: ConversationState) -> Routed:
        replies, intent = await super().route(ctx, conv)
        return [*replies, *notes(ctx.outgoing, live=self._live, locale=ctx.locale)], intent


class DemoCodeEngine(ConversationEngine):
    """The engine, with the demo notes' codes filled in as each answer is handed back."""

    async def answer(self, message: InboundMessage, *, push: bool = False) -> Answer:
        answered = await super().answer(message, push=push)
        if self._codes is None:  # no codes here: no note was written either
            return answered
        return replace(answered, replies=filled(answered.replies, self._codes))
