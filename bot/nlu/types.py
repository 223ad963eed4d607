"""The NLU's public result types.

The intent names are not listed here: the intent registry (`bot.registry.Registry`) is the one
list, and a model learns its labels from it. Only the fallback has a fixed name.
"""

from __future__ import annotations

from dataclasses import dataclass

OUT_OF_SCOPE = "out_of_scope"  # the answer below the confidence threshold (DESIGN.md §3)
# Two best intents this close are worth a "did you mean A or B?" (chosen on the held-out set,
# docs/nlu.md: wider asks more often than it rescues a mistake).
CLOSE_CALL_MARGIN = 0.10
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
    # A second request in the same message ("pay my bill and block my sim": `bar_sim`), to be
    # offered once the first (`intent`) is done; None when the message asks for one thing.
    also: str | None = None

    def entity(self, kind: str) -> Entity | None:
        """The first entity of `kind`, or None."""
        return next((e for e in self.entities if e.kind == kind), None)

    def did_you_mean(
        self, margin: float = CLOSE_CALL_MARGIN
    ) -> tuple[tuple[str, float], tuple[str, float]] | None:
        """The two best intents, with their confidences, when both are in scope and at most
        `margin` apart; otherwise None.

        On such a close call asking "did you mean A or B?" beats guessing one (or, below the
        threshold, giving up): the right intent is one of the two far more often than it is
        the first. Out of scope is never offered as a choice.
        """
        if len(self.ranking) < 2:
            return None
        first, second = self.ranking[0], self.ranking[1]
        if OUT_OF_SCOPE in (first[0], second[0]) or first[1] - second[1] > margin:
            return None
        return first, second
