"""Checks of contact details any billing adapter (and the web view) applies the same way."""

from __future__ import annotations

import re
from zoneinfo import available_timezones

from babel import Locale, UnknownLocaleError

from billing_client.errors import InvalidRequestError

# Deliberately simple: one @, no spaces, a dot in the domain. The confirmation link sent to the
# address is the real check that it is the customer's.
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,185}\.[^@\s.]{2,63}$")
LOCALES = ("en_US", "es_ES")


def checked_email(email: str) -> str:
    value = email.strip()
    if not EMAIL.match(value) or len(value) > 254:
        raise InvalidRequestError("That does not look like an email address.")
    return value


def checked_locale(locale: str) -> str:
    try:
        parsed = Locale.parse(locale.replace("-", "_"))
    except (ValueError, UnknownLocaleError):
        raise InvalidRequestError(f"Unknown language {locale!r}.") from None
    value = str(parsed)
    match = next((known for known in LOCALES if known.split("_")[0] == parsed.language), None)
    if match is None:
        raise InvalidRequestError(f"billbot does not speak {value} yet.")
    return value if "_" in value else match


def checked_timezone(timezone: str) -> str:
    if timezone not in available_timezones():
        raise InvalidRequestError(f"Unknown time zone {timezone!r}.")
    return timezone
