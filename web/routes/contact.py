"""/account/contact: the email address (changed only through a link sent to the new one),
time zone, and the phone numbers (changed by support, after identity checks)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from billing_client import Account, ContactChange, InvalidRequestError, NotFoundError
from billing_client.contact import checked_email
from bot.i18n import say
from bot.services import Services
from bot.store.web_auth import link_spent, spend_link
from bot.types import OutboundMessage, Reply
from web.auth import CsrfChecked, CustomerDep
from web.deps import ServicesDep
from web.pages import render_page

router = APIRouter(prefix="/account/contact", tags=["pages"])
CONFIRM_EMAIL = {
    "en": "{operator}: confirm {email} as the email address of your account: {url} "
    "(valid 24 hours). If you did not ask for this, ignore this message.",
    "es": "{operator}: confirma {email} como correo de tu cuenta: {url} (válido 24 horas). "
    "Si no lo has pedido tú, ignora este mensaje.",
}


@router.get("", include_in_schema=False)
async def contact_page(
    request: Request, account: CustomerDep, services: ServicesDep, sent: str = ""
) -> Response:
    return render_page(
        request, "account/contact.html", await _context(services, account, sent=sent[:254])
    )


@router.post("/email", include_in_schema=False, dependencies=[CsrfChecked])
async def change_email(
    request: Request,
    account: CustomerDep,
    services: ServicesDep,
    email: Annotated[str, Form(max_length=254)] = "",
) -> Response:
    """Send the confirmation link to the new address; the account changes when it is opened."""
    _allowed(services)
    try:
        checked = checked_email(email)
    except InvalidRequestError as error:
        context = await _context(services, account)
        context["error"] = str(error)
        return render_page(request, "account/contact.html", context, status_code=400)
    url = services.links.email_change_url(account.id, checked)
    text = say(
        CONFIRM_EMAIL, account.locale, operator=services.operator.name, email=checked, url=url
    )
    await services.outbox.enqueue(
        OutboundMessage(
            channel="email",
            address=checked,
            replies=(Reply(text=text),),
            kind="email_confirm",
            dedupe_key=f"email_confirm:{url.rsplit('/', 1)[-1][:100]}",
            account_id=account.id,
        )
    )
    return RedirectResponse(f"/account/contact?sent={checked}", status_code=303)


@router.get("/confirm/{token}", include_in_schema=False)
async def confirm_page(token: str, request: Request, services: ServicesDep) -> Response:
    """A button (link scanners in mail clients must not confirm it by fetching it)."""
    claim = services.links.email_change_claim(token)
    used = await link_spent(services.sessions, claim.nonce)
    return render_page(
        request,
        "account/email_confirm.html",
        {"token": token, "email": claim.value, "used": used},
        status_code=410 if used else 200,
    )


@router.post("/confirm/{token}", include_in_schema=False, dependencies=[CsrfChecked])
async def confirm_email(token: str, request: Request, services: ServicesDep) -> Response:
    claim = services.links.email_change_claim(token)
    now = services.clock.now()
    if not await spend_link(
        services.sessions, claim.nonce, purpose="email", account_id=claim.account_id, now=now
    ):
        return render_page(
            request,
            "account/email_confirm.html",
            {"token": token, "email": claim.value, "used": True},
            status_code=410,
        )
    account = await services.billing.update_contact(
        claim.account_id, ContactChange(email=claim.value), actor="web:email-link", now=now
    )
    request.state.locale = account.locale
    return render_page(
        request, "account/email_confirm.html", {"email": account.email, "done": True}
    )


async def _context(services: Services, account: Account, *, sent: str = "") -> dict[str, object]:
    return {
        "account": account,
        "sent": sent,
        "lines": await services.billing.list_lines(account.id),
        "changes": services.operator.features.contact_changes,
    }


def _allowed(services: Services) -> None:
    if not services.operator.features.contact_changes:
        raise NotFoundError("contact changes are made by support")
