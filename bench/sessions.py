"""The pool of chat sessions the load runs in, created during the warm-up.

Every measured request continues an existing session (as a customer's browser tab does), so
the run measures the steady state: conversation rows exist and the first-message path (new
session, new conversation) is not what is timed. The pool holds SESSIONS_PER_CONNECTION
sessions for each connection, so two in-flight requests rarely share one (a shared session
would make the second wait for, or be refused by, the first's conversation lease).
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

ALEX = "+12025550101"
SESSIONS_PER_CONNECTION = 8


class WarmUpError(RuntimeError):
    """The server did not answer a warm-up message with a session."""


def pool_size(connections: int) -> int:
    """How many sessions a run over `connections` connections uses."""
    return max(1, connections) * SESSIONS_PER_CONNECTION


async def create_sessions(
    base_url: str, count: int, *, concurrency: int, phone: str = ALEX
) -> list[str]:
    """Open `count` chat sessions by sending each one's first "balance"; their ids, in order."""
    slots = asyncio.Semaphore(max(1, concurrency))
    limits = httpx.Limits(max_connections=max(1, concurrency))
    async with httpx.AsyncClient(base_url=base_url, timeout=60.0, limits=limits) as client:

        async def one() -> str:
            async with slots:
                return await first_message(client, phone)

        return list(await asyncio.gather(*(one() for _ in range(count))))


async def first_message(client: httpx.AsyncClient, phone: str) -> str:
    """POST a session's first message; the session id the server chose."""
    body: dict[str, Any] = {"text": "balance", "as": phone}
    response = await client.post("/api/chat", json=body)
    if response.status_code != 200:
        raise WarmUpError(
            f"warm-up message got HTTP {response.status_code}: {response.text[:200]}"
        )
    session = response.json().get("session")
    if not isinstance(session, str) or not session:
        raise WarmUpError(f"warm-up reply has no session: {response.text[:200]}")
    return session
