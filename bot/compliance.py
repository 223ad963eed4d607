"""Compliance keywords on text channels: STOP opts an address out, START back in, HELP helps.

A step of the turn (`ConversationEngine`), before anything else, on what the claim found: the
message's keyword (`InboundMessage.payload["keyword"]`, which the inbox sets from the
channel's `Keywords`) and whether the address is suppressed (`bot_suppressions`). So a keyword
message is stored first and deduplicated like every message, and its effect (the opt-out, the
lift) and its confirmation are written in the transaction that answers it (channels.md §2.2):

- an opt-out word records the opt-out and sends **one** confirmation (a repeated STOP gets
  none); from then on nothing is sent to the address — replies and alerts alike — and what it
  writes is not acted on, until an opt-in word;
- an opt-in word lifts an opt-out and confirms it; while the address is not opted out it is an
  ordinary answer ("yes") and the conversation goes on;
- a help word answers with the operator's name, their support contacts (phone and hours,
  email, from `OperatorConfig.support`) and how to opt out, in the customer's language;
- any message lifts a `blocked` or `unreachable` suppression: the customer is writing again.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.features import contacts_text
from bot.i18n import Messages, say
from bot.operator import OperatorConfig

OPTED_OUT_TEXT = {
    "en": "{operator}: you won't get any more messages here. Reply START to get them again.",
    "es": "{operator}: no recibirás más mensajes aquí. Responde START para volver a recibirlos.",
}
OPTED_IN_TEXT = {
    "en": "{operator}: you'll get messages here again. Reply HELP for help, STOP to opt out.",
    "es": "{operator}: volverás a recibir mensajes. Responde AYUDA para ayuda, BAJA para salir.",
}
HELP_TEXT = {
    "en": "{operator} billing help: text what you need, e.g. balance or pay. Support: "
    "{contact}. Reply STOP to opt out. Msg&data rates may apply.",
    "es": "Ayuda de {operator}: escribe lo que necesitas, p. ej. saldo o pagar. Soporte: "
    "{contact}. Responde BAJA para salir. Pueden aplicarse tarifas.",
}
SPANISH_WORDS = frozenset({"BAJA", "AYUDA"})
OPT_OUT_CONFIRMATION = "opt_out_confirmation"  # the one kind sent to an opted-out address
OPTED_OUT = "opted_out"
LIFTED_BY_WRITING = ("blocked", "unreachable")


@dataclass(frozen=True, slots=True)
class Operator:
    """Who runs the bot, as compliance texts name them: a fixed `contact`, or the support
    contacts of the operator's configuration, worded in the customer's language."""

    name: str
    contact: str = ""
    config: OperatorConfig | None = None

    @classmethod
    def from_config(cls, config: OperatorConfig) -> Operator:
        return cls(config.name, config=config)

    def contact_in(self, lang: str) -> str:
        if self.config is None:
            return self.contact
        return contacts_text(self.config.support, lang) or self.contact


@dataclass(frozen=True, slots=True)
class Outcome:
    """What compliance decided for one message.

    `handled`: the conversation does not see the message (a keyword, or an opted-out address);
    `text` and `kind`: the confirmation to send, if any; `suppress` / `lift`: the change to the
    address's suppression, written with the answer.
    """

    handled: bool = False
    text: str | None = None
    kind: str | None = None
    intent: str | None = None
    suppress: str | None = None
    lift: tuple[str, ...] = ()


GO_ON = Outcome()


def decide(
    keyword: str | None,
    suppressed: str | None,
    text: str,
    operator: Operator,
    *,
    lang: str | None = None,
) -> Outcome:
    """The outcome for a message with `keyword` from an address suppressed for `suppressed`.

    `lang`: the customer's language when the sender is known; a Spanish keyword (AYUDA, BAJA)
    is answered in Spanish whoever sends it.
    """
    opted_out = suppressed == OPTED_OUT
    lang = _language(text, lang)
    if keyword == "opt_out":
        if opted_out:  # one confirmation only: the first STOP had it
            return Outcome(handled=True, intent="opt_out")
        confirm = _text(OPTED_OUT_TEXT, lang, operator)
        return Outcome(True, confirm, OPT_OUT_CONFIRMATION, "opt_out", suppress=OPTED_OUT)
    if keyword == "opt_in" and opted_out:
        confirm = _text(OPTED_IN_TEXT, lang, operator)
        return Outcome(True, confirm, "opt_in_confirmation", "opt_in", lift=(OPTED_OUT,))
    lift = LIFTED_BY_WRITING if suppressed in LIFTED_BY_WRITING else ()
    if keyword == "help":
        return Outcome(True, _text(HELP_TEXT, lang, operator), "help", "help", lift=lift)
    if opted_out:
        return Outcome(handled=True, intent="opted_out")  # not acted on, nothing sent
    return Outcome(lift=lift)


def _language(typed: str, customer: str | None) -> str:
    word = " ".join(typed.split()).strip(" .!").upper()
    return "es" if word in SPANISH_WORDS else customer or "en"


def _text(messages: Messages, lang: str, operator: Operator) -> str:
    return say(messages, lang, operator=operator.name, contact=operator.contact_in(lang))
