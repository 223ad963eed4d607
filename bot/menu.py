"""The numbered menu of what billbot can do, listed from the registry, a page at a time.

A text channel numbers options and the customer answers with one digit, so a page of the menu
never has more than nine: up to eight things billbot can do, in registry order (the most asked
for first), and "9. More…" for the next page. The last page offers "Back to the start" instead.
A menu of nine or fewer (an operator who switched things off) is one page, as it always was.

The page asked for travels in the option's value ("menu:2"), so paging keeps no state: a
number, a tapped chip or "more" typed after a page all show the next one. Whatever page is
showing, saying what you want in words still works: the NLU knows every intent.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.flow import TurnContext
from bot.i18n import Messages
from bot.types import Option, Reply

PAGE_SIZE = 8  # entries a page shows when there is more than one page; the 9th is navigation
PAGE_PREFIX = "menu:"  # an option's value "menu:2": show the menu's second page
MENU_HEADING = {"en": "Here's what I can do:", "es": "Esto es lo que puedo hacer:"}
MORE_HEADING = {
    "en": 'More things I can do (page {page} of {pages}). Type "menu" for the start:',
    "es": 'Más cosas que puedo hacer (página {page} de {pages}). Escribe "menú" para volver '
    "al principio:",
}
MORE_LABEL = {"en": "More…", "es": "Más…"}
START_LABEL = {"en": "Back to the start", "es": "Volver al principio"}
_MORE_WORDS = frozenset({"more", "more options", "next", "más", "mas", "siguiente"})


def menu_entries(ctx: TurnContext) -> list[tuple[str, Messages]]:
    """(intent, label) of everything the menu lists: what the operator turned off is left out
    (`bot.features`), and what does not apply to the customer's kind of account."""
    return [
        (name, label)
        for name, label in ctx.registry.menu_entries
        if ctx.allows(ctx.registry.feature_of(name)) and _applies(ctx, name)
    ]


def _applies(ctx: TurnContext, name: str) -> bool:
    """Whether the intent is for this customer's kind of account (prepaid, postpaid); a
    customer not identified yet sees everything."""
    kinds = ctx.registry.billing_types_of(name)
    return kinds is None or ctx.account is None or ctx.account.billing_type in kinds


def menu_labels(ctx: TurnContext) -> list[str]:
    """The menu's labels in the customer's language, every page's, in menu order."""
    return [ctx.say(label) for _, label in menu_entries(ctx)]


def page_count(ctx: TurnContext) -> int:
    entries = len(menu_entries(ctx))
    return 1 if entries <= PAGE_SIZE + 1 else -(-entries // PAGE_SIZE)


def menu_options(ctx: TurnContext, page: int = 1) -> tuple[Option, ...]:
    """The options of one page: its entries (picking one starts that intent), then "More…"
    or, on the last of several pages, "Back to the start"."""
    entries = menu_entries(ctx)
    pages = page_count(ctx)
    if pages == 1:
        return tuple(Option(ctx.say(label), f"intent:{name}") for name, label in entries)
    page = min(max(page, 1), pages)
    shown = entries[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    options = [Option(ctx.say(label), f"intent:{name}") for name, label in shown]
    if page < pages:
        options.append(Option(ctx.say(MORE_LABEL), f"{PAGE_PREFIX}{page + 1}"))
    else:
        options.append(Option(ctx.say(START_LABEL), f"{PAGE_PREFIX}1"))
    return tuple(options)


def menu(ctx: TurnContext, heading: str | None = None, *, page: int = 1) -> Reply:
    """One page of the numbered list of things billbot can do (the first by default)."""
    pages = page_count(ctx)
    page = min(max(page, 1), pages)
    if page == 1:
        text = heading or ctx.say(MENU_HEADING)
    else:
        text = ctx.say(MORE_HEADING, page=page, pages=pages)
    return ctx.reply(text, *menu_options(ctx, page))


def asked_page(text: str, offered: Sequence[str]) -> int | None:
    """The menu page a message asks for: a page's option picked ("menu:2", by number or tap),
    or "more" typed right after a page that offered one. None: not a menu page."""
    value = text.strip()
    if value.startswith(PAGE_PREFIX):
        number = value.removeprefix(PAGE_PREFIX)
        return int(number) if number.isdigit() and len(number) <= 2 else 1
    if value.lower().strip(" .!…") in _MORE_WORDS:
        more = [o for o in offered if o.startswith(PAGE_PREFIX) and o != f"{PAGE_PREFIX}1"]
        return asked_page(more[0], ()) if more else None
    return None
