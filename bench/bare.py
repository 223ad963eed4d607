"""The baseline: a bare FastAPI JSON endpoint shaped like /api/chat, doing no work."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel


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

    return app
