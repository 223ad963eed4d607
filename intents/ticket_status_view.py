"""Reading the customer's tickets in the `ticket_status` flow: the account's own tickets (the
only ones it ever looks at), the list of open ones, one ticket and its latest messages."""

from __future__ import annotations

from billing_client import InvalidRequestError, Ticket, TicketMessage
from bot.flow import TurnContext
from bot.types import Option, Reply
from intents.ticket_status_text import (
    AUTHOR,
    DETAIL,
    HEADER,
    LATEST,
    MESSAGE_ROW,
    NEW_LABEL,
    PICK,
    ROW,
    STATUS,
)

SHOWN_MESSAGES = 3
MAX_BODY = 160  # characters of each message shown
ACTIVE = ("open", "pending_customer", "resolved")


async def account_tickets(ctx: TurnContext) -> dict[str, Ticket]:
    """The account's tickets by reference, the latest update first."""
    assert ctx.account is not None
    tickets = await ctx.billing.list_tickets(ctx.account.id)
    tickets.sort(key=lambda t: t.updated_at or t.created_at, reverse=True)
    return {ticket.reference: ticket for ticket in tickets}


async def own_ticket(ctx: TurnContext, reference: str) -> Ticket | None:
    """The account's ticket with this reference, checked again right before a change."""
    return (await account_tickets(ctx)).get(reference)


async def ticket_messages(ctx: TurnContext, ticket: Ticket) -> list[TicketMessage]:
    """The ticket's conversation; none from a billing system that cannot tell."""
    assert ctx.account is not None
    try:
        return await ctx.billing.ticket_messages(ctx.account.id, ticket.reference)
    except InvalidRequestError:
        return []


def active(tickets: dict[str, Ticket]) -> list[Ticket]:
    """The tickets not closed yet (a resolved one may still be closed or answered)."""
    return [ticket for ticket in tickets.values() if ticket.status in ACTIVE]


def new_ticket(ctx: TurnContext) -> Option:
    """The way on when there is nothing to follow up: report a new problem."""
    return Option(ctx.say(NEW_LABEL), "intent:open_ticket")


def ticket_list(ctx: TurnContext, shown: list[Ticket]) -> Reply:
    """The open tickets, one row and one option each, and "which one?"."""
    rows = [ctx.say(HEADER), *(_row(ctx, ticket) for ticket in shown)]
    example = shown[0].reference if shown else "T-000123"
    text = "\n".join([*rows, ctx.say(PICK, example=example)])
    options = [
        Option(f"{t.reference} {summary(t.subject, 40)}", f"ticket:{t.reference}") for t in shown
    ]
    return ctx.reply(text, *options)


def _row(ctx: TurnContext, ticket: Ticket) -> str:
    return ctx.say(
        ROW,
        reference=ticket.reference,
        subject=summary(ticket.subject, 60),
        status=ctx.say(STATUS[ticket.status]),
        when=ctx.datetime(ticket.updated_at or ticket.created_at),
    )


def detail(ctx: TurnContext, ticket: Ticket) -> str:
    """One ticket's reference, subject, status and last update."""
    return ctx.say(
        DETAIL,
        reference=ticket.reference,
        subject=summary(ticket.subject, 80),
        status=ctx.say(STATUS[ticket.status]),
        when=ctx.datetime(ticket.updated_at or ticket.created_at),
    )


def latest(ctx: TurnContext, messages: list[TicketMessage]) -> list[str]:
    """The last few messages of the ticket's conversation, each cut short."""
    if not messages:
        return []
    rows = [
        ctx.say(
            MESSAGE_ROW,
            who=ctx.say(AUTHOR.get(m.author, AUTHOR["agent"])),
            when=ctx.datetime(m.created_at),
            body=summary(m.body, MAX_BODY),
        )
        for m in messages[-SHOWN_MESSAGES:]
    ]
    return [ctx.say(LATEST), *rows]


def summary(text: str, limit: int = 200) -> str:
    """`text` on one line, at most `limit` characters (an ellipsis when cut)."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
