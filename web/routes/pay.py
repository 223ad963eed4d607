"""The pay page: GET shows the invoice (or the prepaid top-up) and how to pay; POST starts the
provider's hosted checkout for the whole amount due or part of it (a top-up: its fixed
amount); the provider sends the customer back here with its reference, and the payment is
recorded (once) whichever of that return and the provider's webhook comes first
(`bot.payments.fulfilment`).

The signed token in the URL is the capability: no sign-in needed, unless the operator turned
`pay_without_sign_in` off. Card data never reaches billbot (redirect only: PCI SAQ A).
"""

from __future__ import annotations

import contextlib
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from billing_client import InvalidRequestError, Money, Payment
from bot.payments import PaymentError
from bot.payments.fulfilment import settle, start_checkout
from bot.payqr import pay_qr_payload, qr_png
from bot.services import Services
from bot.store.checkouts import Checkouts
from web import payview
from web.auth import CsrfChecked, SignInRequired, signed_in_account
from web.back_to_chat import back_to_chat
from web.deps import ServicesDep, SettingsDep
from web.pages import render_page
from web.security import require_same_origin

router = APIRouter(prefix="/pay", tags=["pages"])
SignedIn = Annotated[int | None, Depends(signed_in_account)]


@router.get("/{token}", name="pay_page", include_in_schema=False)
async def pay_page(
    token: str,
    request: Request,
    services: ServicesDep,
    settings: SettingsDep,
    signed_in: SignedIn,
    session_id: str = "",
    cancelled: int = 0,
) -> Response:
    """The invoice, the amount and the button — or the paid / expired / settled state."""
    link_id = services.links.pay_link_id(token, max_age=settings.pay_link_ttl_seconds)
    now = services.clock.now()
    view = await payview.load(services, link_id, now=now)
    _may_pay(services, view, signed_in, token)
    request.state.locale = view.locale
    if signed_in == view.account.id:  # the holder, signed in: their menu too
        request.state.account_id = signed_in
    just_paid = await _returned(services, link_id, session_id[:200]) if session_id else None
    if just_paid is not None:
        view = await payview.load(services, link_id, now=now)
    status = 410 if view.state == "expired" else 200
    context = {
        "view": view,
        "token": token,
        "just_paid": just_paid,
        "processing": bool(session_id) and just_paid is None,
        "cancelled": bool(cancelled),
        "provider": services.payments.name,
        "bank": _bank(services, view),
        "back": await back_to_chat(services, link_id) if view.state != "due" else None,
    }
    return render_page(request, "pay.html", context, status_code=status)


@router.post("/{token}", include_in_schema=False, dependencies=[CsrfChecked])
async def pay_now(
    token: str,
    request: Request,
    services: ServicesDep,
    settings: SettingsDep,
    signed_in: SignedIn,
    choice: Annotated[str, Form(max_length=10)] = "full",
    amount: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """To the provider's checkout for the chosen amount (303); a bad amount re-shows the page."""
    require_same_origin(request, settings.public_url)
    link_id = services.links.pay_link_id(token, max_age=settings.pay_link_ttl_seconds)
    view = await payview.load(services, link_id, now=services.clock.now())
    _may_pay(services, view, signed_in, token)
    request.state.locale = view.locale
    page = request.app.url_path_for("pay_page", token=token)
    if view.state != "due":
        return RedirectResponse(page, status_code=303)
    due = view.due
    try:  # a top-up is for its fixed amount: no part payments
        part = choice == "part" and view.invoice is not None
        chosen = partial_amount(amount, due) if part else due
    except InvalidRequestError as error:
        return _again(request, view, token, services, str(error), 400)
    url = f"{services.links.public_url}{page}"
    try:
        redirect = await start_checkout(
            services,
            view.link,
            chosen,
            description=f"Invoice {view.number}" if view.invoice else "Prepaid top-up",
            locale=view.locale,
            email=view.account.email,
            success_url=url,
            cancel_url=f"{url}?cancelled=1",
        )
    except PaymentError:
        return _again(request, view, token, services, "pay_provider_down", 503)
    return RedirectResponse(redirect.url, status_code=303)


@router.get("/{token}/qr.png", include_in_schema=False)
async def pay_qr(token: str, services: ServicesDep, settings: SettingsDep) -> Response:
    """The payment QR: a SEPA transfer (EUR) or UPI (INR) where configured, else this page."""
    link_id = services.links.pay_link_id(token, max_age=settings.pay_link_ttl_seconds)
    view = await payview.load(services, link_id, now=services.clock.now())
    url = f"{services.links.public_url}/pay/{token}"
    payload = url  # a top-up is paid on this page: a bank transfer could not be matched to it
    if view.invoice is not None:
        payload = pay_qr_payload(
            currency=view.account.currency,
            pay_url=url,
            operator=services.operator,
            amount=view.link.amount,
            invoice_number=view.number,
        )
    png = await run_in_threadpool(qr_png, payload)
    return Response(png, media_type="image/png")


async def _returned(services: Services, link_id: str, session_id: str) -> Payment | None:
    """Back from the provider: record the payment if it is confirmed (idempotent)."""
    started = await Checkouts(services.sessions).get(session_id)
    if started is None or started.link_id != link_id:
        return None
    with contextlib.suppress(PaymentError):
        settled = await services.payments.confirm_checkout(session_id)
        if settled is not None and settled.reference == link_id:
            outcome = await settle(services, settled, now=services.clock.now())
            return outcome.payment
    return None


MINIMUM_MINOR = 100  # a part payment of at least 1.00 (100 minor units)


def partial_amount(raw: str, due: Money) -> Money:
    """The part the customer typed, from 1.00 up to the amount due; else 'pay_bad_amount'."""
    cleaned = raw.strip().lstrip("$€£₹").strip().replace(",", ".")
    try:
        amount = Money.from_decimal(cleaned, due.currency)
    except (ValueError, ArithmeticError):
        raise InvalidRequestError("pay_bad_amount") from None
    if not min(MINIMUM_MINOR, due.minor) <= amount.minor <= due.minor:
        raise InvalidRequestError("pay_bad_amount")
    return amount


def _may_pay(services: Services, view: payview.PayView, signed_in: int | None, token: str) -> None:
    """With `pay_without_sign_in` off, only the signed-in account holder opens the page."""
    if services.operator.features.pay_without_sign_in:
        return
    if signed_in != view.account.id:
        back = f"/account/invoices/{view.invoice.summary.id}" if view.invoice else f"/pay/{token}"
        raise SignInRequired(back)


def _bank(services: Services, view: payview.PayView) -> dict[str, str] | None:
    bank = services.operator.bank
    if view.invoice is None or view.account.currency != "EUR" or not bank.iban:
        return None
    return {"iban": bank.iban, "bic": bank.bic, "beneficiary": bank.beneficiary}


def _again(
    request: Request,
    view: payview.PayView,
    token: str,
    services: Services,
    error: str,
    status: int,
) -> Response:
    context = {
        "view": view,
        "token": token,
        "error": error,
        "provider": services.payments.name,
        "bank": _bank(services, view),
    }
    return render_page(request, "pay.html", context, status_code=status)
