"""/account/tickets: the customer's tickets, each with its status and conversation, and a
form to add a message (once per form: the form carries its own idempotency key)."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from billing_client import NotFoundError, TicketUpdate
from bot.services import Services
from web.auth import CsrfChecked, CustomerDep
from web.deps import ServicesDep
from web.pages import render_page

router = APIRouter(prefix="/account/tickets", tags=["pages"])


@router.get("", include_in_schema=False)
async def ticket_list(request: Request, account: CustomerDep, services: ServicesDep) -> Response:
    tickets = await services.billing.list_tickets(account.id)
    return render_page(request, "account/tickets.html", {"account": account, "tickets": tickets})


@router.get("/{reference}", include_in_schema=False)
async def ticket_page(
    reference: str, request: Request, account: CustomerDep, services: ServicesDep
) -> Response:
    context = await _context(services, account.id, reference)
    return render_page(request, "account/ticket.html", {**context, "account": account})


@router.post("/{reference}", include_in_schema=False, dependencies=[CsrfChecked])
async def add_message(
    reference: str,
    request: Request,
    account: CustomerDep,
    services: ServicesDep,
    message: Annotated[str, Form(max_length=2000)] = "",
    key: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    # 404 unless the ticket is theirs, before anything is added to it
    context = {**await _context(services, account.id, reference), "account": account}
    if not message.strip() or not key:
        context["error"] = "ticket_empty"
        return render_page(request, "account/ticket.html", context, status_code=400)
    await services.billing.update_ticket(
        TicketUpdate(reference=reference, message=message.strip(), author="customer"),
        idempotency_key=f"web:{account.id}:{key}",
        now=services.clock.now(),
    )
    return RedirectResponse(f"/account/tickets/{reference}", status_code=303)


async def _context(services: Services, account_id: int, reference: str) -> dict[str, object]:
    tickets = {t.reference: t for t in await services.billing.list_tickets(account_id)}
    ticket = tickets.get(reference.upper())
    if ticket is None:
        raise NotFoundError("no such ticket")
    messages = await services.billing.ticket_messages(account_id, ticket.reference)
    return {"ticket": ticket, "messages": messages, "key": secrets.token_urlsafe(16)}
