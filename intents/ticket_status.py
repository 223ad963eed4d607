"""`ticket_status`: the customer's open tickets, one ticket's latest messages, and adding a
message to it or closing it (each confirmed first, each done once).

The billing core's `update_ticket` names a ticket by reference alone, so a ticket is only ever
looked at or changed after it is found among *this* account's tickets: a reference that is
someone else's gets exactly the "not found" of one that does not exist. See
docs/flows/ticket_status.md.

This module is the intent, its steps and how it reads the customer's answers; beside it:
`intents.ticket_status_view` (reading tickets), `intents.ticket_status_changes` (adding a
message, closing) and `intents.ticket_status_text` (what it says).
"""

from __future__ import annotations

import re
import uuid

from billing_client import Ticket
from bot.flow import Intent, TurnContext
from bot.menu import menu
from bot.types import Option, Reply
from intents.common import TRAINING
from intents.ticket_status_changes import ask_close, confirm_add, on_confirm_add, on_confirm_close
from intents.ticket_status_text import (
    ADD_LABEL,
    ASK_MESSAGE,
    CLOSE_LABEL,
    GIVE_UP,
    IS_CLOSED,
    MENU_LABEL,
    NONE,
    NOT_CAUGHT,
    NOT_FOUND,
    OTHERS_LABEL,
    WHAT_NEXT,
)
from intents.ticket_status_view import (
    account_tickets,
    active,
    detail,
    latest,
    new_ticket,
    ticket_list,
    ticket_messages,
)

__all__ = ["MENU_LABEL", "TicketStatusIntent"]

_REFERENCE = re.compile(r"\bT\s?-?\s?0*(\d{1,12})\b", re.IGNORECASE)
_CLOSE = re.compile(
    r"\b(close|closed|solved|fixed|resolved|done with it|cerrar|ci[eé]rra\w*|resuelt\w*|"
    r"arreglad\w*|solucionad\w*)\b",
    re.IGNORECASE,
)
_ADD = re.compile(
    r"\b(add|reply|respond|answer|message|update them|a[nñ]adir|a[nñ]ade|responder|mensaje)\b",
    re.IGNORECASE,
)
_OTHERS = re.compile(r"\b(other|another|list|otras?|lista)\b", re.IGNORECASE)
MIN_WORDS_AS_MESSAGE = 4  # a longer answer to "what next?" is taken as the message to add
MAX_COMMAND_WORDS = 7  # …unless it is short and says "close", "add" or "other"


class TicketStatusIntent(Intent):
    name = "ticket_status"
    menu_label = MENU_LABEL
    training_file = TRAINING / "ticket_status.yml"

    async def start(self, ctx: TurnContext) -> list[Reply]:
        assert ctx.account is not None  # the router gives strangers the fallback instead
        ctx.state.begin(self.name, "pick", flow_id=uuid.uuid4().hex, misses=0)
        tickets = await account_tickets(ctx)
        named = _reference_in(ctx.text)
        if named is not None and not ctx.picked_option:
            return await self._open(ctx, tickets, named)
        shown = active(tickets)
        if not shown:
            ctx.state.finish()
            return [ctx.reply(ctx.say(NONE), new_ticket(ctx))]
        if len(shown) == 1:
            return await self._show(ctx, tickets, shown[0])
        return [ticket_list(ctx, shown)]

    async def resume(self, ctx: TurnContext) -> list[Reply]:
        handlers = {
            "pick": self._on_pick,
            "act": self._on_act,
            "write": self._on_write,
            "confirm_add": on_confirm_add,
            "confirm_close": on_confirm_close,
        }
        return await handlers[ctx.state.step or "pick"](ctx)

    async def prompt(self, ctx: TurnContext) -> list[Reply]:
        """The question of the current step again (after "back")."""
        tickets = await account_tickets(ctx)
        ticket = tickets.get(str(ctx.state.slots.get("reference")))
        if ctx.state.step == "pick" or ticket is None:
            ctx.state.goto("pick")
            return [ticket_list(ctx, active(tickets))]
        if ctx.state.step == "write":
            return [ctx.reply(ctx.say(ASK_MESSAGE, reference=ticket.reference))]
        return await self._show(ctx, tickets, ticket)

    def expects_free_text(self, step: str | None) -> bool:
        return step == "write"

    # --- choosing a ticket ----------------------------------------------------------------------
    async def _on_pick(self, ctx: TurnContext) -> list[Reply]:
        tickets = await account_tickets(ctx)
        named = _picked(ctx)
        if named is None:
            return self._missed(ctx, ctx.say(NOT_CAUGHT), ticket_list(ctx, active(tickets)))
        return await self._open(ctx, tickets, named)

    async def _open(self, ctx: TurnContext, tickets: dict[str, Ticket], named: str) -> list[Reply]:
        ticket = tickets.get(named)
        if ticket is not None:
            ctx.state.slots["misses"] = 0  # a new question: one more re-prompt allowed
            return await self._show(ctx, tickets, ticket)
        # Not this account's, or no such ticket: the same answer either way.
        not_found = ctx.say(NOT_FOUND, reference=named)
        if not active(tickets):
            ctx.state.finish()
            return [ctx.reply(f"{not_found} {ctx.say(NONE)}", new_ticket(ctx))]
        ctx.state.goto("pick")
        return self._missed(ctx, not_found, ticket_list(ctx, active(tickets)))

    async def _show(
        self, ctx: TurnContext, tickets: dict[str, Ticket], ticket: Ticket
    ) -> list[Reply]:
        """The ticket, its latest messages and what can be done with it."""
        ctx.state.slots.update(reference=ticket.reference)
        messages = await ticket_messages(ctx, ticket)
        text = "\n".join([detail(ctx, ticket), *latest(ctx, messages)])
        if ticket.status == "closed":
            ctx.state.finish()
            return [ctx.reply(f"{text}\n{ctx.say(IS_CLOSED)}", new_ticket(ctx))]
        ctx.state.goto("act")
        options = [Option(ctx.say(ADD_LABEL), "add"), Option(ctx.say(CLOSE_LABEL), "close")]
        if any(other.reference != ticket.reference for other in active(tickets)):
            options.append(Option(ctx.say(OTHERS_LABEL), "list"))
        return [ctx.reply(f"{text}\n{ctx.say(WHAT_NEXT)}", *options)]

    # --- what to do with it ---------------------------------------------------------------------
    async def _on_act(self, ctx: TurnContext) -> list[Reply]:
        reference = str(ctx.state.slots["reference"])
        choice = _action(ctx.text)
        if choice == "add":
            ctx.state.goto("write")
            return [ctx.reply(ctx.say(ASK_MESSAGE, reference=reference))]
        if choice == "close":
            ctx.state.goto("confirm_close")
            return [await ask_close(ctx)]
        if choice is None and len(ctx.text.split()) >= MIN_WORDS_AS_MESSAGE:
            return confirm_add(ctx, ctx.text)  # "tell them it's still down"
        tickets = await account_tickets(ctx)
        if choice == "list":
            ctx.state.slots["misses"] = 0
            ctx.state.goto("pick")
            return [ticket_list(ctx, active(tickets))]
        ticket = tickets.get(reference)
        if ticket is None:
            ctx.state.finish()
            return [ctx.reply(ctx.say(NOT_FOUND, reference=reference))]
        [shown] = await self._show(ctx, tickets, ticket)
        return self._missed(ctx, ctx.say(NOT_CAUGHT), shown)

    async def _on_write(self, ctx: TurnContext) -> list[Reply]:
        return confirm_add(ctx, ctx.text)

    def _missed(self, ctx: TurnContext, why: str, again: Reply) -> list[Reply]:
        """Say why and ask once more; after a second miss, leave the flow for the menu."""
        misses = int(ctx.state.slots.get("misses", 0)) + 1
        if misses >= 2:
            ctx.state.finish()
            return [menu(ctx, f"{why} {ctx.say(GIVE_UP)}")]
        ctx.state.slots["misses"] = misses
        return [ctx.reply(f"{why}\n{again.text}", *again.options)]


# --- reading the customer's answers -------------------------------------------------------------
def _reference_in(text: str) -> str | None:
    """ "T-000123", "t123", "ticket T 123" → "T-000123"."""
    found = _REFERENCE.search(text)
    return None if found is None else f"T-{int(found.group(1)):06d}"


def _picked(ctx: TurnContext) -> str | None:
    """The reference of the ticket picked: an option, a typed reference or its digits."""
    text = ctx.text.strip()
    if text.startswith("ticket:"):
        return text.removeprefix("ticket:")
    digits = text.strip(" .#").lstrip("0")
    if text.strip(" .#").isdigit() and len(text.strip(" .#")) >= 3 and digits:
        return f"T-{int(digits):06d}"
    return _reference_in(text)


def _action(text: str) -> str | None:
    """What a short answer to "what next?" asks for: "add", "close", "list" or None."""
    if text in ("add", "close", "list"):
        return text
    if len(text.split()) > MAX_COMMAND_WORDS:  # a longer text is a message, not a command
        return None
    for action, words in (("close", _CLOSE), ("add", _ADD), ("list", _OTHERS)):
        if words.search(text):
            return action
    return None
