"""What /api/chat answers while a message is still being answered, or a stranger floods it."""

from __future__ import annotations

import asyncio

import httpx

from bot.services import Services
from bot.store.turns import TurnStore
from bot.types import InboundMessage
from channels import web

ALEX = "+12025550101"


async def test_a_stranger_over_the_limit_is_told_once_then_gets_429(
    client: httpx.AsyncClient,
) -> None:
    body = {"text": "I lost my phone", "session": "stranger-session-1"}
    statuses = [(await client.post("/api/chat", json=body)).status_code for _ in range(10)]
    assert statuses == [200] * 10
    told = await client.post("/api/chat", json=body)
    assert told.status_code == 200
    assert "faster than I can safely answer" in told.json()["replies"][0]["text"]
    refused = await client.post("/api/chat", json=body)
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) > 0
    assert refused.json()["error"] == "rate_limited"


async def test_customers_are_not_rate_limited(client: httpx.AsyncClient) -> None:
    body = {"text": "balance", "as": ALEX, "session": "alex-session-1"}
    for _ in range(15):
        response = await client.post("/api/chat", json=body)
        assert response.status_code == 200


async def test_a_retry_of_a_message_still_being_answered_gets_409(
    client: httpx.AsyncClient, services: Services
) -> None:
    turns = services.conversations._turns  # the engine's own store, to hold a message open
    assert isinstance(turns, TurnStore)
    turns.wait_seconds = 0.3
    body = {"text": "balance", "as": ALEX, "session": "alex-session-2", "id": "msg-1"}
    hold = asyncio.Event()
    now = services.clock.now()
    message: InboundMessage = web.to_inbound(
        text="balance", session="alex-session-2", as_phone=ALEX, message_id="msg-1", now=now
    )

    async def held_turn() -> None:  # another request's turn, still running
        async with turns.claim(message, text="balance", secret=False, now=now):
            await hold.wait()

    holder = asyncio.create_task(held_turn())
    await asyncio.sleep(0.1)
    try:
        response = await client.post("/api/chat", json=body)
    finally:
        hold.set()
        await holder
    assert response.status_code == 409
    assert response.headers["retry-after"] == "1"
    assert response.json()["error"] == "in_progress"
    again = await client.post("/api/chat", json=body)
    assert again.status_code == 200
    assert "$64.20" in again.json()["replies"][0]["text"]
