"""GET /invoices/{token}: the account's latest invoices, from a signed link billbot sent."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from web.deps import ServicesDep
from web.pages import render_page

router = APIRouter(prefix="/invoices", tags=["pages"])
INVOICES_LINK_MAX_AGE = 7 * 24 * 3600
LATEST = 12


@router.get("/{token}", include_in_schema=False)
async def invoices_page(token: str, request: Request, services: ServicesDep) -> Response:
    """Number, period, issued, due, total, paid and status of the latest invoices."""
    account_id = services.links.invoices_account_id(token, max_age=INVOICES_LINK_MAX_AGE)
    now = services.clock.now()
    account = await services.billing.get_account(account_id)
    invoices = await services.billing.list_invoices(account_id, now=now, limit=LATEST)
    context = {"account": account, "invoices": invoices, "locale": account.locale}
    return render_page(request, "invoices.html", context)
