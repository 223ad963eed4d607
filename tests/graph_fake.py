"""A fake Meta Graph API on 127.0.0.1: the WhatsApp Cloud API's messages endpoint.

`POST /{version}/{phone_number_id}/messages` checks the bearer token, records the JSON body and
answers like Meta (`{"messaging_product", "contacts", "messages": [{"id": "wamid.…"}]}`).
Failures are scripted with `fail(...)`: the next sends get that status and Graph error JSON.
Start it inside the test's event loop: `async with graph_fake() as graph: ...`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from aiohttp import web

TOKEN = "test-access-token"
VERSION = "v21.0"
PHONE_NUMBER_ID = "106540352242922"


@dataclass(frozen=True, slots=True)
class Failure:
    """One scripted refusal: the HTTP status and the Graph error it carries."""

    status: int
    code: int | None = None
    message: str = "scripted failure"
    retry_after: str | None = None

    def response(self) -> web.Response:
        headers = {"Retry-After": self.retry_after} if self.retry_after else None
        if self.code is None:
            return web.Response(status=self.status, text="upstream trouble", headers=headers)
        error = {"message": self.message, "type": "OAuthException", "code": self.code}
        return web.json_response({"error": error}, status=self.status, headers=headers)


class GraphFake:
    """The fake's state: what was sent, and the failures still to come."""

    def __init__(self, *, token: str = TOKEN, phone_number_id: str = PHONE_NUMBER_ID) -> None:
        self.token = token
        self.phone_number_id = phone_number_id
        self.requests: list[dict[str, Any]] = []  # every accepted message body, in order
        self.refused: list[dict[str, Any]] = []  # bodies answered with a scripted failure
        self.failures: list[Failure | None] = []  # None: accept this one
        self.base_url = ""

    def fail(
        self,
        status: int,
        code: int | None = None,
        *,
        message: str = "scripted failure",
        retry_after: str | None = None,
        times: int = 1,
        after: int = 0,
    ) -> None:
        """Accept `after` more sends, then refuse `times` with `status` and Graph error `code`."""
        self.failures.extend(
            [None] * after + [Failure(status, code, message, retry_after)] * times
        )

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/{version}/{phone_number_id}/messages", self.messages)
        return app

    async def messages(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return Failure(401, 190, "Invalid OAuth access token.").response()
        if request.match_info["phone_number_id"] != self.phone_number_id:
            return Failure(400, 100, "Unsupported post request.").response()
        body = await request.json()
        failure = self.failures.pop(0) if self.failures else None
        if failure is not None:
            self.refused.append(body)
            return failure.response()
        self.requests.append(body)
        return web.json_response(self.accepted(body, len(self.requests)))

    @staticmethod
    def accepted(body: dict[str, Any], number: int) -> dict[str, Any]:
        return {
            "messaging_product": "whatsapp",
            "contacts": [{"input": body.get("to"), "wa_id": body.get("to")}],
            "messages": [{"id": f"wamid.FAKE{number:04d}"}],
        }


@asynccontextmanager
async def graph_fake(**options: Any) -> AsyncIterator[GraphFake]:
    """A GraphFake served on a free port of 127.0.0.1 until the block ends."""
    fake = GraphFake(**options)
    runner = web.AppRunner(fake.app())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        host, port = runner.addresses[0][:2]
        fake.base_url = f"http://{host}:{port}"
        yield fake
    finally:
        await runner.cleanup()
