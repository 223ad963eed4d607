"""Channel addresses proven to belong to a phone number (a Telegram chat after its code).

The port the identity service and the linking flow use; `bot.store.links.SqlAddressBook`
keeps them in `bot_links`. SMS and WhatsApp addresses are phone numbers and need no link.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol


class AddressBook(Protocol):
    async def phone_of(self, channel: str, address: str) -> str | None:
        """The E.164 number the address is linked to, or None."""
        ...

    async def link(self, channel: str, address: str, msisdn: str, *, now: datetime) -> None:
        """Link the address to the number (replacing an earlier link of that address)."""
        ...

    async def unlink(self, channel: str, address: str) -> bool:
        """Remove the address's link; False when it had none."""
        ...

    async def addresses_of(self, msisdn: str) -> list[tuple[str, str]]:
        """Every (channel, address) linked to the number."""
        ...

    async def linked_at(self, channel: str, address: str) -> datetime | None:
        """When the address was linked (a fresh link is no second factor), or None."""
        ...

    async def reachable(self, channel: str, address: str) -> bool:
        """Whether messages can go to the address (it did not opt out, nor block billbot)."""
        ...
