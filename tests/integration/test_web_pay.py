"""The pay page: shows the invoice, pays once in the sandbox, refuses forged and expired links."""

from __future__ import annotations

import asyncio
import io
import re
from dataclasses import replace
from urllib.parse import urlsplit

import httpx
import pytest
from PIL import Image

from billing_client import PaymentLink
from bot.clock import FakeClock
from bot.services import Services
from tests.helpers import client_for

ALEX = "+12025550101"
SANDBOX_BUTTON = "Pay now (sandbox)"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


async def form_token(client: httpx.AsyncClient, path: str) -> str:
    """The CSRF token of the page's form (the GET also sets the cookie it is checked against)."""
    page = await client.get(path)
    found = CSRF.search(page.text)
    assert found is not None, page.text[:500]
    return found.group(1)


async def pay(
    client: httpx.AsyncClient,
    pay_path: str,
    *,
    headers: dict[str, str] | None = None,
    token: str | None = None,
    data: dict[str, str] | None = None,
) -> httpx.Response:
    """Post the pay form as the page does, then follow the provider back to the page."""
    token = token or await form_token(client, pay_path)
    posted = await client.post(pay_path, data={"csrf": token, **(data or {})}, headers=headers)
    if posted.status_code != 303:
        return posted
    back = urlsplit(posted.headers["location"])
    return await client.get(f"{back.path}?{back.query}" if back.query else back.path)


@pytest.fixture
async def link(services: Services) -> PaymentLink:
    """A fresh pay link for Alex's open $64.20 invoice."""
    account = await services.billing.find_account_by_msisdn(ALEX)
    assert account is not None
    now = services.clock.now()
    balance = await services.billing.get_balance(account.id, now=now)
    invoice = balance.open_invoices[0]
    ttl = services.settings.pay_link_ttl_seconds
    return await services.billing.create_payment_link(
        account.id, invoice.id, now=now, ttl_seconds=ttl
    )


@pytest.fixture
def pay_path(services: Services, link: PaymentLink) -> str:
    return urlsplit(services.links.pay_url(link.id)).path


async def amount_due(services: Services) -> int:
    account = await services.billing.find_account_by_msisdn(ALEX)
    assert account is not None
    balance = await services.billing.get_balance(account.id, now=services.clock.now())
    return balance.amount_due.minor


async def receipts(services: Services) -> list[str]:
    entries = await services.outbox.list(limit=100)
    return [e.recipient for e in entries if e.kind == "payment_received"]


async def test_pay_page_shows_the_invoice_and_the_amount(
    client: httpx.AsyncClient, pay_path: str
) -> None:
    response = await client.get(pay_path)

    assert response.status_code == 200
    assert "$64.20" in response.text
    assert SANDBOX_BUTTON in response.text
    assert "Pay invoice" in response.text and "Due" in response.text
    assert f"{pay_path}/qr.png" in response.text


async def test_pay_page_is_private_and_cannot_be_framed(
    client: httpx.AsyncClient, pay_path: str
) -> None:
    response = await client.get(pay_path)

    assert response.headers["cache-control"] == "no-store"
    assert response.headers["referrer-policy"] == "same-origin"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


async def test_paying_redirects_to_the_page_showing_paid(
    services: Services, client: httpx.AsyncClient, pay_path: str
) -> None:
    token = await form_token(client, pay_path)
    response = await client.post(pay_path, data={"csrf": token})

    assert response.status_code == 303
    returned = urlsplit(response.headers["location"])
    assert returned.path == pay_path and returned.query.startswith("session_id=sandbox_cs_")
    await client.get(f"{returned.path}?{returned.query}")
    page = await client.get(pay_path)
    assert "Paid" in page.text
    assert "sandbox:" in page.text
    assert SANDBOX_BUTTON not in page.text
    assert await amount_due(services) == 0


async def test_double_post_pays_once_and_sends_one_receipt(
    services: Services, client: httpx.AsyncClient, pay_path: str
) -> None:
    token = await form_token(client, pay_path)
    first = await pay(client, pay_path, token=token)
    second = await pay(client, pay_path, token=token)

    assert first.status_code == second.status_code == 200
    assert await amount_due(services) == 0
    assert await receipts(services) == [ALEX]


async def test_concurrent_posts_pay_once(
    services: Services, client: httpx.AsyncClient, pay_path: str
) -> None:
    token = await form_token(client, pay_path)
    responses = await asyncio.gather(*(pay(client, pay_path, token=token) for _ in range(3)))

    assert {r.status_code for r in responses} == {200}
    assert await amount_due(services) == 0
    assert await receipts(services) == [ALEX]


async def test_after_paying_balance_shows_nothing_due(
    client: httpx.AsyncClient, pay_path: str
) -> None:
    await pay(client, pay_path)

    response = await client.post("/api/chat", json={"text": "balance", "as": ALEX})

    text = " ".join(r["text"] for r in response.json()["replies"])
    assert "nothing to pay" in text.lower()
    assert "$64.20" not in text


@pytest.mark.parametrize(
    "headers",
    [
        {"origin": "https://evil.example"},
        {"sec-fetch-site": "cross-site"},
        {"sec-fetch-site": "same-site", "origin": "https://other.testserver"},
        {"sec-fetch-site": "cross-site", "origin": "http://testserver"},
    ],
)
async def test_a_post_from_another_site_is_refused(
    services: Services, client: httpx.AsyncClient, pay_path: str, headers: dict[str, str]
) -> None:
    response = await pay(client, pay_path, headers=headers)

    assert response.status_code == 403
    assert await amount_due(services) == 6420


@pytest.mark.parametrize(
    "headers",
    [
        {"origin": "http://testserver", "sec-fetch-site": "same-origin"},
        {"origin": "null", "sec-fetch-site": "same-origin"},  # what Chrome sends
        {"origin": "http://testserver"},
        {},
    ],
)
async def test_a_post_from_the_page_itself_is_accepted(
    services: Services, client: httpx.AsyncClient, pay_path: str, headers: dict[str, str]
) -> None:
    response = await pay(client, pay_path, headers=headers)

    assert response.status_code == 200
    assert await amount_due(services) == 0


@pytest.mark.parametrize("token", ["garbage", "eyJhbGciOi.forged.token", "a" * 300])
async def test_a_forged_token_is_404(
    services: Services, client: httpx.AsyncClient, token: str
) -> None:
    get = await client.get(f"/pay/{token}")
    csrf = await form_token(client, "/signin")  # any page's form token: the cookie is per browser
    post = await client.post(f"/pay/{token}", data={"csrf": csrf})

    assert get.status_code == post.status_code == 404
    assert "not valid" in get.text
    assert "Traceback" not in get.text
    assert await amount_due(services) == 6420


async def test_a_signed_token_for_an_unknown_link_is_404(
    services: Services, client: httpx.AsyncClient
) -> None:
    response = await client.get(urlsplit(services.links.pay_url("no-such-link")).path)

    assert response.status_code == 404


async def test_a_token_past_its_lifetime_is_410(services: Services, pay_path: str) -> None:
    settings = replace(services.settings, pay_link_ttl_seconds=-1)  # every token is too old
    async with client_for(services, settings) as http:
        get = await http.get(pay_path)
        csrf = await form_token(http, "/signin")
        post = await http.post(pay_path, data={"csrf": csrf})

    assert get.status_code == post.status_code == 410
    assert "expired" in get.text and "ask billbot for a new one" in get.text
    assert await amount_due(services) == 6420


async def test_a_link_expired_in_billing_shows_expired_and_cannot_be_paid(
    services: Services, client: httpx.AsyncClient, clock: FakeClock, pay_path: str
) -> None:
    token = await form_token(client, pay_path)
    clock.advance(seconds=services.settings.pay_link_ttl_seconds + 60)

    post = await client.post(pay_path, data={"csrf": token})
    page = await client.get(pay_path)

    assert post.status_code == 303
    assert page.status_code == 410
    assert "This link has expired" in page.text
    assert SANDBOX_BUTTON not in page.text
    assert await amount_due(services) == 6420


async def test_qr_code_is_a_png(client: httpx.AsyncClient, pay_path: str) -> None:
    response = await client.get(f"{pay_path}/qr.png")

    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    image = Image.open(io.BytesIO(response.content))
    assert image.format == "PNG"
    assert image.size[0] == image.size[1] >= 100


async def test_qr_code_of_a_forged_token_is_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/pay/forged/qr.png")

    assert response.status_code == 404


async def test_a_post_without_the_form_token_is_refused_and_pays_nothing(
    services: Services, client: httpx.AsyncClient, pay_path: str
) -> None:
    await client.get(pay_path)  # the browser has its cookie, but the form lacks the token

    missing = await client.post(pay_path)
    wrong = await client.post(pay_path, data={"csrf": "0" * 64})

    assert missing.status_code == wrong.status_code == 403
    assert await amount_due(services) == 6420


async def test_a_part_payment_leaves_the_rest_due_and_a_second_pays_it(
    services: Services, client: httpx.AsyncClient, pay_path: str
) -> None:
    first = await pay(client, pay_path, data={"choice": "part", "amount": "20.00"})

    assert first.status_code == 200 and "$20.00" in first.text
    assert await amount_due(services) == 4420
    second = await pay(client, pay_path)
    assert second.status_code == 200
    assert await amount_due(services) == 0


@pytest.mark.parametrize("amount", ["0", "64.21", "abc", "-5", "0.001"])
async def test_a_bad_part_amount_is_explained_and_changes_nothing(
    services: Services, client: httpx.AsyncClient, pay_path: str, amount: str
) -> None:
    response = await pay(client, pay_path, data={"choice": "part", "amount": amount})

    assert response.status_code == 400
    assert "Enter an amount between" in response.text
    assert await amount_due(services) == 6420


async def test_after_paying_a_link_from_the_web_chat_the_page_leads_back_to_it(
    client: httpx.AsyncClient,
) -> None:
    chat = await client.post("/api/chat", json={"text": "pay my bill", "as": ALEX})
    link = next(r["link"] for r in chat.json()["replies"] if r.get("link"))

    paid = await pay(client, urlsplit(link).path)

    assert 'href="/">Back to chat</a>' in paid.text


async def test_a_link_sent_by_sms_leads_back_to_the_messages_app(
    services: Services, link: PaymentLink, pay_path: str
) -> None:
    from bot.channel_settings import ChannelSettings
    from bot.store.pay_origins import Origin, record_origin

    await record_origin(
        services.sessions, link_id=link.id, origin=Origin("sms", ALEX), now=services.clock.now()
    )
    channels = ChannelSettings(twilio_sms_from="+12025550100")
    settings = replace(services.settings, channels=channels)
    async with client_for(replace(services, settings=settings), settings) as http:
        paid = await pay(http, pay_path)

    assert 'href="sms:+12025550100">Back to chat</a>' in paid.text
