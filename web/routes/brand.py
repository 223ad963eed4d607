"""The operator's branding: colours as a stylesheet (the CSP allows no inline styles), the
logo, the favicon, and the help page with the operator's contacts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, RedirectResponse, Response

from billing_client import NotFoundError
from web.auth import signed_in_account
from web.deps import ServicesDep
from web.pages import render_page

router = APIRouter(tags=["pages"])


@router.get("/brand.css", include_in_schema=False)
async def brand_css(services: ServicesDep) -> Response:
    colors = services.operator.colors
    css = (
        f":root {{ --accent: {colors.primary}; --me: {colors.primary}; --ok: {colors.accent}; }}\n"
    )
    return Response(css, media_type="text/css", headers={"cache-control": "max-age=300"})


@router.get("/brand/logo", include_in_schema=False)
async def logo(services: ServicesDep) -> Response:
    if services.operator.logo is None:
        raise NotFoundError("no logo configured")
    return FileResponse(services.operator.logo, headers={"cache-control": "max-age=3600"})


@router.get("/favicon.ico", include_in_schema=False)
async def favicon() -> Response:
    return RedirectResponse("/static/favicon.svg", status_code=308)


@router.get("/help", include_in_schema=False)
async def help_page(
    request: Request,
    services: ServicesDep,
    account_id: Annotated[int | None, Depends(signed_in_account)],
) -> Response:
    """Public; a signed-in customer sees it with their menu and in their language."""
    if account_id is not None:
        account = await services.billing.get_account(account_id)
        request.state.account_id, request.state.locale = account_id, account.locale
    return render_page(request, "help.html", {"support": services.operator.support})
