"""billbot's own access log, in place of uvicorn's (which prints every `/pay/<token>`).

One INFO record per HTTP request on the `billbot.access` logger: method, path with capability
tokens replaced by `…` (`bot.logs.redact_path`), status and duration. The query string is
never logged (webhook verification challenges carry tokens there). Nothing is done, not even
a timer, when the logger is not enabled for INFO.
"""

from __future__ import annotations

import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.logs import redact_path

log = logging.getLogger("billbot.access")


class AccessLogMiddleware:
    """Logs each HTTP request once it has been answered (pure ASGI: no per-request task)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not log.isEnabledFor(logging.INFO):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client gets if the app fails before answering

        async def send_and_note_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_and_note_status)
        finally:
            duration_ms = (time.perf_counter() - started) * 1000
            path = redact_path(scope["path"])
            log.info(
                "%s %s %d %.1fms",
                scope["method"],
                path,
                status,
                duration_ms,
                extra={"http_method": scope["method"], "http_path": path, "http_status": status},
            )
