"""The baselines: bare FastAPI endpoints shaped like /api/chat and the webhooks, doing no work."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request, Response
from pydantic import BaseModel

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response />'


class BareRequest(BaseModel):
    text: str
    session: str | None = None


def create_bare_app() -> FastAPI:
    """Parses the same JSON and answers a fixed reply: the floor of any FastAPI endpoint."""
    app = FastAPI()

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/api/chat")
    async def chat(body: BareRequest) -> dict[str, Any]:
        return {"session": body.session or "bare", "replies": [{"text": "ok"}]}

    @app.post("/webhooks/twilio/sms")
    async def sms(request: Request) -> Response:
        """The same form parsed, the empty TwiML answered: the floor of a Twilio webhook."""
        form = await request.form()
        return Response(EMPTY_TWIML if form.get("MessageSid") else "", media_type="text/xml")

    @app.post("/webhooks/telegram")
    async def telegram(request: Request) -> dict[str, Any]:
        """The same JSON parsed, `{}` answered: the floor of a Telegram webhook."""
        update = await request.json()
        return {} if "update_id" in update else {"ok": False}

    return app
