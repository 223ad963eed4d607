"""A fake Telegram Bot API on 127.0.0.1, for the real aiogram Bot (STYLE.md habit 5).

`async with running_fake() as api:` starts it on a free port inside the test's event loop;
point a Bot at `api.base_url` (aiogram's `TelegramAPIServer.from_base`). It answers
`POST /bot{token}/{method}` as Telegram does (`{"ok": true, "result": …}`), records every call
with its parameters decoded (form, multipart with the uploaded files, or JSON), refuses what
Telegram refuses (callback_data over 64 bytes, text over 4,096 or captions over 1,024
characters, empty text), serves `getUpdates` from a script with long-poll waits, and fails a
method on request (`fail`). `GET /files/{name}` serves files for aiogram's `URLInputFile`.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections import defaultdict, deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

TOKEN = "123456:TEST-fake_token-for-billbot"
BOT_USER = {"id": 123456, "is_bot": True, "first_name": "billbot", "username": "billbot_test_bot"}
DATE = 1_741_966_200  # 2025-03-14 15:30 UTC
MAX_HOLD = 2.0  # seconds a getUpdates waits at most here, whatever timeout it asked for


@dataclass(frozen=True, slots=True)
class Upload:
    """A file aiogram uploaded in a multipart request."""

    filename: str | None
    content_type: str
    data: bytes


@dataclass(frozen=True, slots=True)
class Call:
    """One Bot API call as received: method name, text parameters, uploaded files."""

    method: str
    params: dict[str, str]
    files: dict[str, Upload] = field(default_factory=dict)
    at: float = 0.0  # the event loop's clock when it arrived

    def json(self, name: str) -> Any:
        """A parameter aiogram sent JSON-encoded (reply_markup, commands, allowed_updates)."""
        return json.loads(self.params[name])


@dataclass(frozen=True, slots=True)
class Failure:
    """A scripted error answer."""

    status: int
    description: str
    retry_after: int | None = None

    def body(self) -> dict[str, Any]:
        data: dict[str, Any] = {"ok": False, "error_code": self.status}
        data["description"] = self.description
        if self.retry_after is not None:
            data["parameters"] = {"retry_after": self.retry_after}
        return data


TOO_MANY_REQUESTS = Failure(429, "Too Many Requests: retry after 3", retry_after=3)
BLOCKED = Failure(403, "Forbidden: bot was blocked by the user")
CHAT_NOT_FOUND = Failure(400, "Bad Request: chat not found")
SERVER_ERROR = Failure(502, "Bad Gateway")


class FakeBotApi:
    """The fake server's state: calls, scripted failures, pending updates, served files."""

    def __init__(self, token: str = TOKEN) -> None:
        self.token = token
        self.base_url = ""
        self.calls: list[Call] = []
        self.downloads: list[str] = []
        self._failures: dict[str, deque[Failure]] = defaultdict(deque)
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1000)
        self._message_ids = itertools.count(1)
        self._files: dict[str, tuple[bytes, str]] = {}
        self._arrived = asyncio.Event()
        self.closing = asyncio.Event()
        self.polled = asyncio.Event()  # set by the first getUpdates
        self.app = web.Application()
        self.app.router.add_post("/bot{token}/{method}", self._api)
        self.app.router.add_get("/files/{name}", self._file)

    # --- scripting -------------------------------------------------------------------------
    def fail(self, method: str, failure: Failure, *, times: int = 1) -> None:
        """Answer the next `times` calls of `method` with `failure`."""
        self._failures[method.lower()].extend([failure] * times)

    def push_update(self, update: dict[str, Any]) -> dict[str, Any]:
        """Queue an update for getUpdates (an update_id is given when it has none)."""
        update = {"update_id": next(self._update_ids), **update}
        self._updates.append(update)
        self._arrived.set()
        return update

    def add_file(self, name: str, data: bytes, content_type: str) -> str:
        """Serve `data` at the returned URL."""
        self._files[name] = (data, content_type)
        return f"{self.base_url}/files/{name}"

    def calls_to(self, method: str) -> list[Call]:
        """The recorded calls of one method, in order."""
        return [call for call in self.calls if call.method.lower() == method.lower()]

    @property
    def pending_update_ids(self) -> list[int]:
        """Updates not yet confirmed by a getUpdates with a higher offset."""
        return [update["update_id"] for update in self._updates]

    # --- HTTP --------------------------------------------------------------------------------
    async def _api(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _answer(Failure(401, "Unauthorized").body(), 401)
        method = request.match_info["method"]
        params, files = await _decoded(request)
        call = Call(method, params, files, asyncio.get_running_loop().time())
        self.calls.append(call)
        failure = self._next_failure(method) or _refusal(call)
        if failure is not None:
            return _answer(failure.body(), failure.status)
        return _answer({"ok": True, "result": await self._result(call)})

    async def _file(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        self.downloads.append(name)
        if name not in self._files:
            return web.Response(status=404)
        data, content_type = self._files[name]
        return web.Response(body=data, content_type=content_type)

    def _next_failure(self, method: str) -> Failure | None:
        queue = self._failures[method.lower()]
        return queue.popleft() if queue else None

    async def _result(self, call: Call) -> Any:
        method = call.method.lower()
        if method == "getupdates":
            return await self._get_updates(call.params)
        if method == "getme":
            return BOT_USER
        if method in ("sendmessage", "sendphoto", "senddocument"):
            return self._message(call)
        return True  # answerCallbackQuery, setMyCommands, setWebhook, deleteWebhook, …

    async def _get_updates(self, params: dict[str, str]) -> list[dict[str, Any]]:
        self.polled.set()
        offset = int(params.get("offset", "0"))
        self._updates = [u for u in self._updates if u["update_id"] >= offset]  # confirmed
        if not self._updates:
            await self._hold(min(float(params.get("timeout", "0")), MAX_HOLD))
        limit = int(params.get("limit", "100"))
        return [u for u in self._updates if u["update_id"] >= offset][:limit]

    async def _hold(self, seconds: float) -> None:
        self._arrived.clear()
        waits = [asyncio.ensure_future(e.wait()) for e in (self._arrived, self.closing)]
        await asyncio.wait(waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        for wait in waits:
            wait.cancel()
        await asyncio.gather(*waits, return_exceptions=True)

    def _message(self, call: Call) -> dict[str, Any]:
        chat_id = int(call.params["chat_id"])
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "date": DATE,
            "chat": {"id": chat_id, "type": "private", "first_name": "Alex"},
            "from": BOT_USER,
        }
        return message | _content(call)


def _content(call: Call) -> dict[str, Any]:
    """What a sent message holds besides its ids: text, photo sizes, document, caption."""
    content: dict[str, Any] = {k: call.params[k] for k in ("text", "caption") if k in call.params}
    if "reply_markup" in call.params and "inline_keyboard" in call.json("reply_markup"):
        content["reply_markup"] = call.json("reply_markup")
    if call.method.lower() == "sendphoto":
        size = {"file_id": "AgAD-photo", "file_unique_id": "photo-1", "width": 320}
        content["photo"] = [size | {"height": 320}]
    if call.method.lower() == "senddocument":
        upload = call.files.get("document")
        name = upload.filename if upload else "document"
        content["document"] = {"file_id": "BQAD-doc", "file_unique_id": "doc-1", "file_name": name}
    return content


def _refusal(call: Call) -> Failure | None:
    """The 400 Telegram gives for what it does not accept."""
    text, caption = call.params.get("text"), call.params.get("caption", "")
    if call.method.lower() == "sendmessage" and not (text or "").strip():
        return Failure(400, "Bad Request: message text is empty")
    if len((text or "").encode("utf-16-le")) // 2 > 4096:
        return Failure(400, "Bad Request: message is too long")
    if len(caption.encode("utf-16-le")) // 2 > 1024:
        return Failure(400, "Bad Request: message caption is too long")
    if any(len(data.encode()) > 64 for data in _callback_data(call)):
        return Failure(400, "Bad Request: BUTTON_DATA_INVALID")
    return None


def _callback_data(call: Call) -> list[str]:
    if "reply_markup" not in call.params:
        return []
    rows = call.json("reply_markup").get("inline_keyboard", [])
    return [button["callback_data"] for row in rows for button in row if "callback_data" in button]


async def _decoded(request: web.Request) -> tuple[dict[str, str], dict[str, Upload]]:
    """Text parameters and files, however aiogram encoded them; attach:// resolved."""
    if request.content_type == "application/json":
        data = await request.json()
        return {k: v if isinstance(v, str) else json.dumps(v) for k, v in data.items()}, {}
    params: dict[str, str] = {}
    uploads: dict[str, Upload] = {}
    for name, value in (await request.post()).items():
        if isinstance(value, web.FileField):
            uploads[name] = Upload(value.filename, value.content_type, value.file.read())
        else:
            params[name] = str(value)
    return params, _attached(params, uploads)


def _attached(params: dict[str, str], uploads: dict[str, Upload]) -> dict[str, Upload]:
    """Files under the parameter that refers to them ("photo": "attach://<key>")."""
    prefix = "attach://"
    return {
        name: uploads[value.removeprefix(prefix)]
        for name, value in params.items()
        if value.startswith(prefix) and value.removeprefix(prefix) in uploads
    }


def _answer(body: dict[str, Any], status: int = 200) -> web.Response:
    return web.json_response(body, status=status)


@asynccontextmanager
async def running_fake(token: str = TOKEN) -> AsyncIterator[FakeBotApi]:
    """The fake, serving on a free port of 127.0.0.1 until the block ends."""
    api = FakeBotApi(token)
    runner = web.AppRunner(api.app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    api.base_url = f"http://{host}:{port}"
    try:
        yield api
    finally:
        api.closing.set()  # long polls still held answer at once
        await runner.cleanup()


def text_message(text: str, *, chat_id: int = 4242, user_id: int | None = None) -> dict[str, Any]:
    """An update's "message" part: `text` typed in a private chat."""
    user = {"id": user_id or chat_id, "is_bot": False, "first_name": "Alex"}
    return {
        "message_id": 7,
        "date": DATE,
        "chat": {"id": chat_id, "type": "private", "first_name": "Alex"},
        "from": user,
        "text": text,
    }


def callback_query(data: str, *, chat_id: int = 4242, query_id: str = "cbq-1") -> dict[str, Any]:
    """An update's "callback_query" part: a tap on an inline button under a bot message."""
    message = {"message_id": 8, "date": DATE, "chat": {"id": chat_id, "type": "private"}}
    user = {"id": chat_id, "is_bot": False, "first_name": "Alex"}
    return {
        "id": query_id,
        "from": user,
        "chat_instance": "ci-1",
        "data": data,
        "message": message,
    }
