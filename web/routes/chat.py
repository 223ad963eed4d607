"""POST /api/chat (contract): the web chat's JSON API."""

from __future__ import annotations

import math
from typing import Any

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, ConfigDict, Field, StrictStr

from bot.phones import PhoneError, normalize
from bot.settings import Settings
from channels import web
from web.deps import ServicesDep, SettingsDep

router = APIRouter(prefix="/api", tags=["chat"])
_PRINTABLE = r"^[^\x00-\x1f\x7f]+$"


class ChatRequest(BaseModel):
    """One message typed (or an option picked) in the web chat."""

    model_config = ConfigDict(populate_by_name=True)

    text: StrictStr = Field(description=f"At most {web.MAX_TEXT_CHARS} characters.")
    session: str | None = Field(None, min_length=1, max_length=64, pattern=_PRINTABLE)
    as_phone: StrictStr | None = Field(
        None, alias="as", max_length=40, description="Act as this customer (demo mode only)."
    )
    id: str | None = Field(
        None, min_length=1, max_length=63, pattern=_PRINTABLE, description="Client message id."
    )


class ChatResponse(BaseModel):
    """The session to send back next time and the bot's replies, in order."""

    session: str
    replies: list[dict[str, Any]]


IN_PROGRESS = (
    "billbot is still answering this message (or the one before it). Send it again, with the "
    "same id, after Retry-After seconds: it is answered once."
)


@router.post(
    "/chat",
    response_model=ChatResponse,
    responses={
        409: {"description": "Still answering this message; retry with the same id."},
        429: {"description": "Too many messages from an unidentified sender; wait."},
    },
)
async def chat(body: ChatRequest, services: ServicesDep, settings: SettingsDep) -> dict[str, Any]:
    """Hand the message to the conversation engine and return its replies.

    The same `id` sent again (a retry) gets the same replies and does nothing twice. While the
    first copy is still being answered the retry waits a few seconds for it, then gets 409
    with Retry-After: send it again then.
    """
    as_phone = acting_as(body.as_phone, settings)
    if len(body.text) > web.MAX_TEXT_CHARS:
        raise HTTPException(413, f"text is too long: at most {web.MAX_TEXT_CHARS} characters")
    session = body.session or web.new_session_id()
    message = web.to_inbound(
        text=body.text,
        session=session,
        as_phone=as_phone,
        message_id=body.id,
        now=services.clock.now(),
    )
    answer = await services.conversations.answer(message)
    retry_after = {"retry-after": str(max(1, math.ceil(answer.retry_after)))}
    if answer.status == "busy":
        raise HTTPException(409, IN_PROGRESS, headers=retry_after)
    if answer.status == "rate_limited":
        raise HTTPException(429, answer.replies[0].text, headers=retry_after)
    return {"session": session, "replies": web.render(answer.replies)}


def acting_as(raw: str | None, settings: Settings) -> str | None:
    """The E.164 number to act as; only demo mode lets a browser claim to be a customer."""
    if raw is None:
        return None
    if not settings.demo:
        raise HTTPException(403, '"as" is only accepted in demo mode')
    try:
        return normalize(raw, default_region=settings.default_region)
    except PhoneError:
        raise HTTPException(422, '"as" must be a phone number, e.g. +12025550101') from None
