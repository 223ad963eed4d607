"""The NLU's public result types.

The intent names are not listed here: the intent registry (`bot.registry.Registry`) is the one
list, and a model learns its labels from it. Only the fallback has a fixed name.
"""

from __future__ import annotations

from dataclasses import dataclass

OUT_OF_SCOPE = "out_of_scope"  # the answer below the confidence threshold (DESIGN.md §3)
ENTITY_KINDS: tuple[str, ...] = ("phone", "amount", "yes_no", "option")


@dataclass(frozen=True, slots=True)
class Entity:
    """Something useful found in a message.

    phone: E.164 str; amount: decimal string ("20.00"); yes_no: bool; option: int (1-based).
    """

    kind: str
    value: str | int | bool
    text: str  # the span as written


@dataclass(frozen=True, slots=True)
class ParseResult:
    """What the NLU made of one message."""

    text: str
    intent: str  # a canonical name; OUT_OF_SCOPE when below the threshold
    confidence: float  # 0..1
    entities: tuple[Entity, ...]
    ranking: tuple[tuple[str, float], ...]  # intents, best first

    def entity(self, kind: str) -> Entity | None:
        """The first entity of `kind`, or None."""
        return next((e for e in self.entities if e.kind == kind), None)
