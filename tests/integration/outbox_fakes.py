"""Test doubles on the outbox's Sender port, builders for outbound messages, a bar via chat."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from bot.outbox import RetryPolicy
from bot.outbox.ports import SendContext
from bot.types import Option, OutboundMessage, Reply

ALEX, SAM = "+12025550101", "+12025550102"
# Backoff at its ceiling every time, so the delays can be asserted: 5 s, 10 s, 20 s, …
NO_JITTER = RetryPolicy(jitter=lambda: 1.0)


def notice(
    key: str,
    *,
    channel: str = "sms",
    address: str = ALEX,
    text: str = "Your line was barred.",
    account_id: int | None = None,
) -> OutboundMessage:
    return OutboundMessage(
        channel=channel,
        address=address,
        replies=(Reply(text=text),),
        kind="test_notice",
        dedupe_key=key,
        account_id=account_id,
    )


def rich_notice(key: str) -> OutboundMessage:
    """Every kind of reply content the outbox must keep channel-neutral."""
    replies = (
        Reply(text="Your bill is ready.", link="https://example.test/i/1", link_label="View"),
        Reply(
            text="Pay now?",
            options=(Option("Yes", "yes"), Option("Later", "later")),
            image_url="https://example.test/qr.png",
            document_url="https://example.test/i/1.pdf",
            document_name="INV-1.pdf",
        ),
    )
    return OutboundMessage("sms", ALEX, replies, "bill_ready", key, account_id=7)


@dataclass(frozen=True, slots=True)
class Sent:
    address: str
    texts: tuple[str, ...]
    idempotency_key: str


class FakeSender:
    """A provider: raises the scripted errors on the first calls, refuses some addresses."""

    def __init__(
        self, *failures: BaseException, refuse: Mapping[str, BaseException] | None = None
    ) -> None:
        self.failures = list(failures)
        self.refuse = dict(refuse or {})
        self.calls: list[str] = []  # the idempotency key of every attempt
        self.sent: list[Sent] = []

    async def send(self, address: str, replies: Sequence[Reply], *, context: SendContext) -> str:
        idempotency_key = context.idempotency_key
        self.calls.append(idempotency_key)
        await asyncio.sleep(0)  # a real provider call yields; lets other workers interleave
        if address in self.refuse:
            raise self.refuse[address]
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append(Sent(address, tuple(r.text for r in replies), idempotency_key))
        return f"FAKE{len(self.sent)}"


class BlockingSender(FakeSender):
    """A provider call that hangs until `release()`: a slow provider, or a worker about to die."""

    def __init__(self) -> None:
        super().__init__()
        self.started = asyncio.Event()
        self._release = asyncio.Event()

    def release(self) -> None:
        self._release.set()

    async def send(self, address: str, replies: Sequence[Reply], *, context: SendContext) -> str:
        idempotency_key = context.idempotency_key
        self.calls.append(idempotency_key)
        self.started.set()
        await self._release.wait()
        self.sent.append(Sent(address, tuple(r.text for r in replies), idempotency_key))
        return f"SLOW{len(self.sent)}"


async def bar_jordans_line(http: httpx.AsyncClient) -> str:
    """Sam bars Jordan's line through the web chat API; the last replies' text."""
    session: dict[str, str] = {}

    async def say(text: str) -> list[dict[str, Any]]:
        response = await http.post("/api/chat", json={"text": text, "as": SAM, **session})
        assert response.status_code == 200, response.text
        session["session"] = response.json()["session"]
        return list(response.json()["replies"])

    lines = await say("I lost my phone")
    await say(_option(lines, "Jordan"))
    await say("1357")
    return " ".join(reply["text"] for reply in await say("yes"))


def _option(replies: list[dict[str, Any]], containing: str) -> str:
    for reply in replies:
        pairs = zip(reply.get("options", []), reply.get("option_values", []), strict=True)
        for label, value in pairs:
            if containing in label:
                return str(value)
    raise AssertionError(f"no option {containing!r} in {replies}")
