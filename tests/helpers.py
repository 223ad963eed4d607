"""Helpers shared by the integration and e2e tests."""

from __future__ import annotations

import httpx

from bot.services import Services
from bot.settings import Settings
from web.app import create_app


def client_for(services: Services, settings: Settings | None = None) -> httpx.AsyncClient:
    """An HTTP client talking to the web app in-process over `services`."""
    app = create_app(settings or services.settings, services=services)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")
