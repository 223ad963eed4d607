"""Long lists of options, a page at a time: at most PAGE_SIZE options and "More".

A text channel numbers options and the customer answers with a digit, so a list longer than
nine (and WhatsApp's lists of ten) is cut into pages. The options not shown yet wait in the
flow's state; "more" (typed, or the option tapped) shows the next page with the same text.
Outside a flow there is no state to keep them in; no list there is that long (the menu).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from bot.flow import FlowState
from bot.i18n import say
from bot.types import Option, Reply

PAGE_SIZE = 8
MORE = "more"
MORE_LABEL = {"en": "More", "es": "Más"}
_KEY = "_more"  # in the flow's slots: the text and the options still to show


def paginate(reply: Reply, state: FlowState, locale: str) -> Reply:
    """`reply` with at most PAGE_SIZE options, the rest kept for "more"."""
    if len(reply.options) <= PAGE_SIZE + 1 or not state.active:
        state.slots.pop(_KEY, None)
        return reply
    shown, rest = reply.options[:PAGE_SIZE], reply.options[PAGE_SIZE:]
    state.slots[_KEY] = {"text": reply.text, "options": [[o.label, o.value] for o in rest]}
    more = Option(say(MORE_LABEL, locale), MORE)
    return replace(reply, options=(*shown, more))


def next_page(state: FlowState, locale: str) -> Reply | None:
    """The next page after "more", or None when nothing is waiting."""
    waiting: Any = state.slots.pop(_KEY, None)
    if not waiting:
        return None
    options = tuple(Option(str(label), str(value)) for label, value in waiting["options"])
    return paginate(Reply(text=str(waiting["text"]), options=options), state, locale)
