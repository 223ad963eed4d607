"""The console channel: one terminal line in, plain text out (`billbot chat`)."""

from __future__ import annotations

import uuid
from datetime import datetime

from bot.types import InboundMessage, Reply


def to_inbound(line: str, *, phone: str, now: datetime) -> InboundMessage:
    """A typed line as an inbound message from `phone`; every line is a new message."""
    return InboundMessage(
        channel="console",
        sender=phone,
        text=line,
        external_id=uuid.uuid4().hex,
        received_at=now,
        as_phone=phone,
    )


def render(reply: Reply) -> str:
    """Text with numbered options and the link on its own line, as a text channel shows it."""
    lines = [reply.text]
    lines.extend(f"  {number}. {option.label}" for number, option in enumerate(reply.options, 1))
    if reply.link and reply.link not in reply.text:
        lines.append(f"  {reply.link_label or 'Link'}: {reply.link}")
    return "\n".join(lines)
