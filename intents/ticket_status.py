"""`ticket_status`: the customer's open tickets, one ticket's latest messages, and adding a
message to it or closing it (each confirmed first, each done once).

The billing core's `update_ticket` names a ticket by reference alone, so a ticket is only ever
looked at or changed after it is found among *this* account's tickets: a reference that is
someone else's gets exactly the "not found" of one that does not exist. See
docs/flows/ticket_status.md.
"""

from __future__ import annotations

import hashlib
import re
import uuid

from billing_client import InvalidRequestError, Ticket, TicketMessage, TicketUpdate
from billing_client.types import TicketStatus
from bot.flow import Intent, TurnContext
from bot.menu import menu
from bot.types import Option, Reply
from intents.common import TRAINING, answer_is_yes, yes_no

NONE = {
    "en": "You don't have any open tickets. If something isn't working, I can open one for you.",
    "es": "No tienes incidencias abiertas. Si algo no funciona, puedo abrirte una.",
}
HEADER = {"en": "Your open tickets:", "es": "Tus incidencias abiertas:"}
ROW = {
    "en": "• {reference} — {subject}: {status}, last update {when}",
    "es": "• {reference} — {subject}: {status}, última actualización {when}",
}
PICK = {
    "en": "Which one? Pick a number or type its reference (like {example}).",
    "es": "¿Cuál? Elige un número o escribe su referencia (como {example}).",
}
NOT_FOUND = {
    "en": "I couldn't find a ticket {reference} on your account.",
    "es": "No encuentro ninguna incidencia {reference} en tu cuenta.",
}
NOT_CAUGHT = {
    "en": "Sorry, I didn't catch which ticket you mean.",
    "es": "Perdona, no he entendido a qué incidencia te refieres.",
}
GIVE_UP = {
    "en": "Let's start again. Here's what I can do:",
    "es": "Empecemos de nuevo. Esto es lo que puedo hacer:",
}
STATUS = {
    "open": {"en": "open, our team is on it", "es": "abierta, nuestro equipo está en ello"},
    "pending_customer": {"en": "waiting for your reply", "es": "esperando tu respuesta"},
    "resolved": {"en": "resolved", "es": "resuelta"},
    "closed": {"en": "closed", "es": "cerrada"},
}
DETAIL = {
    "en": "{reference} — {subject}\nStatus: {status} (last update {when})",
    "es": "{reference} — {subject}\nEstado: {status} (última actualización {when})",
}
LATEST = {"en": "Latest messages:", "es": "Últimos mensajes:"}
MESSAGE_ROW = {"en": "• {who}, {when}: {body}", "es": "• {who}, {when}: {body}"}
AUTHOR = {
    "customer": {"en": "You", "es": "Tú"},
    "agent": {"en": "Our team", "es": "Nuestro equipo"},
    "bot": {"en": "billbot", "es": "billbot"},
}
WHAT_NEXT = {"en": "What would you like to do?", "es": "¿Qué quieres hacer?"}
IS_CLOSED = {
    "en": "This ticket is closed. If the problem is back, I can open a new one.",
    "es": "Esta incidencia está cerrada. Si el problema ha vuelto, puedo abrir una nueva.",
}
ADD_LABEL = {"en": "Add a message", "es": "Añadir un mensaje"}
CLOSE_LABEL = {"en": "Close this ticket", "es": "Cerrar esta incidencia"}
OTHERS_LABEL = {"en": "My other tickets", "es": "Mis otras incidencias"}
NEW_LABEL = {"en": "Report a problem", "es": "Informar de un problema"}
ASK_MESSAGE = {
    "en": "Type your message for {reference} and I'll add it to the ticket.",
    "es": "Escribe tu mensaje para {reference} y lo añadiré a la incidencia.",
}
CONFIRM_ADD = {
    "en": 'Add this message to {reference}: "{summary}"? Our team will see it and reply here.',
    "es": '¿Añado este mensaje a {reference}: "{summary}"? Nuestro equipo lo verá y te '
    "responderá por aquí.",
}
ADDED = {
    "en": "Done: your message is on {reference}. Our team will reply here.",
    "es": "Hecho: tu mensaje está en {reference}. Nuestro equipo te responderá por aquí.",
}
NOT_ADDED = {
    "en": "OK, I didn't add anything to {reference}.",
    "es": "De acuerdo, no he añadido nada a {reference}.",
}
CONFIRM_CLOSE = {
    "en": 'Close {reference} ("{subject}")? Our team will stop working on it. If the problem '
    "comes back, you can open a new ticket.",
    "es": '¿Cierro {reference} ("{subject}")? Nuestro equipo dejará de trabajar en ella. Si el '
    "problema vuelve, puedes abrir una incidencia nueva.",
}
CLOSED = {
    "en": "{reference} is closed. Thanks for letting us know!",
    "es": "{reference} está cerrada. ¡Gracias por avisarnos!",
}
KEPT_OPEN = {"en": "OK, {reference} stays open.", "es": "De acuerdo, {reference} sigue abierta."}
YES_OR_NO = {"en": "Please answer yes or no.", "es": "Responde sí o no."}
CLOSED_NOTE = {"en": "Closed by the customer in chat.", "es": "Cerrada por el cliente en el chat."}

MENU_LABEL = {"en": "My tickets", "es": "Mis incidencias"}

SHOWN_MESSAGES = 3
MAX_BODY = 160  # characters of each message shown
MAX_MESSAGE = 2000  # what the web view accepts too
ACTIVE = ("open", "pending_customer", "resolved")
WITH_CUSTOMER = ("pending_customer", "resolved")  # a message from the customer reopens these
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
        tickets = await _tickets(ctx)
        named = _reference_in(ctx.text)
        if named is not None and not ctx.picked_option:
            return await self._open(ctx, tickets, named)
        active = _active(tickets)
        if not active:
            ctx.state.finish()
            return [ctx.reply(ctx.say(NONE), _new_ticket(ctx))]
        if len(active) == 1:
            return await self._show(ctx, tickets, active[0])
        return [_list(ctx, active)]

    async def resume(self, ctx: TurnContext) -> list[Reply]:
        handlers = {
            "pick": self._on_pick,
            "act": self._on_act,
            "write": self._on_write,
            "confirm_add": self._on_confirm_add,
            "confirm_close": self._on_confirm_close,
        }
        return await handlers[ctx.state.step or "pick"](ctx)

    async def prompt(self, ctx: TurnContext) -> list[Reply]:
        """The question of the current step again (after "back")."""
        tickets = await _tickets(ctx)
        ticket = tickets.get(str(ctx.state.slots.get("reference")))
        if ctx.state.step == "pick" or ticket is None:
            ctx.state.goto("pick")
            return [_list(ctx, _active(tickets))]
        if ctx.state.step == "write":
            return [ctx.reply(ctx.say(ASK_MESSAGE, reference=ticket.reference))]
        return await self._show(ctx, tickets, ticket)

    def expects_free_text(self, step: str | None) -> bool:
        return step == "write"

    # --- choosing a ticket ----------------------------------------------------------------------
    async def _on_pick(self, ctx: TurnContext) -> list[Reply]:
        tickets = await _tickets(ctx)
        named = _picked(ctx)
        if named is None:
            return self._missed(ctx, ctx.say(NOT_CAUGHT), _list(ctx, _active(tickets)))
        return await self._open(ctx, tickets, named)

    async def _open(self, ctx: TurnContext, tickets: dict[str, Ticket], named: str) -> list[Reply]:
        ticket = tickets.get(named)
        if ticket is not None:
            ctx.state.slots["misses"] = 0  # a new question: one more re-prompt allowed
            return await self._show(ctx, tickets, ticket)
        # Not this account's, or no such ticket: the same answer either way.
        not_found = ctx.say(NOT_FOUND, reference=named)
        if not _active(tickets):
            ctx.state.finish()
            return [ctx.reply(f"{not_found} {ctx.say(NONE)}", _new_ticket(ctx))]
        ctx.state.goto("pick")
        return self._missed(ctx, not_found, _list(ctx, _active(tickets)))

    async def _show(
        self, ctx: TurnContext, tickets: dict[str, Ticket], ticket: Ticket
    ) -> list[Reply]:
        """The ticket, its latest messages and what can be done with it."""
        ctx.state.slots.update(reference=ticket.reference)
        messages = await _messages(ctx, ticket)
        text = "\n".join([_detail(ctx, ticket), *_latest(ctx, messages)])
        if ticket.status == "closed":
            ctx.state.finish()
            return [ctx.reply(f"{text}\n{ctx.say(IS_CLOSED)}", _new_ticket(ctx))]
        ctx.state.goto("act")
        options = [Option(ctx.say(ADD_LABEL), "add"), Option(ctx.say(CLOSE_LABEL), "close")]
        if any(other.reference != ticket.reference for other in _active(tickets)):
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
            return [await self._ask_close(ctx)]
        if choice is None and len(ctx.text.split()) >= MIN_WORDS_AS_MESSAGE:
            return self._confirm_add(ctx, ctx.text)  # "tell them it's still down"
        tickets = await _tickets(ctx)
        if choice == "list":
            ctx.state.slots["misses"] = 0
            ctx.state.goto("pick")
            return [_list(ctx, _active(tickets))]
        ticket = tickets.get(reference)
        if ticket is None:
            ctx.state.finish()
            return [ctx.reply(ctx.say(NOT_FOUND, reference=reference))]
        [shown] = await self._show(ctx, tickets, ticket)
        return self._missed(ctx, ctx.say(NOT_CAUGHT), shown)

    async def _on_write(self, ctx: TurnContext) -> list[Reply]:
        return self._confirm_add(ctx, ctx.text)

    def _confirm_add(self, ctx: TurnContext, text: str) -> list[Reply]:
        draft = text.strip()[:MAX_MESSAGE]
        # The key comes from the turn that wrote the message: confirming it twice, or a retry
        # of the confirming turn, adds it once.
        turn = f"{ctx.state.slots['flow_id']}:{ctx.message.channel}:{ctx.message.external_id}"
        ctx.state.slots.update(draft=draft, draft_key=hashlib.sha256(turn.encode()).hexdigest())
        ctx.state.goto("confirm_add")
        return [self._ask_add(ctx)]

    def _ask_add(self, ctx: TurnContext, lead: str = "") -> Reply:
        reference, draft = ctx.state.slots["reference"], str(ctx.state.slots["draft"])
        text = ctx.say(CONFIRM_ADD, reference=reference, summary=_summary(draft))
        return ctx.reply(f"{lead} {text}".strip(), *yes_no(ctx))

    async def _on_confirm_add(self, ctx: TurnContext) -> list[Reply]:
        slots = ctx.state.slots
        reference = str(slots["reference"])
        answer = answer_is_yes(ctx)
        if answer is None:
            return [self._ask_add(ctx, ctx.say(YES_OR_NO))]
        ctx.state.finish()
        if not answer:
            return [ctx.reply(ctx.say(NOT_ADDED, reference=reference))]
        ticket = await self._own(ctx, reference)
        if ticket is None:
            return [ctx.reply(ctx.say(NOT_FOUND, reference=reference))]
        if ticket.status == "closed":  # closed meanwhile (by the team, or in another chat)
            return [ctx.reply(ctx.say(IS_CLOSED), _new_ticket(ctx))]
        # The customer writing again puts the ticket back with the team.
        reopen: TicketStatus | None = "open" if ticket.status in WITH_CUSTOMER else None
        update = TicketUpdate(reference, reopen, str(slots["draft"]), author="customer")
        key = f"ticket_status:add:{slots['draft_key']}"
        await ctx.billing.update_ticket(update, idempotency_key=key, now=ctx.now)
        return [ctx.reply(ctx.say(ADDED, reference=reference))]

    async def _ask_close(self, ctx: TurnContext, lead: str = "") -> Reply:
        reference = str(ctx.state.slots["reference"])
        ticket = await self._own(ctx, reference)
        subject = _summary(ticket.subject, 80) if ticket is not None else ""
        text = ctx.say(CONFIRM_CLOSE, reference=reference, subject=subject)
        return ctx.reply(f"{lead} {text}".strip(), *yes_no(ctx))

    async def _on_confirm_close(self, ctx: TurnContext) -> list[Reply]:
        reference = str(ctx.state.slots["reference"])
        answer = answer_is_yes(ctx)
        if answer is None:
            return [await self._ask_close(ctx, ctx.say(YES_OR_NO))]
        flow_id = ctx.state.slots["flow_id"]
        ctx.state.finish()
        if not answer:
            return [ctx.reply(ctx.say(KEPT_OPEN, reference=reference))]
        ticket = await self._own(ctx, reference)
        if ticket is None:
            return [ctx.reply(ctx.say(NOT_FOUND, reference=reference))]
        if ticket.status == "closed":  # nothing to change: closed meanwhile
            return [ctx.reply(ctx.say(CLOSED, reference=reference))]
        note = ctx.say(CLOSED_NOTE)
        update = TicketUpdate(reference, "closed", note, author="customer")
        key = f"ticket_status:close:{flow_id}:{reference}"
        await ctx.billing.update_ticket(update, idempotency_key=key, now=ctx.now)
        return [ctx.reply(ctx.say(CLOSED, reference=reference))]

    # --- helpers --------------------------------------------------------------------------------
    async def _own(self, ctx: TurnContext, reference: str) -> Ticket | None:
        """The account's ticket with this reference, checked again right before a change."""
        return (await _tickets(ctx)).get(reference)

    def _missed(self, ctx: TurnContext, why: str, again: Reply) -> list[Reply]:
        """Say why and ask once more; after a second miss, leave the flow for the menu."""
        misses = int(ctx.state.slots.get("misses", 0)) + 1
        if misses >= 2:
            ctx.state.finish()
            return [menu(ctx, f"{why} {ctx.say(GIVE_UP)}")]
        ctx.state.slots["misses"] = misses
        return [ctx.reply(f"{why}\n{again.text}", *again.options)]


async def _tickets(ctx: TurnContext) -> dict[str, Ticket]:
    """The account's tickets by reference, the latest update first."""
    assert ctx.account is not None
    tickets = await ctx.billing.list_tickets(ctx.account.id)
    tickets.sort(key=lambda t: t.updated_at or t.created_at, reverse=True)
    return {ticket.reference: ticket for ticket in tickets}


async def _messages(ctx: TurnContext, ticket: Ticket) -> list[TicketMessage]:
    """The ticket's conversation; none from a billing system that cannot tell."""
    assert ctx.account is not None
    try:
        return await ctx.billing.ticket_messages(ctx.account.id, ticket.reference)
    except InvalidRequestError:
        return []


def _active(tickets: dict[str, Ticket]) -> list[Ticket]:
    """The tickets not closed yet (a resolved one may still be closed or answered)."""
    return [ticket for ticket in tickets.values() if ticket.status in ACTIVE]


def _new_ticket(ctx: TurnContext) -> Option:
    return Option(ctx.say(NEW_LABEL), "intent:open_ticket")


def _list(ctx: TurnContext, active: list[Ticket]) -> Reply:
    rows = [ctx.say(HEADER), *(_row(ctx, ticket) for ticket in active)]
    example = active[0].reference if active else "T-000123"
    text = "\n".join([*rows, ctx.say(PICK, example=example)])
    options = [
        Option(f"{t.reference} {_summary(t.subject, 40)}", f"ticket:{t.reference}") for t in active
    ]
    return ctx.reply(text, *options)


def _row(ctx: TurnContext, ticket: Ticket) -> str:
    return ctx.say(
        ROW,
        reference=ticket.reference,
        subject=_summary(ticket.subject, 60),
        status=ctx.say(STATUS[ticket.status]),
        when=ctx.datetime(ticket.updated_at or ticket.created_at),
    )


def _detail(ctx: TurnContext, ticket: Ticket) -> str:
    return ctx.say(
        DETAIL,
        reference=ticket.reference,
        subject=_summary(ticket.subject, 80),
        status=ctx.say(STATUS[ticket.status]),
        when=ctx.datetime(ticket.updated_at or ticket.created_at),
    )


def _latest(ctx: TurnContext, messages: list[TicketMessage]) -> list[str]:
    if not messages:
        return []
    rows = [
        ctx.say(
            MESSAGE_ROW,
            who=ctx.say(AUTHOR.get(m.author, AUTHOR["agent"])),
            when=ctx.datetime(m.created_at),
            body=_summary(m.body, MAX_BODY),
        )
        for m in messages[-SHOWN_MESSAGES:]
    ]
    return [ctx.say(LATEST), *rows]


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


def _summary(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
