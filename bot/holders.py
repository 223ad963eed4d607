"""Every channel an account holder verified: where notices about their account's security go.

The account email, the holder's own lines by SMS (lines in service only: a barred SIM receives
nothing) and the chats (Telegram, WhatsApp) linked to those numbers. Used by the chat flows
(minus the conversation asking) and by the billing-system paths that have no conversation
(a port-out request, a SIM activation).
"""

from __future__ import annotations

from billing_client import Account, BillingClient
from bot.addresses import AddressBook

Where = tuple[str, str]  # (channel, address)


async def verified_channels(
    billing: BillingClient,
    addresses: AddressBook | None,
    account: Account,
    *,
    skip_sms: str | None = None,
) -> list[Where]:
    """The holder's channels, the email first, without duplicates; `skip_sms` leaves out one
    number's SMS (a lost phone) but keeps the chats linked to it."""
    found: list[Where] = [("email", account.email)] if account.email else []
    lines = await billing.list_lines(account.id)
    own = [line for line in lines if line.holder_name == account.name]
    found += [
        ("sms", line.msisdn) for line in own if line.msisdn != skip_sms and line.status == "active"
    ]
    if addresses is not None:
        for msisdn in dict.fromkeys(line.msisdn for line in own):
            found += await addresses.addresses_of(msisdn)
    return list(dict.fromkeys(found))
