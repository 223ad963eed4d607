"""Helpers shared by the integration and e2e tests."""

from __future__ import annotations

import httpx

from bot.channel_settings import ChannelSettings
from bot.services import Services
from bot.settings import Settings
from web.app import create_app

TEST_SECRET = "integration-test-secret-key"


def live_settings(database_url: str, channels: ChannelSettings, *, public_url: str) -> Settings:
    """Demo data, live delivery through `channels` (pointed at fakes), signatures over
    `public_url`: how the channel tests run billbot."""
    return Settings(
        database_url=database_url,
        demo=True,
        secret_key=TEST_SECRET,
        public_url=public_url,
        delivery="live",
        channels=channels,
    )


def client_for(services: Services, settings: Settings | None = None) -> httpx.AsyncClient:
    """An HTTP client talking to the web app in-process over `services`."""
    app = create_app(settings or services.settings, services=services)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")
