"""Health probes, the home / demo chat page, static files and the invoices page."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy.ext.asyncio import create_async_engine

from billing_client.demo import DEMO_CUSTOMERS
from bot.services import Services
from bot.settings import Settings
from tests.helpers import TEST_SECRET, client_for
from web.app import create_app

ALEX = "+12025550101"


async def invoices_path(services: Services, phone: str = ALEX) -> str:
    account = await services.billing.find_account_by_msisdn(phone)
    assert account is not None
    return urlsplit(services.links.invoices_url(account.id)).path


async def test_healthz_is_ok(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_is_ok_when_the_database_answers(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_is_503_when_the_database_is_unreachable(
    services: Services, tmp_path: Path
) -> None:
    # A directory is not a database file: every connection attempt fails.
    broken = create_async_engine(f"sqlite+aiosqlite:///{tmp_path}")
    try:
        async with client_for(replace(services, db=broken)) as http:
            response = await http.get("/readyz")
    finally:
        await broken.dispose()

    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"


async def test_demo_home_is_the_chat_with_a_customer_picker(client: httpx.AsyncClient) -> None:
    response = await client.get("/")

    assert response.status_code == 200
    assert "DEMO MODE" in response.text
    for customer in DEMO_CUSTOMERS:
        assert customer.name in response.text
        assert f'data-phone="{customer.phone}"' in response.text
    assert "/static/chat.js" in response.text


async def test_pages_load_nothing_from_other_hosts(client: httpx.AsyncClient) -> None:
    response = await client.get("/")

    assert not re.search(r'(src|href)="(https?:)?//', response.text)
    assert "default-src 'self'" in response.headers["content-security-policy"]


async def test_outside_demo_home_points_to_the_operators_channels(services: Services) -> None:
    async with client_for(services, replace(services.settings, demo=False)) as http:
        response = await http.get("/")

    assert response.status_code == 200
    assert "DEMO MODE" not in response.text
    assert "data-phone" not in response.text
    assert "SMS" in response.text


@pytest.mark.parametrize(
    ("path", "kind"),
    [("/static/chat.js", "javascript"), ("/static/style.css", "text/css")],
)
async def test_static_files_are_served(client: httpx.AsyncClient, path: str, kind: str) -> None:
    response = await client.get(path)

    assert response.status_code == 200
    assert kind in response.headers["content-type"]


async def test_invoices_page_lists_the_latest_invoices(
    services: Services, client: httpx.AsyncClient
) -> None:
    account = await services.billing.find_account_by_msisdn(ALEX)
    assert account is not None
    invoices = await services.billing.list_invoices(account.id, now=services.clock.now(), limit=12)

    response = await client.get(await invoices_path(services))

    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert len(invoices) >= 3
    for invoice in invoices:
        assert invoice.number in response.text
    assert "$64.20" in response.text
    assert "paid" in response.text and "open" in response.text


async def test_invoices_page_of_a_prepaid_account_says_there_are_none(
    services: Services, client: httpx.AsyncClient
) -> None:
    response = await client.get(await invoices_path(services, "+12025550104"))

    assert response.status_code == 200
    assert "no invoices" in response.text


async def test_invoices_page_with_a_forged_token_is_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/invoices/forged-token")

    assert response.status_code == 404
    assert "not valid" in response.text


async def test_invoices_page_of_an_unknown_account_is_404(
    services: Services, client: httpx.AsyncClient
) -> None:
    response = await client.get(urlsplit(services.links.invoices_url(999_999)).path)

    assert response.status_code == 404


async def test_an_unknown_api_path_is_json_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/nope")

    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


async def test_an_unknown_page_is_an_html_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/nope", headers={"accept": "text/html"})

    assert response.status_code == 404
    assert "text/html" in response.headers["content-type"]


async def test_openapi_lists_the_chat_api(client: httpx.AsyncClient) -> None:
    response = await client.get("/openapi.json")

    assert "/api/chat" in response.json()["paths"]


async def test_the_app_builds_its_own_services_and_closes_them(demo_sqlite_url: str) -> None:
    settings = Settings(database_url=demo_sqlite_url, demo=True, secret_key=TEST_SECRET)
    app = create_app(settings)

    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            ready = await http.get("/readyz")
            chat = await http.post("/api/chat", json={"text": "balance", "as": ALEX})

    assert ready.status_code == 200
    assert chat.status_code == 200
