"""Addresses nothing is sent to (`bot_suppressions`): opted out, blocked the bot, unreachable.

Written by compliance keywords (STOP → `opted_out`), by the outbox when a provider says the
address cannot receive (`blocked`, `unreachable`), and by status callbacks. Read by the outbox
before every send. `opted_out` is lifted only by an opt-in keyword; the others are lifted as
soon as the customer writes from the address again.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Literal

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.models import Suppression
from bot.store.sql import dialect_insert

Reason = Literal["opted_out", "blocked", "unreachable"]
OPTED_OUT: Reason = "opted_out"
LIFTED_BY_WRITING: tuple[Reason, ...] = ("blocked", "unreachable")


async def suppress(
    session: AsyncSession, channel: str, address: str, *, reason: Reason, now: datetime
) -> None:
    """Stop sending to the address. An opt-out overrides a softer reason already recorded."""
    values = {"channel": channel, "address": address, "reason": reason, "created_at": now}
    statement = dialect_insert(session, Suppression).values(**values)
    if reason == OPTED_OUT:
        statement = statement.on_conflict_do_update(
            index_elements=["channel", "address"], set_={"reason": reason}
        )
    else:
        statement = statement.on_conflict_do_nothing()
    await session.execute(statement)


async def lift(
    session: AsyncSession, channel: str, address: str, *, reasons: Iterable[Reason]
) -> bool:
    """Send to the address again if it was suppressed for one of `reasons`; True if it was."""
    result = await session.execute(
        delete(Suppression).where(
            Suppression.channel == channel,
            Suppression.address == address,
            Suppression.reason.in_(list(reasons)),
        )
    )
    return bool(getattr(result, "rowcount", 0))


async def reason_for(session: AsyncSession, channel: str, address: str) -> Reason | None:
    """Why the address is suppressed, or None."""
    found = await session.scalar(
        select(Suppression.reason).where(
            Suppression.channel == channel, Suppression.address == address
        )
    )
    return found  # type: ignore[return-value]
