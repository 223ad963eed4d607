"""Where one account is told things: the same choice the alert scan makes, for one account.

The scan (`AlertService`) decides where each account of its facts is reached; a flow that
tells one account something at once (a billing event's payment receipt) asks `reach_of`. The
rule is the one docs/alerts.md states: the customer's chosen channel (`sms`, `whatsapp`,
`telegram` — a chat linked to their number — or `email`), else the holder's own number by SMS,
else email. The holder's number is the line in the account holder's name, else the first line.
"""

from __future__ import annotations

from collections.abc import Sequence

from billing_client import Account, BillingClient, Line
from bot.addresses import AddressBook
from bot.alerts.preferences import AlertSettingsStore

Reach = tuple[str, str]  # (channel, address)


class AlertReach:
    """`reach_of(account_id)`: the (channel, address) an alert to that account goes to."""

    def __init__(
        self,
        *,
        billing: BillingClient,
        settings: AlertSettingsStore,
        addresses: AddressBook | None,
    ) -> None:
        self._billing = billing
        self._settings = settings
        self._addresses = addresses

    async def reach_of(self, account_id: int) -> Reach | None:
        """Where the account is told, or None when nothing reaches it."""
        order = await self.order_of(account_id)
        return order[0] if order else None

    async def order_of(self, account_id: int) -> list[Reach]:
        """Every way to tell the account, best first: the chosen channel where it reaches
        them, then the holder's number by SMS, then email (where an alert falls back to)."""
        account = await self._billing.get_account(account_id)
        phone = holder_phone(account, await self._billing.list_lines(account_id))
        chosen = (await self._settings.get(account_id)).channel
        chats = await self._telegram_chats(phone) if chosen == "telegram" else []
        order = [
            choose(chosen, phone, account.email, chats),
            ("sms", phone) if phone else None,
            ("email", account.email) if account.email else None,
        ]
        return [where for where in dict.fromkeys(order) if where is not None]

    async def wants(self, account_id: int, kind: str) -> bool:
        """Whether the customer gets this kind of alert (they may turn kinds off)."""
        return (await self._settings.get(account_id)).wants(kind)

    async def _telegram_chats(self, phone: str | None) -> list[str]:
        return await telegram_chats(self._addresses, phone)


async def telegram_chats(addresses: AddressBook | None, phone: str | None) -> list[str]:
    """The Telegram chats linked to the number."""
    if phone is None or addresses is None:
        return []
    linked = await addresses.addresses_of(phone)
    return [address for channel, address in linked if channel == "telegram"]


def holder_phone(account: Account, lines: Sequence[Line]) -> str | None:
    """The number of the line in the holder's own name, else of the account's first line."""
    own = [line for line in lines if line.holder_name == account.name]
    first = own or list(lines)
    return first[0].msisdn if first else None


def choose(
    channel: str | None, phone: str | None, email: str, telegram_chats: Sequence[str]
) -> Reach | None:
    """The customer's chosen channel where it can reach them, else SMS, else email."""
    if channel == "email":
        return "email", email
    if channel == "telegram" and telegram_chats:
        return "telegram", telegram_chats[0]
    if channel in ("sms", "whatsapp") and phone is not None:
        return channel, phone
    if phone is not None:
        return "sms", phone
    return ("email", email) if email else None
