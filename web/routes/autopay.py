"""Autopay in the web view: see it, enrol through the provider's hosted page, cancel.

Card details are typed only on the provider's page (PCI SAQ A); billbot keeps the provider's
references and a label ("Visa •••• 4242").
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from billing_client import NotFoundError
from bot.payments import PaymentError, SetupRequest
from bot.payments.autopay import enrol, next_charge
from bot.store.autopay import AutopayStore
from web.auth import CsrfChecked, CustomerDep
from web.deps import ServicesDep
from web.pages import render_page

router = APIRouter(prefix="/account/autopay", tags=["pages"])


@router.get("", include_in_schema=False)
async def autopay_page(
    request: Request, account: CustomerDep, services: ServicesDep, done: str = ""
) -> Response:
    _allowed(services.operator.features.autopay)
    store = AutopayStore(services.sessions)
    now = services.clock.now()
    method = await store.method(account.id)
    context = {
        "account": account,
        "method": method,
        "done": done if done in ("on", "off") else "",
        "next": await next_charge(services, account.id, now=now) if method else None,
        "history": await store.history(account.id),
    }
    return render_page(request, "account/autopay.html", context)


@router.post("/enrol", include_in_schema=False, dependencies=[CsrfChecked])
async def start_enrolment(
    request: Request, account: CustomerDep, services: ServicesDep
) -> Response:
    """To the provider's hosted page to save a card; it sends the customer back to /return."""
    _allowed(services.operator.features.autopay)
    base = f"{services.links.public_url}/account/autopay"
    try:
        redirect = await services.payments.setup(
            SetupRequest(
                account_id=account.id,
                name=account.name,
                email=account.email,
                currency=account.currency,
                locale=account.locale,
                success_url=f"{base}/return",
                cancel_url=base,
            )
        )
    except PaymentError:
        return render_page(
            request,
            "account/autopay.html",
            {
                "account": account,
                "method": None,
                "next": None,
                "history": [],
                "error": "pay_provider_down",
            },
            status_code=503,
        )
    return RedirectResponse(redirect.url, status_code=303)


@router.get("/return", include_in_schema=False)
async def enrolment_return(
    account: CustomerDep, services: ServicesDep, setup_id: str = ""
) -> Response:
    """Back from the provider: save the method once it is confirmed (the webhook may too)."""
    method = await services.payments.confirm_setup(setup_id[:200]) if setup_id else None
    if method is None or method.account_id != account.id:
        return RedirectResponse("/account/autopay", status_code=303)
    await enrol(services, method, now=services.clock.now())
    return RedirectResponse("/account/autopay?done=on", status_code=303)


@router.post("/cancel", include_in_schema=False, dependencies=[CsrfChecked])
async def cancel(account: CustomerDep, services: ServicesDep) -> Response:
    await AutopayStore(services.sessions).cancel(account.id, now=services.clock.now())
    return RedirectResponse("/account/autopay?done=off", status_code=303)


def _allowed(enabled: bool) -> None:
    if not enabled:
        raise NotFoundError("autopay is not offered")
