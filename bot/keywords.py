"""Compliance keywords of the text channels: whole-message words that opt an address out, back
in, or ask for help (channels.md §2). A channel declares the set it honours (`Channel.keywords`);
the inbox marks a message with its keyword and `bot.compliance`, the turn's first step, acts.

CANCEL is a carrier opt-out word on SMS, so leaving a flow there is "never mind" or "menu".
Opting back in (START, UNSTOP, YES) only means that while the address is opted out: otherwise
"yes" is an ordinary answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

KeywordKind = Literal["opt_out", "opt_in", "help"]


@dataclass(frozen=True, slots=True)
class Keywords:
    """Whole-message words, matched case- and space-insensitively, trailing . or ! ignored."""

    opt_out: frozenset[str] = frozenset()
    opt_in: frozenset[str] = frozenset()
    help: frozenset[str] = frozenset()

    def kind_of(self, text: str) -> KeywordKind | None:
        word = " ".join(text.split()).strip(" .!").upper()
        if word in self.opt_out:
            return "opt_out"
        if word in self.opt_in:
            return "opt_in"
        if word in self.help:
            return "help"
        return None


NONE = Keywords()
SMS = Keywords(
    opt_out=frozenset(
        {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT", "BAJA"}
    ),
    opt_in=frozenset({"START", "UNSTOP", "YES"}),
    help=frozenset({"HELP", "INFO", "AYUDA"}),
)
# WhatsApp has no carrier keywords; billbot honours the plain ones itself (channels.md §3.1).
WHATSAPP = Keywords(
    opt_out=frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "BAJA"}),
    opt_in=frozenset({"START", "UNSTOP"}),
    help=frozenset({"HELP", "AYUDA"}),
)
