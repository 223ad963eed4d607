"""The one place that turns errors into what the customer reads."""

from __future__ import annotations

import logging

from sqlalchemy import exc as sa_exc

from billing_client import (
    AccountLockedError,
    BillingError,
    BillingUnavailableError,
    InvalidRequestError,
    NotFoundError,
)
from bot.i18n import Messages

log = logging.getLogger(__name__)

UNAVAILABLE = {
    "en": "Sorry, our billing system isn't answering right now. Please try again shortly.",
    "es": "Lo siento, el sistema de facturación no responde ahora. Inténtalo en unos minutos.",
}
NOT_FOUND = {
    "en": 'Sorry, I couldn\'t find that. Type "menu" to see what I can do.',
    "es": 'Lo siento, no lo he encontrado. Escribe "menú" para ver qué puedo hacer.',
}
NOT_ALLOWED = {
    "en": 'Sorry, I can\'t do that right now. Type "menu" to see what I can do.',
    "es": 'Lo siento, ahora no puedo hacerlo. Escribe "menú" para ver qué puedo hacer.',
}
LOCKED = {
    "en": "For your security, PIN checks are paused for a while. Please try again later.",
    "es": "Por seguridad, las comprobaciones de PIN están en pausa. Inténtalo más tarde.",
}
UNEXPECTED = {
    "en": 'Sorry, something went wrong on our side. Please try again, or type "menu".',
    "es": 'Lo siento, algo ha fallado por nuestra parte. Inténtalo de nuevo o escribe "menú".',
}

# Most specific first: the first class the error is an instance of wins.
_BY_TYPE: tuple[tuple[type[BaseException], Messages], ...] = (
    (AccountLockedError, LOCKED),
    (BillingUnavailableError, UNAVAILABLE),
    (TimeoutError, UNAVAILABLE),
    (ConnectionError, UNAVAILABLE),
    (sa_exc.OperationalError, UNAVAILABLE),
    (sa_exc.InterfaceError, UNAVAILABLE),
    (NotFoundError, NOT_FOUND),
    (InvalidRequestError, NOT_ALLOWED),
    (BillingError, NOT_ALLOWED),
)


# Failures that say "not now" rather than "not like this": the same message may succeed later.
_TRANSIENT: tuple[type[BaseException], ...] = (
    BillingUnavailableError,
    TimeoutError,
    ConnectionError,
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    sa_exc.TimeoutError,
)


def is_transient(error: BaseException) -> bool:
    """True when trying the same message again later may well work."""
    return isinstance(error, _TRANSIENT)


def messages_for(error: BaseException) -> Messages:
    """Customer-facing text for an error raised while handling a message."""
    for error_type, messages in _BY_TYPE:
        if isinstance(error, error_type):
            log.info("handled %s: %s", type(error).__name__, error)
            return messages
    log.exception("unexpected error while handling a message", exc_info=error)
    return UNEXPECTED
