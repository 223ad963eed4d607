"""The numbered menu of what billbot can do, listed from the registry."""

from __future__ import annotations

from bot.flow import TurnContext
from bot.types import Option, Reply

MENU_HEADING = {"en": "Here's what I can do:", "es": "Esto es lo que puedo hacer:"}


def menu_options(ctx: TurnContext) -> tuple[Option, ...]:
    """One option per intent with a menu label; picking one starts that intent. What the
    operator turned off is not offered (`bot.features`)."""
    entries = [
        (name, label)
        for name, label in ctx.registry.menu_entries
        if ctx.allows(ctx.registry.feature_of(name))
    ]
    return tuple(Option(ctx.say(label), f"intent:{name}") for name, label in entries)


def menu(ctx: TurnContext, heading: str | None = None) -> Reply:
    """The numbered list of things billbot can do."""
    return ctx.reply(heading or ctx.say(MENU_HEADING), *menu_options(ctx))
