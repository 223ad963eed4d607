"""Where a step-up code may go: the holder's verified channels, never the one asking.

In order of preference: the holder's own lines by SMS, the chats linked to those numbers
(Telegram, WhatsApp), then the account email. Left out:
- the conversation asking, and — when it comes from a phone (SMS, WhatsApp) — every channel of
  that same number: a stolen phone must not receive the code that proves its owner;
- a chat linked less than `FRESH_LINK` ago (linking a chat is how a thief would add one);
- a number whose SIM changed less than `FRESH_SIM` ago, by SMS or WhatsApp (a swapped SIM is
  how a thief receives the holder's codes);
- lines not in service (a barred SIM receives nothing) and addresses that opted out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from billing_client import Account, InvalidRequestError
from bot import i18n
from bot.flow import TurnContext
from bot.phones import PhoneError, mask, normalize

FRESH_LINK = timedelta(days=7)
FRESH_SIM = timedelta(days=7)
_PHONE_CHANNELS = frozenset({"sms", "whatsapp"})
_LABELS = {
    "sms": {"en": "SMS to {where}", "es": "SMS al {where}"},
    "whatsapp": {"en": "WhatsApp to {where}", "es": "WhatsApp al {where}"},
    "telegram": {"en": "your Telegram chat", "es": "tu chat de Telegram"},
    "email": {"en": "email to {where}", "es": "correo a {where}"},
}


@dataclass(frozen=True, slots=True)
class Destination:
    """One channel address a code can be sent to."""

    channel: str
    address: str

    def label(self, locale: str) -> str:
        """How the customer reads it, with the address masked: "SMS to +1202•••0101"."""
        messages = _LABELS.get(self.channel, {"en": self.channel})
        return i18n.say(messages, locale, where=_masked(self.channel, self.address))


async def second_factors(ctx: TurnContext, account: Account) -> list[Destination]:
    """The account holder's channels a code may go to from this conversation, best first."""
    lines = await ctx.billing.list_lines(account.id)
    own = [ln.msisdn for ln in lines if ln.holder_name == account.name and ln.status == "active"]
    found = [Destination("sms", msisdn) for msisdn in own]
    found += await _linked_chats(ctx, own)
    found.append(Destination("email", account.email))
    refused = _asking(ctx) | await _fresh_sims(ctx, account)
    return [
        where
        for where in dict.fromkeys(found)
        if where not in refused and await _usable(ctx, where)
    ]


async def _linked_chats(ctx: TurnContext, numbers: list[str]) -> list[Destination]:
    """Chats linked to the numbers at least `FRESH_LINK` ago."""
    if ctx.addresses is None:
        return []
    chats: list[Destination] = []
    for msisdn in numbers:
        for channel, address in await ctx.addresses.addresses_of(msisdn):
            linked = await ctx.addresses.linked_at(channel, address)
            if linked is not None and ctx.now - linked >= FRESH_LINK:
                chats.append(Destination(channel, address))
    return chats


async def _fresh_sims(ctx: TurnContext, account: Account) -> set[Destination]:
    """The phone channels of numbers whose SIM changed less than `FRESH_SIM` ago."""
    try:
        orders = await ctx.billing.list_sim_orders(account.id)
    except InvalidRequestError:  # a billing system that records no SIM changes
        return set()
    fresh = {
        order.msisdn
        for order in orders
        if order.activated_at is not None and ctx.now - order.activated_at < FRESH_SIM
    }
    return {Destination(channel, number) for number in fresh for channel in _PHONE_CHANNELS}


def _asking(ctx: TurnContext) -> set[Destination]:
    """The conversation asking and, for a phone, every channel of its number."""
    message = ctx.message
    asking = {Destination(message.channel, message.sender)}
    if message.channel in _PHONE_CHANNELS:
        try:
            number = normalize(message.sender, default_region=ctx.settings.default_region)
        except PhoneError:
            return asking
        asking |= {Destination(channel, number) for channel in _PHONE_CHANNELS}
    return asking


async def _usable(ctx: TurnContext, where: Destination) -> bool:
    return ctx.addresses is None or await ctx.addresses.reachable(where.channel, where.address)


def _masked(channel: str, address: str) -> str:
    if channel in _PHONE_CHANNELS:
        return mask(address)
    if channel == "email":
        name, _, domain = address.partition("@")
        return f"{name[:1]}•••@{domain}"
    return ""
