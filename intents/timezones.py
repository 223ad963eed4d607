"""A time zone from what a customer types: an IANA name ("America/Chicago", any case) or one of
a small table of common cities, regions and abbreviations, in English and Spanish.

Deliberately simple and honest: no geocoding, no guessing from partial names. What the table
does not know gets None, and the flow asks again with examples.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from zoneinfo import available_timezones

# Cities and names people type, accents and case dropped, mapped to their zone.
PLACES = {
    # United States and Canada
    "new york": "America/New_York",
    "nyc": "America/New_York",
    "nueva york": "America/New_York",
    "washington": "America/New_York",
    "washington dc": "America/New_York",
    "dc": "America/New_York",
    "boston": "America/New_York",
    "miami": "America/New_York",
    "atlanta": "America/New_York",
    "toronto": "America/Toronto",
    "eastern": "America/New_York",
    "et": "America/New_York",
    "est": "America/New_York",
    "edt": "America/New_York",
    "chicago": "America/Chicago",
    "houston": "America/Chicago",
    "dallas": "America/Chicago",
    "austin": "America/Chicago",
    "central": "America/Chicago",
    "ct": "America/Chicago",
    "cst": "America/Chicago",
    "cdt": "America/Chicago",
    "denver": "America/Denver",
    "mountain": "America/Denver",
    "mst": "America/Denver",
    "mdt": "America/Denver",
    "phoenix": "America/Phoenix",
    "arizona": "America/Phoenix",
    "los angeles": "America/Los_Angeles",
    "la": "America/Los_Angeles",
    "san francisco": "America/Los_Angeles",
    "seattle": "America/Los_Angeles",
    "vancouver": "America/Vancouver",
    "pacific": "America/Los_Angeles",
    "pt": "America/Los_Angeles",
    "pst": "America/Los_Angeles",
    "pdt": "America/Los_Angeles",
    "anchorage": "America/Anchorage",
    "alaska": "America/Anchorage",
    "honolulu": "Pacific/Honolulu",
    "hawaii": "Pacific/Honolulu",
    "puerto rico": "America/Puerto_Rico",
    "san juan": "America/Puerto_Rico",
    # Latin America
    "mexico city": "America/Mexico_City",
    "ciudad de mexico": "America/Mexico_City",
    "cdmx": "America/Mexico_City",
    "guadalajara": "America/Mexico_City",
    "monterrey": "America/Monterrey",
    "bogota": "America/Bogota",
    "lima": "America/Lima",
    "santiago": "America/Santiago",
    "buenos aires": "America/Argentina/Buenos_Aires",
    "caracas": "America/Caracas",
    "sao paulo": "America/Sao_Paulo",
    "santo domingo": "America/Santo_Domingo",
    "havana": "America/Havana",
    "la habana": "America/Havana",
    # Europe
    "london": "Europe/London",
    "londres": "Europe/London",
    "dublin": "Europe/Dublin",
    "lisbon": "Europe/Lisbon",
    "lisboa": "Europe/Lisbon",
    "madrid": "Europe/Madrid",
    "barcelona": "Europe/Madrid",
    "valencia": "Europe/Madrid",
    "sevilla": "Europe/Madrid",
    "seville": "Europe/Madrid",
    "bilbao": "Europe/Madrid",
    "malaga": "Europe/Madrid",
    "spain": "Europe/Madrid",
    "espana": "Europe/Madrid",
    "canarias": "Atlantic/Canary",
    "canary islands": "Atlantic/Canary",
    "islas canarias": "Atlantic/Canary",
    "las palmas": "Atlantic/Canary",
    "tenerife": "Atlantic/Canary",
    "paris": "Europe/Paris",
    "berlin": "Europe/Berlin",
    "rome": "Europe/Rome",
    "roma": "Europe/Rome",
    "amsterdam": "Europe/Amsterdam",
    "brussels": "Europe/Brussels",
    "bruselas": "Europe/Brussels",
    # Elsewhere
    "tokyo": "Asia/Tokyo",
    "sydney": "Australia/Sydney",
    "utc": "UTC",
    "gmt": "UTC",
}
# Words around the place that say nothing about it ("I live in Madrid", "estoy en Lima").
_FILLER = re.compile(
    r"\b(my|time ?zone|timezone|zone|is|to|set|change|the|in|im|i am|i live|live|now|please|"
    r"pls|mi|zona horaria|zona|horaria|huso horario|es|a|la de|en|vivo|estoy|ahora|por favor|"
    r"cambiar|cambia|pon|poner)\b"
)


def resolve(text: str) -> str | None:
    """The IANA zone `text` names, or None when it names none this module knows."""
    raw = text.strip().strip(".!?")
    words = _plain(raw)
    if words in PLACES:  # before IANA names: "EST" means New York's time, not a fixed offset
        return PLACES[words]
    iana = _iana().get(raw.lower().replace(" ", "_"))
    if iana is not None:
        return iana
    trimmed = " ".join(_FILLER.sub(" ", words).split())
    return PLACES.get(trimmed) or _iana().get(trimmed.replace(" ", "_"))


def _plain(text: str) -> str:
    """Lowercase, accents and punctuation dropped, spaces squeezed."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    letters = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(re.sub(r"[^a-z0-9/_ ]", " ", letters).split())


@cache
def _iana() -> dict[str, str]:
    """Every IANA zone by its lowercase name."""
    return {zone.lower(): zone for zone in available_timezones()}
