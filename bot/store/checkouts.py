"""`bot_checkouts`: the hosted checkouts started for pay links (their amount, their link)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from billing_client import Money
from bot.store.models import Checkout
from bot.store.sql import insert_ignore


@dataclass(frozen=True, slots=True)
class StartedCheckout:
    provider_reference: str
    provider: str
    link_id: str
    amount: Money


class Checkouts:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def remember(
        self,
        provider_reference: str,
        *,
        provider: str,
        link_id: str,
        amount: Money,
        now: datetime,
    ) -> None:
        """Idempotent: the provider returns the same checkout for a repeated request."""
        values = {
            "provider_reference": provider_reference,
            "provider": provider,
            "link_id": link_id,
            "amount_minor": amount.minor,
            "currency": amount.currency,
            "created_at": now,
        }
        async with self._sessions() as session, session.begin():
            await insert_ignore(session, Checkout, values)

    async def get(self, provider_reference: str) -> StartedCheckout | None:
        async with self._sessions() as session:
            row = await session.get(Checkout, provider_reference[:128])
            if row is None:
                return None
            return StartedCheckout(
                row.provider_reference,
                row.provider,
                row.link_id,
                Money(row.amount_minor, row.currency),
            )
