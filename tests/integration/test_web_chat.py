"""POST /api/chat against real Services on a migrated, seeded SQLite database."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from bot.services import Services
from bot.store.models import InboundRecord
from tests.helpers import client_for

ALEX = "+12025550101"


@pytest.fixture
async def public_client(services: Services) -> AsyncIterator[httpx.AsyncClient]:
    """The same database served outside demo mode."""
    async with client_for(services, replace(services.settings, demo=False)) as http:
        yield http


async def inbound_count(services: Services) -> int:
    async with services.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(InboundRecord)) or 0)


def texts(body: dict[str, Any]) -> str:
    return "\n".join(reply["text"] for reply in body["replies"])


async def test_demo_chat_answers_as_the_chosen_customer(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/chat", json={"text": "what do I owe", "as": ALEX})

    assert response.status_code == 200
    body = response.json()
    assert body["session"]
    assert "$64.20" in texts(body)


async def test_session_is_returned_as_given(client: httpx.AsyncClient) -> None:
    payload = {"text": "balance", "as": ALEX, "session": "my-browser-tab-1"}

    response = await client.post("/api/chat", json=payload)

    assert response.json()["session"] == "my-browser-tab-1"


async def test_as_accepts_a_national_number_in_demo_mode(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/chat", json={"text": "balance", "as": "(202) 555-0101"})

    assert "$64.20" in texts(response.json())


async def test_replies_carry_options_with_their_values(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/chat", json={"text": "menu", "as": ALEX})

    reply = response.json()["replies"][-1]
    assert len(reply["options"]) == len(reply["option_values"]) >= 2


async def test_as_outside_demo_mode_is_refused_and_nothing_is_stored(
    services: Services, public_client: httpx.AsyncClient
) -> None:
    before = await inbound_count(services)

    response = await public_client.post("/api/chat", json={"text": "balance", "as": ALEX})

    assert response.status_code == 403
    assert "demo" in response.json()["detail"]
    assert await inbound_count(services) == before


async def test_anonymous_web_chat_cannot_see_an_account(public_client: httpx.AsyncClient) -> None:
    response = await public_client.post("/api/chat", json={"text": "what do I owe"})

    assert response.status_code == 200
    assert "$64.20" not in texts(response.json())
    assert texts(response.json())


async def test_replayed_message_id_gets_the_same_replies_once(
    services: Services, client: httpx.AsyncClient
) -> None:
    payload = {"text": "balance", "as": ALEX, "session": "tab-replay", "id": "msg-1"}
    first = await client.post("/api/chat", json=payload)
    before = await inbound_count(services)

    second = await client.post("/api/chat", json=payload)

    assert second.json() == first.json()
    assert await inbound_count(services) == before


async def test_same_message_id_in_another_session_is_a_new_message(
    services: Services, client: httpx.AsyncClient
) -> None:
    await client.post("/api/chat", json={"text": "hi", "session": "tab-a", "id": "m1", "as": ALEX})
    before = await inbound_count(services)

    payload = {"text": "balance", "session": "tab-b", "id": "m1", "as": ALEX}
    response = await client.post("/api/chat", json=payload)

    assert "$64.20" in texts(response.json())
    assert await inbound_count(services) == before + 1


@pytest.mark.parametrize(
    ("body", "status", "reason"),
    [
        (b'{"text": "balance"', 400, "not valid JSON"),
        (b"text=balance", 400, "not valid JSON"),
        (b"[]", 422, "body"),
        (b"{}", 422, "text"),
        (b'{"text": 42}', 422, "text"),
        (b'{"text": null}', 422, "text"),
        (b'{"text": ["balance"]}', 422, "text"),
        (b'{"text": "hi", "as": 12025550101}', 422, "as"),
        (b'{"text": "hi", "as": "not a phone"}', 422, "phone number"),
        (b'{"text": "hi", "session": ""}', 422, "session"),
        (b'{"text": "hi", "session": "' + b"x" * 65 + b'"}', 422, "session"),
        (b'{"text": "hi", "id": "line\\nbreak"}', 422, "id"),
    ],
)
async def test_malformed_requests_get_a_reason_and_change_nothing(
    services: Services, client: httpx.AsyncClient, body: bytes, status: int, reason: str
) -> None:
    before = await inbound_count(services)

    response = await client.post(
        "/api/chat", content=body, headers={"content-type": "application/json"}
    )

    assert response.status_code == status
    assert reason in response.json()["detail"]
    assert "Traceback" not in response.text
    assert await inbound_count(services) == before


async def test_text_over_20000_characters_is_refused_with_413(
    services: Services, client: httpx.AsyncClient
) -> None:
    before = await inbound_count(services)

    response = await client.post("/api/chat", json={"text": "a" * 20_001, "as": ALEX})

    assert response.status_code == 413
    assert "20000" in response.json()["detail"]
    assert await inbound_count(services) == before


async def test_text_of_20000_characters_is_answered(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/chat", json={"text": "balance " * 2500, "as": ALEX})

    assert response.status_code == 200
    assert texts(response.json())


async def test_a_body_over_the_size_cap_is_refused_before_parsing(
    client: httpx.AsyncClient,
) -> None:
    body = json.dumps({"text": "x", "padding": "y" * 600_000}).encode()

    response = await client.post(
        "/api/chat", content=body, headers={"content-type": "application/json"}
    )

    assert response.status_code == 413
    assert "KB" in response.json()["detail"]


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "💸💸💸",
        "'; DROP TABLE invoices; --",
        "balance' OR '1'='1",
        "\x00\x01\x02\x7f binary\ufffd",
        "مرحبا، كم فاتورتي؟",
        "账单多少钱",
        "<script>alert(1)</script>",
    ],
)
async def test_odd_text_gets_a_clear_reply_and_the_bot_keeps_working(
    client: httpx.AsyncClient, text: str
) -> None:
    response = await client.post("/api/chat", json={"text": text, "as": ALEX, "session": "odd-1"})

    assert response.status_code == 200
    assert texts(response.json()).strip()
    after = await client.post("/api/chat", json={"text": "balance", "as": ALEX})
    assert "$64.20" in texts(after.json())


async def test_a_lone_surrogate_in_json_is_answered(client: httpx.AsyncClient) -> None:
    body = b'{"text": "bal\\ud800ance", "as": "+12025550101"}'

    response = await client.post(
        "/api/chat", content=body, headers={"content-type": "application/json"}
    )

    assert response.status_code == 200
    assert texts(response.json()).strip()
