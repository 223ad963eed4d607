"""GET /: the demo chat page in demo mode, a short pointer to the operator's channels otherwise."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from billing_client.demo import DEMO_CUSTOMERS
from bot.phones import display
from web.deps import SettingsDep
from web.pages import render_page

router = APIRouter(tags=["pages"])


@router.get("/", include_in_schema=False)
async def home(request: Request, settings: SettingsDep) -> Response:
    """The chat page (demo) or the 'reach us on your usual channels' page."""
    if not settings.demo:
        return render_page(request, "home.html", {})
    customers = [
        {
            "name": c.name,
            "phone": c.phone,
            "display": display(c.phone),
            "summary": c.summary,
            "pin": c.pin,
        }
        for c in DEMO_CUSTOMERS
    ]
    return render_page(request, "chat.html", {"customers": customers})
