"""Who is writing: the one identity service every channel's messages go through.

A channel that knows the sender's phone number (SMS From, a shared Telegram contact, the demo
chat's "act as") puts it in `InboundMessage.as_phone`; the engine never looks at channel names.
"""

from __future__ import annotations

import logging

from billing_client import Account, BillingClient
from bot.phones import PhoneError, mask, normalize
from bot.types import InboundMessage

log = logging.getLogger(__name__)


class Identity:
    def __init__(self, billing: BillingClient, *, default_region: str) -> None:
        self._billing = billing
        self._default_region = default_region

    async def identify(self, message: InboundMessage) -> Account | None:
        """The customer behind the message, or None for a stranger."""
        if message.as_phone is None:
            return None
        try:
            msisdn = normalize(message.as_phone, default_region=self._default_region)
        except PhoneError:
            return None
        account = await self._billing.find_account_by_msisdn(msisdn)
        if account is None:
            log.info("unknown sender %s on %s", mask(msisdn), message.channel)
        return account
