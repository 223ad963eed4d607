"""The bundle of built adapters the composition root hands to entry points."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from billing_client import BillingClient
from bot.clock import Clock
from bot.links import LinkSigner
from bot.operator import OperatorConfig
from bot.payments import PaymentProvider
from bot.payments.sandbox import SandboxProvider
from bot.security_desk import SecurityDesk
from bot.settings import Settings
from bot.store.sql import Transactions

FLUSH_SECONDS = 10.0

if TYPE_CHECKING:
    from bot.alerts.service import AlertService
    from bot.channel import Webhook
    from bot.engine import ConversationEngine
    from bot.events import EventService
    from bot.inbox import Inbox
    from bot.nlu import NluModel
    from bot.outbox import Outbox


@dataclass(slots=True)
class Services:
    settings: Settings
    db: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    transactions: Transactions
    billing: BillingClient
    clock: Clock
    links: LinkSigner
    nlu: NluModel
    outbox: Outbox
    conversations: ConversationEngine
    inbox: Inbox
    alerts: AlertService
    # The configured messaging channels by webhook: "twilio_sms", "twilio_whatsapp",
    # "twilio_status", "whatsapp_cloud", "telegram" (a channel without credentials is absent).
    channels: Mapping[str, Webhook] = field(default_factory=dict)
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    # Billing events in (`POST /api/events`); None when BILLBOT_EVENTS_SECRET is not set.
    events: EventService | None = None
    # The operator's name, contacts, branding and feature toggles (BILLBOT_OPERATOR_CONFIG).
    operator: OperatorConfig = field(default_factory=OperatorConfig)
    payments: PaymentProvider = field(default_factory=SandboxProvider)
    # SIM activations and transfer requests from the billing system (CLI and events).
    security: SecurityDesk | None = None

    async def close(self) -> None:
        """Deliver what is due (bounded: `Outbox.flush`), then release the database.

        Short-lived processes (`billbot chat`) run no worker; flushing here records their
        notices (in the sandbox, or sends them live) before they exit.
        """
        try:
            await self.outbox.flush(seconds=FLUSH_SECONDS)
        finally:
            for close in self.closers:  # the providers' HTTP sessions
                await close()
            self.transactions.close()
            await self.db.dispose()
