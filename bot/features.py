"""What the operator lets customers do (`OperatorConfig.features`), as chat says it.

An operator may keep some things off billbot (usage lives in another app, plan changes need a
shop visit). Chat then neither offers them in the menu nor does them when asked: it says
so and names the operator's own support contacts, so the customer is never left stuck. The
SMS HELP answer names the same contacts (`bot.compliance`).
"""

from __future__ import annotations

from typing import Literal

from bot.i18n import Messages, say
from bot.operator import Features, OperatorConfig, Support

Feature = Literal["usage", "invoices", "autopay", "plan_changes", "contact_changes"]

UNAVAILABLE = {
    "en": "Sorry, {what} isn't available in this chat. {operator} support can help: {contacts}.",
    "es": "Lo siento, {what} no está disponible en este chat. El soporte de {operator} puede "
    "ayudarte: {contacts}.",
}
WHAT: dict[Feature, Messages] = {
    "usage": {"en": "checking your usage", "es": "consultar el consumo"},
    "invoices": {"en": "seeing your invoices", "es": "consultar las facturas"},
    "autopay": {"en": "setting up automatic payments", "es": "configurar el pago automático"},
    "plan_changes": {"en": "changing your plan", "es": "cambiar de plan"},
    "contact_changes": {
        "en": "changing your contact details",
        "es": "cambiar tus datos de contacto",
    },
}
CALL = {"en": "call {phone}", "es": "llama al {phone}"}
EMAIL = {"en": "email {email}", "es": "escribe a {email}"}
WEB = {"en": "visit {url}", "es": "visita {url}"}
OR = {"en": " or ", "es": " o "}


def enabled(features: Features, feature: Feature | None) -> bool:
    """Whether the operator lets customers do `feature` (None: nothing to switch off)."""
    return feature is None or bool(getattr(features, feature))


def unavailable_text(operator: OperatorConfig, feature: Feature, locale: str) -> str:
    """The "Sorry, X isn't available here" reply, with where to get help instead."""
    return say(
        UNAVAILABLE,
        locale,
        what=say(WHAT[feature], locale),
        operator=operator.name,
        contacts=contacts_text(operator.support, locale),
    )


def contacts_text(support: Support, locale: str) -> str:
    """The contacts as a phrase ("call +1 202 555 0199 (Mon–Fri 8:00–20:00) or email help@…"),
    leaving out the blank ones."""
    parts: list[str] = []
    if support.phone:
        call = say(CALL, locale, phone=support.phone)
        parts.append(f"{call} ({support.hours})" if support.hours else call)
    if support.email:
        parts.append(say(EMAIL, locale, email=support.email))
    if support.url:
        parts.append(say(WEB, locale, url=support.url))
    if len(parts) < 2:
        return "".join(parts)
    return ", ".join(parts[:-1]) + say(OR, locale) + parts[-1]
