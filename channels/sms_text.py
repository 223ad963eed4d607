"""Replies as SMS text: plain lines, GSM-7 where it can be, and a segment budget. Pure.

One `Reply` becomes its text, its options as numbered lines (the engine maps "1", "2", … back
to the last options offered, in order; option values never reach the customer) and at most one
link line. Typographic punctuation and emoji are replaced or dropped so that an English text
always stays GSM-7 (160 characters a segment, not 70); letters outside GSM-7 (Spanish á, í, ó,
ú) stay as they are, and such a body goes out as UCS-2 (channels.md §1.6).

The replies of one answer share one SMS body when it fits in `MAX_SEGMENTS`; otherwise they
are split at reply boundaries, then paragraphs, lines and words, no body over the budget.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from typing import Literal

from bot.types import Option, Reply

Encoding = Literal["GSM-7", "UCS-2"]

MAX_SEGMENTS = 3  # per body: longer answers read better as several texts than one of 6 parts
SHORT_LABEL = 20  # a link label longer than this is dropped; the bare URL says enough

# 3GPP TS 23.038: the basic character set (without the escape 0x1B) and its extension table,
# whose characters cost two septets (escape + code).
GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENSION = frozenset("^{}\\[~]|€\f")

GSM_SINGLE, GSM_PART = 160, 153
UCS2_SINGLE, UCS2_PART = 70, 67

# Typographic characters and their GSM-7 spelling (in the spirit of Twilio's Smart Encoding).
REPLACEMENTS = {
    **dict.fromkeys("‘’‚‛′ʼ´`", "'"),
    **dict.fromkeys("“”„‟″«»", '"'),
    **dict.fromkeys("‐‑‒–—―−", "-"),
    **dict.fromkeys("•◦‣∙⁃·▪●", "-"),
    **dict.fromkeys("\u2028\u2029", "\n"),
    "\t": " ",
    "…": "...",
    "‹": "<",
    "›": ">",
    "±": "+/-",
    "½": "1/2",
    "¼": "1/4",
    "¾": "3/4",
    "×": "x",
    "÷": "/",
    "≤": "<=",
    "≥": ">=",
    "→": "->",
    "←": "<-",
    "©": "(c)",
    "®": "(R)",
    "™": "TM",
}
# Emoji and pictographs start at the arrows block; below it "So" holds signs such as ° and №.
PICTOGRAPHS_FROM = 0x2190
EMOJI_BLOCKS = (0x1F000, 0x1FAFF)  # also emoji newer than this Python's Unicode tables
_SPACES = re.compile(" {2,}")  # what is left where an emoji stood between two words


def to_gsm(text: str) -> str:
    """`text` with typographic characters in GSM-7 spelling, emoji dropped, spaces tidied.

    Letters outside GSM-7 stay: rewriting "está" as "esta" would change what was said.
    """
    normal = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    spelled = "".join(_gsm_char(char) for char in normal)
    return "\n".join(_SPACES.sub(" ", line).strip(" ") for line in spelled.split("\n"))


def _gsm_char(char: str) -> str:
    if char in GSM_BASIC or char in GSM_EXTENSION:
        return char
    if char in REPLACEMENTS:
        return REPLACEMENTS[char]
    category = unicodedata.category(char)
    if category == "Zs":
        return " "
    return "" if _dropped(char, category) else char


def _dropped(char: str, category: str) -> bool:
    """Emoji, pictographs, their modifiers and joiners, invisible and control characters."""
    code = ord(char)
    if EMOJI_BLOCKS[0] <= code <= EMOJI_BLOCKS[1]:
        return True
    if category == "So":
        return code >= PICTOGRAPHS_FROM
    variation_selector = 0xFE00 <= code <= 0xFE0F or 0xE0100 <= code <= 0xE01EF
    return variation_selector or category in ("Cc", "Cf", "Co", "Cn", "Me")


def encoding(text: str) -> Encoding:
    """The encoding an SMS carrying `text` needs."""
    gsm = all(char in GSM_BASIC or char in GSM_EXTENSION for char in text)
    return "GSM-7" if gsm else "UCS-2"


def segments(text: str) -> int:
    """How many SMS segments `text` takes (an empty text still costs one)."""
    if encoding(text) == "GSM-7":
        return _count(text, GSM_SINGLE, GSM_PART, lambda c: 2 if c in GSM_EXTENSION else 1)
    return _count(text, UCS2_SINGLE, UCS2_PART, lambda c: 2 if ord(c) > 0xFFFF else 1)


def _count(text: str, single: int, part: int, cost: Callable[[str], int]) -> int:
    """Segments, filled greedily: an escape pair or a surrogate pair is never split."""
    costs = [cost(char) for char in text]
    if sum(costs) <= single:
        return 1
    count, used = 1, 0
    for units in costs:
        if used + units > part:
            count, used = count + 1, 0
        used += units
    return count


def fits_sms(text: str) -> bool:
    """Whether `text` fits one SMS body's budget."""
    return segments(text) <= MAX_SEGMENTS


# --- replies as text --------------------------------------------------------------------------


def numbered(options: Sequence[Option]) -> list[str]:
    """Options as "1. Label" lines, in the order given."""
    return [f"{number}. {option.label}" for number, option in enumerate(options, 1)]


def link_line(url: str, label: str | None) -> str:
    """A link on its own line, with its label when that is short."""
    if label and len(label) <= SHORT_LABEL:
        return f"{label}: {url}"
    return url


def reply_text(reply: Reply) -> str:
    """One reply as SMS text (before GSM-7 spelling): text, numbered options, one link."""
    lines = [reply.text.strip()] if reply.text.strip() else []
    lines.extend(numbered(reply.options))
    extra = _sms_link(reply)
    if extra:
        lines.append(extra)
    return "\n".join(lines)


def _sms_link(reply: Reply) -> str | None:
    """The reply's link; else its document's or image's, since SMS carries no attachment."""
    if reply.link:
        return None if reply.link in reply.text else link_line(reply.link, reply.link_label)
    if reply.document_url:
        return link_line(reply.document_url, reply.document_name)
    return reply.image_url


def render_sms(replies: Sequence[Reply]) -> list[str]:
    """The SMS bodies for one answer: joined when they fit, else split, none over budget."""
    texts = [to_gsm(reply_text(reply)).strip() for reply in replies]
    pieces = [chunk for text in texts if text for chunk in split(text, fits_sms)]
    return pack(pieces, "\n\n", fits_sms)


# --- splitting to a budget (shared with WhatsApp) ---------------------------------------------

SEPARATORS = ("\n\n", "\n", " ")


def split(text: str, fits: Callable[[str], bool], seps: Sequence[str] = SEPARATORS) -> list[str]:
    """`text` in pieces that each fit: at paragraphs, then lines, then words, then anywhere."""
    if fits(text):
        return [text]
    if not seps:
        return _cut(text, fits)
    sep, finer = seps[0], seps[1:]
    parts = (part.strip() for part in text.split(sep))
    return pack([piece for part in parts if part for piece in split(part, fits, finer)], sep, fits)


def pack(pieces: Iterable[str], sep: str, fits: Callable[[str], bool]) -> list[str]:
    """Consecutive pieces joined by `sep` as long as the result fits (each piece fits alone)."""
    bodies: list[str] = []
    for piece in pieces:
        if bodies and fits(bodies[-1] + sep + piece):
            bodies[-1] += sep + piece
        else:
            bodies.append(piece)
    return bodies


def _cut(text: str, fits: Callable[[str], bool]) -> list[str]:
    """Longest fitting prefixes, one after the other (a "word" longer than the budget)."""
    chunks: list[str] = []
    while text:
        end = _longest_fitting_prefix(text, fits)
        chunks.append(text[:end])
        text = text[end:]
    return chunks


def _longest_fitting_prefix(text: str, fits: Callable[[str], bool]) -> int:
    low, high = 1, len(text)  # a single character always fits any sane budget
    while low < high:
        middle = (low + high + 1) // 2
        if fits(text[:middle]):
            low = middle
        else:
            high = middle - 1
    return low
