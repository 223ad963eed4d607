"""A fake Twilio Messages REST API on 127.0.0.1, for the real twilio `Client` to talk to.

`async with FakeTwilio() as fake:` serves POST /2010-04-01/Accounts/{sid}/Messages.json on a
free port in the test's event loop, checks HTTP Basic auth, records every request and answers
like Twilio (201 and the message resource). `fake.fail_next(...)` scripts refusals: a Twilio
error body (`{"code", "message", "more_info", "status"}`), optionally with Retry-After.
"""

from __future__ import annotations

import base64
import secrets
import socket
from collections import deque
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from aiohttp import web

ACCOUNT_SID = "AC" + "1" * 32
AUTH_TOKEN = "fake-auth-token-" + "0" * 16
MESSAGES_PATH = "/2010-04-01/Accounts/{sid}/Messages.json"


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One request the fake received."""

    method: str
    path: str
    form: tuple[tuple[str, str], ...]
    authorized: bool

    def values(self, name: str) -> list[str]:
        """Every value of form field `name`, in order."""
        return [value for key, value in self.form if key == name]

    def get(self, name: str) -> str | None:
        """The first value of form field `name`, or None."""
        found = self.values(name)
        return found[0] if found else None


@dataclass(frozen=True, slots=True)
class Failure:
    """A scripted refusal."""

    status: int
    code: int
    message: str
    retry_after: str | None = None


@dataclass
class FakeTwilio:
    """The fake server; `base_url` is what BILLBOT_TWILIO_API_BASE should be."""

    account_sid: str = ACCOUNT_SID
    auth_token: str = AUTH_TOKEN
    requests: list[RecordedRequest] = field(default_factory=list)
    sids: list[str] = field(default_factory=list)  # the SIDs answered, in order
    _failures: deque[Failure] = field(default_factory=deque)
    _runner: web.AppRunner | None = None
    _port: int = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    @property
    def messages(self) -> list[RecordedRequest]:
        """The message-create requests that were authorized."""
        return [r for r in self.requests if r.authorized and r.path.endswith("/Messages.json")]

    def fail_next(
        self, status: int, code: int, message: str = "refused", *, retry_after: str | None = None
    ) -> None:
        """Answer the next create request with this Twilio error."""
        self._failures.append(Failure(status, code, message, retry_after))

    async def __aenter__(self) -> FakeTwilio:
        app = web.Application()
        app.router.add_post(MESSAGES_PATH, self._create)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self._port = self._runner.addresses[0][1]
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _create(self, request: web.Request) -> web.Response:
        form = await request.post()
        authorized = self._authorized(request)
        pairs = tuple((key, str(value)) for key, value in form.items())
        self.requests.append(RecordedRequest(request.method, request.path, pairs, authorized))
        if not authorized:
            return _error(Failure(401, 20003, "Authenticate"))
        if self._failures:
            return _error(self._failures.popleft())
        return web.json_response(self._message(pairs), status=201)

    def _authorized(self, request: web.Request) -> bool:
        expected = f"{self.account_sid}:{self.auth_token}".encode()
        header = "Basic " + base64.b64encode(expected).decode("ascii")
        right_account = request.match_info["sid"] == self.account_sid
        return right_account and request.headers.get("Authorization") == header

    def _message(self, form: tuple[tuple[str, str], ...]) -> dict[str, Any]:
        sid = "SM" + secrets.token_hex(16)
        self.sids.append(sid)
        fields = dict(form)
        return {
            "sid": sid,
            "account_sid": self.account_sid,
            "to": fields.get("To"),
            "from": fields.get("From"),
            "messaging_service_sid": fields.get("MessagingServiceSid"),
            "body": fields.get("Body", ""),
            "status": "accepted" if "MessagingServiceSid" in fields else "queued",
            "num_segments": "1",
            "num_media": str(sum(1 for key, _ in form if key == "MediaUrl")),
            "direction": "outbound-api",
            "api_version": "2010-04-01",
            "date_created": "Fri, 21 Nov 2026 15:00:00 +0000",
            "date_updated": "Fri, 21 Nov 2026 15:00:00 +0000",
            "date_sent": None,
            "price": None,
            "price_unit": "USD",
            "error_code": None,
            "error_message": None,
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}.json",
            "subresource_uris": {},
        }


def _error(failure: Failure) -> web.Response:
    body = {
        "code": failure.code,
        "message": failure.message,
        "more_info": f"https://www.twilio.com/docs/errors/{failure.code}",
        "status": failure.status,
    }
    headers = {"Retry-After": failure.retry_after} if failure.retry_after else None
    return web.json_response(body, status=failure.status, headers=headers)


def closed_port_url() -> str:
    """A base URL on 127.0.0.1 where nothing listens (connections are refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"
