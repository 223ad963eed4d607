"""Which customer texts are secrets (PINs, one-time codes) and must never be stored.

The decision is made before the text is stored: at a PIN or code step every answer is secret
(the registry says which steps those are), and anywhere else a text that looks like a PIN is.
A secret text is stored as `PLACEHOLDER`; the engine still reads the real text in memory.
"""

from __future__ import annotations

import re

PLACEHOLDER = "[secret removed]"
# A message that is only a 4–8 digit number ("2468", "2 4 6 8", "1357.") is treated as a PIN or
# a one-time code wherever it is typed: phone numbers are longer and options shorter.
_BARE_DIGITS = re.compile(r"^[\s#*.,:;-]*(?:\d[\s.-]?){3,7}\d[\s.!]*$")
# "my pin is 2468", "PIN: 97531864", "passcode 1234", "mi clave es 9753", "code 482913".
_KEYWORD = re.compile(
    r"\b(?:pin|pins|passcode|pass code|password|passwd|code|otp|clave|contraseña|contrasena|"
    r"c[oó]digo|nip)\b\D{0,16}\d{4,8}(?!\d)",
    re.IGNORECASE,
)


def looks_secret(text: str) -> bool:
    """True when `text` carries something PIN-like, whatever step the conversation is at."""
    return bool(_BARE_DIGITS.match(text) or _KEYWORD.search(text))
