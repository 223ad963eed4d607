"""Small helpers shared by intent handlers: yes/no questions, line labels, training files."""

from __future__ import annotations

from pathlib import Path

from billing_client import Line
from bot.flow import TurnContext
from bot.phones import display
from bot.types import Option

# Each intent's Rasa-format training examples: intents/nlu/<name>.yml.
TRAINING = Path(__file__).resolve().parent / "nlu"
YES = {"en": "Yes", "es": "Sí"}
NO = {"en": "No", "es": "No"}


def yes_no(ctx: TurnContext) -> tuple[Option, Option]:
    return Option(ctx.say(YES), "yes"), Option(ctx.say(NO), "no")


def answer_is_yes(ctx: TurnContext) -> bool | None:
    """True/False for a yes/no answer (typed, numbered or tapped); None when unclear."""
    if ctx.text in ("yes", "no"):
        return ctx.text == "yes"
    entity = ctx.parse.entity("yes_no")
    return None if entity is None else bool(entity.value)


def line_label(line: Line) -> str:
    status = " (barred)" if line.status == "barred" else ""
    return f"{display(line.msisdn)} — {line.holder_name}{status}"
