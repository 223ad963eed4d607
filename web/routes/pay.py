"""The pay page: GET shows the invoice and a sandbox button, POST pays once, QR for the URL.

The signed token in the URL is the capability. Payments are idempotent on the sandbox
reference (one per link), so double clicks, back-button resubmits and replays pay once.
"""

from __future__ import annotations

import contextlib
import io

import qrcode
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from billing_client import InvalidRequestError
from web import payview
from web.deps import ServicesDep, SettingsDep
from web.pages import render_page
from web.security import require_same_origin

router = APIRouter(prefix="/pay", tags=["pages"])


@router.get("/{token}", name="pay_page", include_in_schema=False)
async def pay_page(
    token: str, request: Request, services: ServicesDep, settings: SettingsDep
) -> Response:
    """The invoice, the amount to pay and the button — or the paid / expired state."""
    link_id = services.links.pay_link_id(token, max_age=settings.pay_link_ttl_seconds)
    view = await payview.load(services, link_id, now=services.clock.now())
    status = 410 if view.state == "expired" else 200
    return render_page(request, "pay.html", {"view": view, "token": token}, status_code=status)


@router.post("/{token}", include_in_schema=False)
async def pay_now(
    token: str, request: Request, services: ServicesDep, settings: SettingsDep
) -> Response:
    """Pay in the sandbox (once), then show the page again (303, so reload never re-posts)."""
    require_same_origin(request, settings.public_url)
    link_id = services.links.pay_link_id(token, max_age=settings.pay_link_ttl_seconds)
    now = services.clock.now()
    view = await payview.load(services, link_id, now=now)
    # Expired or settled meanwhile: the page we redirect to says which.
    with contextlib.suppress(InvalidRequestError):
        if view.state == "due":
            await payview.pay(services, view, now=now)
    return RedirectResponse(request.app.url_path_for("pay_page", token=token), status_code=303)


@router.get("/{token}/qr.png", include_in_schema=False)
async def pay_qr(token: str, services: ServicesDep, settings: SettingsDep) -> Response:
    """A QR code of this pay page's URL, to open it on a phone."""
    services.links.pay_link_id(token, max_age=settings.pay_link_ttl_seconds)
    url = f"{services.links.public_url}/pay/{token}"
    png = await run_in_threadpool(qr_png, url)
    return Response(png, media_type="image/png")


def qr_png(data: str) -> bytes:
    """PNG bytes of a QR code for `data` (CPU work: run it off the event loop)."""
    image = qrcode.make(data, box_size=8, border=2)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
