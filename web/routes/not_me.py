"""/security/not-me/{token}: the one-tap "Not me" of a security notice (`bot.security_notices`).

Opening the link shows what will happen and one button (mail and chat apps fetch links to
preview them, and a preview must not act); pressing it runs `bot.not_me.stop` for the notice's
reference and shows what was done, in the holder's language. The token names the account and
the reference only and is never stored; pressing again changes nothing more (everything is
keyed) and shows the same answer. No sign-in: the link itself is the holder's, and all it can
do is reduce harm.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from bot import not_me as not_me_loop
from web.auth import CsrfChecked
from web.deps import ServicesDep
from web.pages import render_page

router = APIRouter(prefix="/security", tags=["pages"])


@router.get("/not-me/{token}", include_in_schema=False)
async def not_me_page(token: str, request: Request, services: ServicesDep) -> Response:
    account_id, reference = services.links.not_me_claim(token)
    account = await services.billing.get_account(account_id)
    request.state.locale = account.locale
    return render_page(request, "not_me.html", {"token": token, "reference": reference})


@router.post("/not-me/{token}", include_in_schema=False, dependencies=[CsrfChecked])
async def not_me_done(token: str, request: Request, services: ServicesDep) -> Response:
    account_id, reference = services.links.not_me_claim(token)
    account = await services.billing.get_account(account_id)
    stopped = await not_me_loop.stop(
        services.billing,
        account,
        reference=reference,
        actor="customer:not_me_link",
        now=services.clock.now(),
    )
    request.state.locale = account.locale
    summary = not_me_loop.summary(stopped, account, account.locale)
    return render_page(request, "not_me.html", {"done": summary, "reference": reference})
