"""`web_login` through the real engine, NLU and database: every demo customer gets a sign-in
link to their own account, in their language; a stranger gets nothing."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from urllib.parse import urlsplit

import httpx
import pytest

from bot.links import OneUseClaim
from bot.services import Services
from bot.types import InboundMessage, Reply
from tests.helpers import client_for

ALEX, SAM, MARIA = "+12025550101", "+12025550102", "+12025550104"
STRANGER = "+12025550177"
_ids = itertools.count(1)


async def say(services: Services, text: str, phone: str, channel: str = "sms") -> Reply:
    sender = phone if channel == "sms" else f"session-{phone}"
    message = InboundMessage(
        channel, sender, text, f"wl{next(_ids)}", datetime.now(UTC), as_phone=phone
    )
    replies = await services.conversations.handle(message)
    return replies[-1]


def claim(services: Services, url: str) -> OneUseClaim:
    path = urlsplit(url).path
    assert path.startswith("/signin/link/"), url
    return services.links.login_claim(path.removeprefix("/signin/link/"))


async def account_id(services: Services, phone: str) -> int:
    account = await services.billing.find_account_by_msisdn(phone)
    assert account is not None
    return account.id


@pytest.mark.parametrize(
    ("phone", "text", "label"),
    [
        (ALEX, "send me a login link", "Open my account"),
        (SAM, "I want to see my account online", "Open my account"),
        (MARIA, "enlace para entrar en la web", "Abrir mi cuenta"),
    ],
)
async def test_each_demo_customer_gets_a_link_to_their_own_account(
    demo_services: Services, phone: str, text: str, label: str
) -> None:
    reply = await say(demo_services, text, phone)

    assert reply.link is not None and reply.link_label == label
    found = claim(demo_services, reply.link)
    assert found.account_id == await account_id(demo_services, phone)
    assert found.value == "/account"


async def test_the_spanish_customer_reads_it_in_spanish(demo_services: Services) -> None:
    reply = await say(demo_services, "abrir mi cuenta", MARIA, channel="web")

    assert "Aquí tienes tu enlace" in reply.text and "15 minutos" in reply.text


async def test_a_stranger_gets_no_link_and_learns_nothing(demo_services: Services) -> None:
    reply = await say(demo_services, "log me in to the website", STRANGER)

    assert reply.link is None
    assert "/signin/" not in reply.text and "account/" not in reply.text
    assert "don't recognise this number" in reply.text


async def test_the_invoice_reply_signs_in_to_the_invoices(demo_services: Services) -> None:
    reply = await say(demo_services, "send me my invoices", ALEX)

    assert reply.link is not None
    found = claim(demo_services, reply.link)
    assert found.account_id == await account_id(demo_services, ALEX)
    assert found.value == "/account/invoices"  # Alex has three


async def test_the_web_chat_says_the_customers_language(services: Services) -> None:
    async with client_for(services) as client:
        maria = await client.post("/api/chat", json={"text": "hola", "as": MARIA})
        alex = await client.post("/api/chat", json={"text": "hi", "as": ALEX})

    assert maria.json()["lang"] == "es" and alex.json()["lang"] == "en"


async def test_a_replayed_web_message_says_the_same_language(services: Services) -> None:
    payload = {"text": "abrir mi cuenta", "as": MARIA, "session": "tab-lang-1", "id": "m-1"}
    async with client_for(services) as client:
        first = await client.post("/api/chat", json=payload)
        second = await client.post("/api/chat", json=payload)

    assert first.json() == second.json()
    assert second.json()["lang"] == "es"


async def test_the_chat_page_links_its_own_styles(client: httpx.AsyncClient) -> None:
    page = await client.get("/")
    styles = await client.get("/static/chat.css")

    assert '/static/chat.css"' in page.text
    assert 'data-key="account"' in page.text and 'id="text-label"' in page.text
    assert styles.status_code == 200 and "flex-wrap: wrap" in styles.text
