"""Compliance keywords on text channels: STOP opts an address out, START back in, HELP helps.

Acted on before the conversation engine (channels.md §2.2):
- an opt-out word records the opt-out and queues **one** confirmation (a repeated STOP gets
  none); from then on nothing is sent to the address — replies and alerts alike — and what it
  writes is not acted on, until an opt-in word;
- an opt-in word lifts an opt-out and confirms it; while the address is not opted out it is an
  ordinary answer ("yes") and goes to the engine;
- a help word answers with the operator's name, a contact and how to opt out;
- any message lifts a `blocked` or `unreachable` suppression: the customer is writing again.

Confirmations go through the outbox like every other message, deduplicated on the keyword
message's id, so a provider's retry of the webhook confirms once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import partial
from typing import Protocol

from sqlalchemy import Connection

from bot.i18n import Messages, say
from bot.keywords import Keywords
from bot.phones import mask
from bot.store import conversations, suppressions
from bot.store.sql import Transactions
from bot.types import InboundMessage, OutboundMessage, Reply

log = logging.getLogger(__name__)

OPTED_OUT = {
    "en": "{operator}: you won't get any more messages here. Reply START to get them again.",
    "es": "{operator}: no recibirás más mensajes aquí. Responde START para volver a recibirlos.",
}
OPTED_IN = {
    "en": "{operator}: you'll get messages here again. Reply HELP for help, STOP to opt out.",
    "es": "{operator}: volverás a recibir mensajes. Responde AYUDA para ayuda, BAJA para salir.",
}
HELP = {
    "en": "{operator} billing help: text what you need, e.g. balance or pay. Support: "
    "{contact}. Reply STOP to opt out. Msg&data rates may apply.",
    "es": "Ayuda de {operator}: escribe lo que necesitas, p. ej. saldo o pagar. Soporte: "
    "{contact}. Responde BAJA para salir. Pueden aplicarse tarifas.",
}
SPANISH_WORDS = frozenset({"BAJA", "AYUDA"})
OPT_OUT_CONFIRMATION = "opt_out_confirmation"  # the one kind sent to an opted-out address


class Outbox(Protocol):
    """What compliance needs of the outbox: a queue for confirmations."""

    async def enqueue(self, message: OutboundMessage) -> bool: ...


@dataclass(frozen=True, slots=True)
class Operator:
    """Who runs the bot, as compliance texts name them."""

    name: str
    contact: str


class Compliance:
    """Acts on compliance keywords and suppressed addresses; see the module docstring."""

    def __init__(self, db: Transactions, outbox: Outbox, *, operator: Operator) -> None:
        self._db = db
        self._outbox = outbox
        self._operator = operator

    async def handle(self, message: InboundMessage, keywords: Keywords) -> bool:
        """True when the message was a compliance matter and must not reach the engine."""
        kind = keywords.kind_of(message.text)
        key = (message.channel, message.sender)
        # The common case costs one read: no keyword, nothing suppressed.
        reason = await self._db.read(partial(_reason, key))
        if kind is None and reason is None:
            return False
        outcome = await self._db.write(partial(self._act, message, kind, reason))
        if outcome is not None:
            await self._outbox.enqueue(outcome)
        opted_out = reason == suppressions.OPTED_OUT
        return outcome is not None or opted_out or kind == "opt_out"

    def _act(
        self,
        message: InboundMessage,
        kind: str | None,
        reason: str | None,
        connection: Connection,
    ) -> OutboundMessage | None:
        """Record the keyword's effect; the confirmation to queue, if any."""
        channel, address = message.channel, message.sender
        now = message.received_at
        # The customer wrote: the service window opens, a "cannot receive" is over.
        conversations.touch(connection, (channel, address), at=now)
        if reason in suppressions.LIFTED_BY_WRITING:
            suppressions.lift_on(
                connection, channel, address, reasons=suppressions.LIFTED_BY_WRITING
            )
        opted_out = reason == suppressions.OPTED_OUT
        if kind == "opt_out":
            if opted_out:
                return None  # one confirmation only: the first STOP had it
            log.info("%s opted out on %s", mask(address), channel)
            suppressions.suppress_on(
                connection, channel, address, reason=suppressions.OPTED_OUT, now=now
            )
            return self._confirmation(message, OPTED_OUT, OPT_OUT_CONFIRMATION)
        if kind == "opt_in" and opted_out:
            log.info("%s opted back in on %s", mask(address), channel)
            suppressions.lift_on(connection, channel, address, reasons=(suppressions.OPTED_OUT,))
            return self._confirmation(message, OPTED_IN, "opt_in_confirmation")
        if kind == "help":
            return self._confirmation(message, HELP, "help")
        if opted_out:
            log.info("ignoring a message from %s, opted out on %s", mask(address), channel)
        return None

    def _confirmation(
        self, message: InboundMessage, messages: Messages, kind: str
    ) -> OutboundMessage:
        word = " ".join(message.text.split()).strip(" .!").upper()
        language = "es" if word in SPANISH_WORDS else "en"
        text = say(
            messages, language, operator=self._operator.name, contact=self._operator.contact
        )
        return OutboundMessage(
            channel=message.channel,
            address=message.sender,
            replies=(Reply(text=text),),
            kind=kind,
            dedupe_key=f"{kind}:{message.channel}:{message.external_id}",
        )


def _reason(key: tuple[str, str], connection: Connection) -> str | None:
    return suppressions.reason_on(connection, *key)
