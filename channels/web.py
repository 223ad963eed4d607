"""The web-chat channel: JSON from the chat page in, JSON replies out. Pure, no I/O."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bot.types import InboundMessage, Reply

CHANNEL = "web"
MAX_TEXT_CHARS = 20_000
# Sessions and client message ids become database keys (sender ≤ 64, external id ≤ 128).
SESSION_PATTERN = r"^[A-Za-z0-9_-]{8,64}$"
MESSAGE_ID_PATTERN = r"^[A-Za-z0-9_.:-]{1,63}$"


def new_session_id() -> str:
    """A fresh, unguessable web-chat session id."""
    return secrets.token_urlsafe(18)


def to_inbound(
    *,
    text: str,
    session: str,
    as_phone: str | None,
    message_id: str | None,
    now: datetime,
) -> InboundMessage:
    """The neutral message for one chat request (the sender is the browser session)."""
    return InboundMessage(
        channel=CHANNEL,
        sender=session,
        text=storable(text),
        external_id=external_id(session, message_id),
        received_at=now,
        as_phone=as_phone,
    )


def external_id(session: str, message_id: str | None) -> str:
    """The dedupe key; scoped to the session so one browser never replays another's replies."""
    return f"{session}:{message_id or uuid.uuid4().hex}"


def storable(text: str) -> str:
    """Text every database can hold: lone surrogates become U+FFFD and NUL bytes go."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        # JSON may carry "\\ud800"; a round trip through UTF-16 keeps valid pairs.
        text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text.replace("\x00", "")


def render(replies: Sequence[Reply]) -> list[dict[str, Any]]:
    """Replies as the chat page reads them (see `Reply.as_dict`)."""
    return [reply.as_dict() for reply in replies]
