"""A payment is confirmed in the conversation its pay link came from, once, on both databases;
the web chat page picks the confirmation up by polling."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from urllib.parse import urlsplit

import httpx

from billing_client import Payment
from bot.pay_confirm import confirm_payment
from bot.services import Services
from bot.store.pay_origins import Origin, origin_of, record_origin
from bot.types import InboundMessage
from tests.helpers import client_for

ALEX, SAM = "+12025550101", "+12025550102"
_ids = itertools.count(1)


async def pay_link_from_chat(services: Services, channel: str, sender: str, phone: str) -> str:
    """Ask for the pay link in a conversation; the link's id."""
    message = InboundMessage(
        channel, sender, "pay my bill", f"pc{next(_ids)}", datetime.now(UTC), as_phone=phone
    )
    [reply] = await services.conversations.handle(message)
    assert reply.link is not None, reply.text
    return link_id_of(services, reply.link)


def link_id_of(services: Services, url: str) -> str:
    token = urlsplit(url).path.removeprefix("/pay/")
    return services.links.pay_link_id(token, max_age=services.settings.pay_link_ttl_seconds)


async def pay(services: Services, link_id: str) -> Payment:
    return await services.billing.pay_link(
        link_id, provider="sandbox", provider_reference=f"ref-{link_id}", now=services.clock.now()
    )


async def confirm(services: Services, link_id: str | None, payment: Payment) -> None:
    await confirm_payment(
        services, link_id=link_id, payment=payment, invoice_number="INV-1", locale="en_US"
    )


async def receipts(services: Services) -> list[tuple[str, str]]:
    entries = await services.outbox.list(limit=100)
    return [(e.channel, e.recipient) for e in entries if e.kind == "payment_received"]


async def test_a_pay_link_remembers_the_chat_it_was_sent_to(demo_services: Services) -> None:
    on_whatsapp = await pay_link_from_chat(demo_services, "whatsapp", ALEX, ALEX)

    assert await origin_of(demo_services.sessions, on_whatsapp) == Origin("whatsapp", ALEX)


async def test_recording_an_origin_again_keeps_the_first(demo_services: Services) -> None:
    now = demo_services.clock.now()
    sessions = demo_services.sessions

    first = await record_origin(sessions, link_id="L1", origin=Origin("web", "tab-1"), now=now)
    again = await record_origin(sessions, link_id="L1", origin=Origin("sms", ALEX), now=now)

    assert (first, again) == (True, False)
    assert await origin_of(sessions, "L1") == Origin("web", "tab-1")
    assert await origin_of(sessions, "unknown-link") is None


async def test_the_confirmation_goes_to_the_origin_once_however_often_it_is_called(
    demo_services: Services,
) -> None:
    link_id = await pay_link_from_chat(demo_services, "telegram", "tg-4242", SAM)
    payment = await pay(demo_services, link_id)

    await confirm(demo_services, link_id, payment)
    await confirm(demo_services, link_id, payment)

    assert await receipts(demo_services) == [("telegram", "tg-4242")]
    [entry] = [e for e in await demo_services.outbox.list() if e.kind == "payment_received"]
    assert "We received $118.45 for invoice INV-1" in entry.text
    assert entry.account_id == payment.account_id


async def test_without_an_origin_the_confirmation_goes_where_alerts_go(
    demo_services: Services,
) -> None:
    link_id = await pay_link_from_chat(demo_services, "whatsapp", ALEX, ALEX)
    payment = await pay(demo_services, link_id)

    await confirm(demo_services, None, payment)  # e.g. autopay: no link at all

    assert await receipts(demo_services) == [("sms", ALEX)]


async def test_a_console_session_that_ended_is_not_a_place_to_confirm(
    demo_services: Services,
) -> None:
    link_id = await pay_link_from_chat(demo_services, "console", "console", SAM)
    payment = await pay(demo_services, link_id)

    await confirm(demo_services, link_id, payment)

    assert await receipts(demo_services) == [("sms", SAM)]


async def test_the_web_chat_shows_the_confirmation(services: Services) -> None:
    async with client_for(services) as client:
        asked = (await client.post("/api/chat", json={"text": "pay my bill", "as": ALEX})).json()
        session, after = asked["session"], asked["after"]
        other = (await client.post("/api/chat", json={"text": "hi", "as": SAM})).json()
        payment = await pay(services, link_id_of(services, asked["replies"][-1]["link"]))
        await confirm(services, link_id_of(services, asked["replies"][-1]["link"]), payment)

        polled = await poll(client, session, after)
        again = await poll(client, session, polled["after"])
        elsewhere = await poll(client, other["session"], other["after"])

    [message] = polled["messages"]
    assert message["kind"] == "payment_received"
    assert "We received $64.20" in message["replies"][0]["text"]
    assert again["messages"] == [] and elsewhere["messages"] == []


async def test_the_chat_page_starts_polling_from_now(services: Services) -> None:
    async with client_for(services) as client:
        first = await client.get("/api/chat/some-tab-id/messages")
        bad = await client.get("/api/chat/some-tab-id/messages?after=-1")
        huge = await client.get("/api/chat/some-tab-id/messages?after=99999999999")

    assert first.status_code == 200
    assert first.json()["messages"] == [] and isinstance(first.json()["after"], int)
    assert bad.status_code == huge.status_code == 422


async def poll(client: httpx.AsyncClient, session: str, after: int) -> dict[str, object]:
    response = await client.get(f"/api/chat/{session}/messages", params={"after": after})
    assert response.status_code == 200
    data: dict[str, object] = response.json()
    return data
