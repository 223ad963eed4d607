"""The changes of the `ticket_status` flow: add the customer's message to a ticket, or close
it. Each is confirmed first, checked again against the account's own tickets right before it
is made, and made once (an idempotency key from the flow and the turn that asked for it)."""

from __future__ import annotations

import hashlib

from billing_client import TicketUpdate
from billing_client.types import TicketStatus
from bot.flow import TurnContext
from bot.types import Reply
from intents.common import answer_is_yes, yes_no
from intents.ticket_status_text import (
    ADDED,
    CLOSED,
    CLOSED_NOTE,
    CONFIRM_ADD,
    CONFIRM_CLOSE,
    IS_CLOSED,
    KEPT_OPEN,
    NOT_ADDED,
    NOT_FOUND,
    YES_OR_NO,
)
from intents.ticket_status_view import new_ticket, own_ticket, summary

MAX_MESSAGE = 2000  # what the web view accepts too
WITH_CUSTOMER = ("pending_customer", "resolved")  # a message from the customer reopens these


def confirm_add(ctx: TurnContext, text: str) -> list[Reply]:
    """Keep `text` as the draft to add and ask to confirm it (step confirm_add)."""
    draft = text.strip()[:MAX_MESSAGE]
    # The key comes from the turn that wrote the message: confirming it twice, or a retry
    # of the confirming turn, adds it once.
    turn = f"{ctx.state.slots['flow_id']}:{ctx.message.channel}:{ctx.message.external_id}"
    ctx.state.slots.update(draft=draft, draft_key=hashlib.sha256(turn.encode()).hexdigest())
    ctx.state.goto("confirm_add")
    return [_ask_add(ctx)]


def _ask_add(ctx: TurnContext, lead: str = "") -> Reply:
    reference, draft = ctx.state.slots["reference"], str(ctx.state.slots["draft"])
    text = ctx.say(CONFIRM_ADD, reference=reference, summary=summary(draft))
    return ctx.reply(f"{lead} {text}".strip(), *yes_no(ctx))


async def on_confirm_add(ctx: TurnContext) -> list[Reply]:
    """Yes adds the draft (reopening a ticket waiting on the customer); no adds nothing."""
    slots = ctx.state.slots
    reference = str(slots["reference"])
    answer = answer_is_yes(ctx)
    if answer is None:
        return [_ask_add(ctx, ctx.say(YES_OR_NO))]
    ctx.state.finish()
    if not answer:
        return [ctx.reply(ctx.say(NOT_ADDED, reference=reference))]
    ticket = await own_ticket(ctx, reference)
    if ticket is None:
        return [ctx.reply(ctx.say(NOT_FOUND, reference=reference))]
    if ticket.status == "closed":  # closed meanwhile (by the team, or in another chat)
        return [ctx.reply(ctx.say(IS_CLOSED), new_ticket(ctx))]
    # The customer writing again puts the ticket back with the team.
    reopen: TicketStatus | None = "open" if ticket.status in WITH_CUSTOMER else None
    update = TicketUpdate(reference, reopen, str(slots["draft"]), author="customer")
    key = f"ticket_status:add:{slots['draft_key']}"
    await ctx.billing.update_ticket(update, idempotency_key=key, now=ctx.now)
    return [ctx.reply(ctx.say(ADDED, reference=reference))]


async def ask_close(ctx: TurnContext, lead: str = "") -> Reply:
    """Close this ticket? Naming its subject (step confirm_close)."""
    reference = str(ctx.state.slots["reference"])
    ticket = await own_ticket(ctx, reference)
    subject = summary(ticket.subject, 80) if ticket is not None else ""
    text = ctx.say(CONFIRM_CLOSE, reference=reference, subject=subject)
    return ctx.reply(f"{lead} {text}".strip(), *yes_no(ctx))


async def on_confirm_close(ctx: TurnContext) -> list[Reply]:
    """Yes closes the ticket (once); no keeps it open."""
    reference = str(ctx.state.slots["reference"])
    answer = answer_is_yes(ctx)
    if answer is None:
        return [await ask_close(ctx, ctx.say(YES_OR_NO))]
    flow_id = ctx.state.slots["flow_id"]
    ctx.state.finish()
    if not answer:
        return [ctx.reply(ctx.say(KEPT_OPEN, reference=reference))]
    ticket = await own_ticket(ctx, reference)
    if ticket is None:
        return [ctx.reply(ctx.say(NOT_FOUND, reference=reference))]
    if ticket.status == "closed":  # nothing to change: closed meanwhile
        return [ctx.reply(ctx.say(CLOSED, reference=reference))]
    note = ctx.say(CLOSED_NOTE)
    update = TicketUpdate(reference, "closed", note, author="customer")
    key = f"ticket_status:close:{flow_id}:{reference}"
    await ctx.billing.update_ticket(update, idempotency_key=key, now=ctx.now)
    return [ctx.reply(ctx.say(CLOSED, reference=reference))]
