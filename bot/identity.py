"""Who is writing: the one identity service every channel's messages go through.

A channel that knows the sender's phone number (SMS From, WhatsApp's sender, the demo chat's
"act as") puts it in `InboundMessage.as_phone`. Any other address (a Telegram chat) is looked
up in the address book, where the linking flow put it after a one-time code proved the number.
The engine never looks at channel names.
"""

from __future__ import annotations

import logging
import re

from billing_client import Account, BillingClient
from bot.addresses import AddressBook
from bot.phones import PhoneError, mask, normalize
from bot.types import InboundMessage

log = logging.getLogger(__name__)
UNKNOWN = object()  # the linked number was not read yet
Linked = str | None | object
E164 = re.compile(r"\+[1-9]\d{6,14}")


class Identity:
    def __init__(
        self,
        billing: BillingClient,
        *,
        default_region: str,
        addresses: AddressBook | None = None,
    ) -> None:
        self._billing = billing
        self._default_region = default_region
        self._addresses = addresses

    async def phone_of(self, message: InboundMessage, linked: Linked = UNKNOWN) -> str | None:
        """The phone number the sender acts as or is linked to, as written; None if none.

        `linked`: the address's linked number when the caller already read it (the turn's
        claim does), so no second read is needed.
        """
        if message.as_phone is not None:
            return message.as_phone
        if linked is not UNKNOWN:
            return linked  # type: ignore[return-value]
        if self._addresses is None:
            return None
        return await self._addresses.phone_of(message.channel, message.sender)

    async def identify(self, message: InboundMessage, linked: Linked = UNKNOWN) -> Account | None:
        """The customer behind the message, or None for a stranger."""
        phone = await self.phone_of(message, linked)
        if phone is None:
            return None
        if E164.fullmatch(phone):  # channels and links hand over E.164 already: no re-parse
            msisdn = phone
        else:
            try:
                msisdn = normalize(phone, default_region=self._default_region)
            except PhoneError:
                return None
        account = await self._billing.find_account_by_msisdn(msisdn)
        if account is None:
            log.info("unknown sender %s on %s", mask(msisdn), message.channel)
        return account
