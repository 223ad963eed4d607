"""POST /api/chat (contract): the web chat's JSON API; GET /api/chat/{session}/messages: what
was queued for the session outside its answers (a payment confirmed), polled by the page."""

from __future__ import annotations

import math
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query
from pydantic import BaseModel, ConfigDict, Field, StrictStr

from bot.phones import PhoneError, normalize
from bot.settings import Settings
from bot.store.chat_messages import latest_id, messages_since
from channels import web
from web.deps import ServicesDep, SettingsDep

router = APIRouter(prefix="/api", tags=["chat"])
_PRINTABLE = r"^[^\x00-\x1f\x7f]+$"
MAX_ID = 2**31 - 1  # outbox ids are 32-bit integers: a larger cursor is a client's mistake


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
    """The session to send back next time and the bot's replies, in order.

    `lang`: the language billbot answered in (the customer's, once it knows who they are), for
    the page's own texts. `after`: on a new session, the cursor from which to poll
    `GET /api/chat/{session}/messages`.
    """

    session: str
    replies: list[dict[str, Any]]
    lang: str | None = None
    after: int | None = None


class PushedMessage(BaseModel):
    """A message queued for the session outside an answer, e.g. a payment confirmation."""

    id: int
    kind: str
    replies: list[dict[str, Any]]


class PushedMessages(BaseModel):
    """The session's new messages, oldest first, and the cursor for the next poll."""

    messages: list[PushedMessage]
    after: int


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
    # Read before answering: whatever the answer queues for this new session comes after it.
    after = None if body.session else await latest_id(services.sessions)
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
    replies = web.render(answer.replies)
    return {"session": session, "replies": replies, "lang": answer.lang, "after": after}


@router.get("/chat/{session}/messages", response_model=PushedMessages)
async def pushed(
    services: ServicesDep,
    session: Annotated[str, Path(min_length=1, max_length=64, pattern=_PRINTABLE)],
    after: Annotated[int | None, Query(ge=0, le=MAX_ID, description="The last id seen.")] = None,
) -> dict[str, Any]:
    """Messages queued for the session with ids above `after`; without `after`, none, and
    the cursor to start from. The session id is the capability, as for POST /api/chat."""
    if after is None:
        return {"messages": [], "after": await latest_id(services.sessions)}
    found = await messages_since(
        services.sessions, channel=web.CHANNEL, address=session, after=after
    )
    messages = [
        {"id": m.id, "kind": m.kind, "replies": web.render(m.replies)} for m in found.messages
    ]
    return {"messages": messages, "after": found.after}


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
