"""A conversation with the account intents (step-up verification and what it guards) the way
the engine drives them, on the in-memory billing client and address book: no database."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from billing_client import Account
from bot.flow import FlowState, TurnContext
from bot.links import LinkSigner
from bot.nlu.types import Entity
from bot.otp import OneTimeCodes
from bot.settings import Settings
from bot.types import InboundMessage, OutboundMessage, Reply
from intents.registry import default_registry
from tests.fakes import NOW, FakeBillingClient, parse

SETTINGS = Settings(demo=True, secret_key="unit-test-secret-key-0123")
REGISTRY = default_registry()
CODES = OneTimeCodes(SETTINGS.secret_key)
SAM_PHONE, JORDAN_PHONE, MARIA_PHONE = "+12025550102", "+12025550103", "+12025550104"


@dataclass
class FakeAddressBook:
    """`bot.addresses.AddressBook` in memory: chats linked to numbers, and opted-out addresses."""

    links: dict[tuple[str, str], tuple[str, datetime]] = field(default_factory=dict)
    suppressed: set[tuple[str, str]] = field(default_factory=set)

    async def phone_of(self, channel: str, address: str) -> str | None:
        found = self.links.get((channel, address))
        return found[0] if found else None

    async def link(self, channel: str, address: str, msisdn: str, *, now: datetime) -> None:
        self.links[(channel, address)] = (msisdn, now)

    async def unlink(self, channel: str, address: str) -> bool:
        return self.links.pop((channel, address), None) is not None

    async def addresses_of(self, msisdn: str) -> list[tuple[str, str]]:
        return [where for where, (number, _) in self.links.items() if number == msisdn]

    async def linked_at(self, channel: str, address: str) -> datetime | None:
        found = self.links.get((channel, address))
        return found[1] if found else None

    async def reachable(self, channel: str, address: str) -> bool:
        return (channel, address) not in self.suppressed


class Chat:
    """One requester (channel + sender) talking to the bot; `now` can be moved."""

    def __init__(
        self,
        billing: FakeBillingClient,
        account: Account | None,
        *,
        channel: str = "web",
        sender: str = "s1",
        book: FakeAddressBook | None = None,
    ) -> None:
        self.billing, self.account = billing, account
        self.channel, self.sender = channel, sender
        self.book = book if book is not None else FakeAddressBook()
        self.state = FlowState()
        self.outgoing: list[OutboundMessage] = []
        self.now = NOW
        self.last = Reply(text="")

    async def say(self, text: str, intent: str = "out_of_scope", *entities: Entity) -> str:
        ctx = TurnContext(
            message=InboundMessage(self.channel, self.sender, text, "x", self.now),
            text=text,
            parse=parse(text, intent, *entities),
            account=self.account,
            state=self.state,
            billing=self.billing,
            links=LinkSigner(SETTINGS.secret_key, SETTINGS.public_url),
            registry=REGISTRY,
            settings=SETTINGS,
            now=self.now,
            addresses=self.book,
            codes=CODES,
        )
        handler = REGISTRY.get(self.state.flow if self.state.active else intent)
        replies = await (handler.resume(ctx) if self.state.active else handler.start(ctx))
        self.outgoing += ctx.outgoing
        self.last = replies[-1]
        return "\n".join(reply.text for reply in replies)

    def code(self) -> str:
        """The code the last step-up message carries (the outbox would write it in)."""
        return CODES.code(str(self.state.slots["stepup"]["reference"]))

    def sent(self, kind: str) -> list[OutboundMessage]:
        return [message for message in self.outgoing if message.kind == kind]

    async def verify(self, pin: str, *, via: str | None = None) -> str:
        """Answer step-up's questions: the PIN, where the code goes (if asked), the code."""
        await self.say(pin)
        if via is not None:
            await self.say(via)
        return await self.say(self.code())


def sam(billing: FakeBillingClient | None = None, **kw: object) -> Chat:
    billing = billing or FakeBillingClient()
    return Chat(billing, billing.accounts[1], **kw)  # type: ignore[arg-type]


def maria(billing: FakeBillingClient | None = None, **kw: object) -> Chat:
    billing = billing or FakeBillingClient()
    return Chat(billing, billing.accounts[2], **kw)  # type: ignore[arg-type]
