"""The bundle of built adapters the composition root hands to entry points."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from billing_client import BillingClient
from bot.clock import Clock
from bot.links import LinkSigner
from bot.settings import Settings

if TYPE_CHECKING:
    from bot.engine import ConversationEngine
    from bot.nlu import NluModel
    from bot.outbox import Outbox


@dataclass(slots=True)
class Services:
    settings: Settings
    db: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    billing: BillingClient
    clock: Clock
    links: LinkSigner
    nlu: NluModel
    outbox: Outbox
    conversations: ConversationEngine

    async def close(self) -> None:
        await self.db.dispose()
