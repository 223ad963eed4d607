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


async def pay_through_page(client: httpx.AsyncClient, pay_path: str) -> httpx.Response:
    """Pay as a browser does: open the pay page (its form token), post the form, and come back
    from the provider (the sandbox returns at once) to the page showing the payment. A page
    with nothing left to pay has no form: it is returned as it is."""
    import re
    from urllib.parse import urlsplit

    page = await client.get(pay_path)
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    if token is None:  # nothing to pay any more: the page says so
        return page
    posted = await client.post(pay_path, data={"csrf": token.group(1)})
    if posted.status_code != 303:
        return posted
    back = urlsplit(posted.headers["location"])
    return await client.get(f"{back.path}?{back.query}" if back.query else back.path)
