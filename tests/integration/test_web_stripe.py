"""Paying and autopay through Stripe (the fake on 127.0.0.1): hosted checkout, the webhook and
the customer's return in either order, replays, forgeries, late and excess payments."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import httpx
import pytest

from billing_client import Account, PaymentLink
from bot.bootstrap import build_services
from bot.clock import FakeClock
from bot.nlu import NluModel
from bot.payments.autopay import charge_due
from bot.services import Services
from tests.conftest import TEST_SECRET
from tests.helpers import client_for
from tests.stripe_fake import FakeStripe

ALEX = "+12025550101"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@pytest.fixture
async def stripe_fake() -> AsyncIterator[FakeStripe]:
    async with FakeStripe() as fake:
        yield fake


@pytest.fixture
async def stripe_services(
    demo_db_url: str, clock: FakeClock, nlu_model: NluModel, stripe_fake: FakeStripe
) -> AsyncIterator[Services]:
    from bot.settings import Settings

    settings = Settings(
        database_url=demo_db_url,
        demo=True,
        secret_key=TEST_SECRET,
        payment_provider="stripe",
        stripe_secret_key=stripe_fake.secret_key,
        stripe_webhook_secret=stripe_fake.webhook_secret,
        stripe_api_base=stripe_fake.api_base,
    )
    built = await build_services(settings, clock=clock, nlu=nlu_model)
    yield built
    await built.close()


@pytest.fixture
async def web(
    stripe_services: Services, stripe_fake: FakeStripe
) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(stripe_services) as http:
        stripe_fake.webhook_client = http
        stripe_fake.webhook_url = "http://testserver/webhooks/stripe"
        yield http


async def alex(services: Services) -> Account:
    account = await services.billing.find_account_by_msisdn(ALEX)
    assert account is not None
    return account


async def alex_link(services: Services) -> PaymentLink:
    account = await alex(services)
    now = services.clock.now()
    invoice = (await services.billing.get_balance(account.id, now=now)).open_invoices[0]
    return await services.billing.create_payment_link(
        account.id, invoice.id, now=now, ttl_seconds=3600
    )


async def due(services: Services) -> int:
    balance = await services.billing.get_balance(
        (await alex(services)).id, now=services.clock.now()
    )
    return balance.amount_due.minor


async def start(web: httpx.AsyncClient, services: Services, link: PaymentLink, **form: str) -> str:
    """Post the pay form; the Stripe session id it redirected to."""
    path = urlsplit(services.links.pay_url(link.id)).path
    page = await web.get(path)
    found = CSRF.search(page.text)
    assert found is not None
    posted = await web.post(path, data={"csrf": found.group(1), **form})
    assert posted.status_code == 303, posted.text[:300]
    assert posted.headers["location"].startswith(f"{services.settings.stripe_api_base}/checkout/")
    return posted.headers["location"].rsplit("/", 1)[-1]


def success_path(stripe_fake: FakeStripe, session_id: str) -> str:
    url = urlsplit(
        stripe_fake.objects[session_id]["success_url"].replace("{CHECKOUT_SESSION_ID}", session_id)
    )
    return f"{url.path}?{url.query}"


async def receipts(services: Services) -> int:
    return sum(1 for e in await services.outbox.list(limit=50) if e.kind == "payment_received")


async def test_the_webhook_pays_the_invoice_once_and_a_replay_does_nothing(
    web: httpx.AsyncClient, stripe_services: Services, stripe_fake: FakeStripe
) -> None:
    session_id = await start(web, stripe_services, await alex_link(stripe_services))
    event_id = await stripe_fake.complete(session_id)
    replay = await stripe_fake.send_webhook(event_id)

    assert [d.status for d in stripe_fake.deliveries] == [200, 200]
    assert json.loads(replay.payload)["id"] == event_id
    assert await due(stripe_services) == 0
    assert await receipts(stripe_services) == 1
    payments = await stripe_services.billing.list_payments((await alex(stripe_services)).id)
    assert payments[0].provider == "stripe" and payments[0].provider_reference.startswith("pi_")


async def test_no_card_data_is_ever_sent_or_asked_for(
    web: httpx.AsyncClient, stripe_services: Services, stripe_fake: FakeStripe
) -> None:
    await start(web, stripe_services, await alex_link(stripe_services))

    sent = " ".join(r.text for r in stripe_fake.requests)
    assert "card[number]" not in sent and "4242424242424242" not in sent


async def test_the_return_pays_when_the_webhook_is_late_and_the_webhook_then_adds_nothing(
    web: httpx.AsyncClient, stripe_services: Services, stripe_fake: FakeStripe
) -> None:
    stripe_fake.hold_webhooks = True
    session_id = await start(web, stripe_services, await alex_link(stripe_services))
    await stripe_fake.complete(session_id)

    page = await web.get(success_path(stripe_fake, session_id))
    assert "Paid — thank you!" in page.text and await due(stripe_services) == 0
    stripe_fake.hold_webhooks = False
    await stripe_fake.release_webhooks()
    assert [d.status for d in stripe_fake.deliveries] == [200]
    assert await receipts(stripe_services) == 1


async def test_a_return_before_the_payment_shows_it_is_being_confirmed(
    web: httpx.AsyncClient, stripe_services: Services, stripe_fake: FakeStripe
) -> None:
    session_id = await start(web, stripe_services, await alex_link(stripe_services))

    page = await web.get(success_path(stripe_fake, session_id))

    assert 'id="processing"' in page.text and await due(stripe_services) == 6420


async def test_a_payment_confirmed_after_the_link_expired_still_counts(
    web: httpx.AsyncClient,
    stripe_services: Services,
    stripe_fake: FakeStripe,
    clock: FakeClock,
) -> None:
    session_id = await start(web, stripe_services, await alex_link(stripe_services))
    clock.advance(seconds=2 * 3600)  # the customer left; the link expired meanwhile

    await stripe_fake.complete(session_id)

    assert await due(stripe_services) == 0
    assert await receipts(stripe_services) == 1


async def test_money_beyond_what_is_owed_is_refunded(
    web: httpx.AsyncClient, stripe_services: Services, stripe_fake: FakeStripe
) -> None:
    link = await alex_link(stripe_services)
    session_id = await start(web, stripe_services, link)
    account = await alex(stripe_services)
    await stripe_services.billing.record_payment(  # paid another way while on Stripe's page
        account.id,
        link.invoice_id,
        link.amount.__class__(2000, "USD"),
        provider="cash",
        provider_reference="counter-1",
        now=stripe_services.clock.now(),
    )

    await stripe_fake.complete(session_id)

    refunds = stripe_fake.api_requests("POST", "/v1/refunds")
    assert await due(stripe_services) == 0
    assert len(refunds) == 1 and refunds[0].get("amount") == "2000"


@pytest.mark.parametrize("how", ["no signature", "other secret", "tampered body", "stale"])
async def test_a_forged_webhook_is_400_and_pays_nothing(
    web: httpx.AsyncClient, stripe_services: Services, stripe_fake: FakeStripe, how: str
) -> None:
    stripe_fake.hold_webhooks = True
    session_id = await start(web, stripe_services, await alex_link(stripe_services))
    event_id = await stripe_fake.complete(session_id)
    payload, signature = stripe_fake.signed(event_id)
    if how == "other secret":
        payload, signature = stripe_fake.signed(event_id, secret="whsec_someone_else")
    elif how == "stale":
        payload, signature = stripe_fake.signed(event_id, timestamp=1_000_000_000)
    elif how == "tampered body":
        payload = payload.replace(b'"paid"', b'"paid" ')
    headers = {} if how == "no signature" else {"Stripe-Signature": signature}

    response = await web.post("/webhooks/stripe", content=payload, headers=headers)

    assert response.status_code == 400
    assert await due(stripe_services) == 6420


async def test_the_stripe_webhook_is_off_without_stripe(client: httpx.AsyncClient) -> None:
    response = await client.post("/webhooks/stripe", content=b"{}")

    assert response.status_code == 404


async def enrol(web: httpx.AsyncClient, stripe_fake: FakeStripe, *, card: str = "ok") -> None:
    page = await web.get("/account/autopay")
    found = CSRF.search(page.text)
    assert found is not None
    posted = await web.post("/account/autopay/enrol", data={"csrf": found.group(1)})
    session_id = posted.headers["location"].rsplit("/", 1)[-1]
    await stripe_fake.complete(session_id, card=card)  # type: ignore[arg-type]


async def sign_in(web: httpx.AsyncClient, services: Services) -> None:
    link = urlsplit(services.links.login_url((await alex(services)).id)).path
    page = await web.get(link)
    found = CSRF.search(page.text)
    assert found is not None
    await web.post(link, data={"csrf": found.group(1)})


async def test_autopay_through_stripe_saves_a_card_and_charges_on_the_due_day(
    web: httpx.AsyncClient,
    stripe_services: Services,
    stripe_fake: FakeStripe,
    clock: FakeClock,
) -> None:
    await sign_in(web, stripe_services)
    await enrol(web, stripe_fake)

    page = await web.get("/account/autopay")
    assert "Autopay is on with Visa •••• 4242" in page.text
    clock.advance(days=10)
    charges = await charge_due(stripe_services, now=clock.now())
    again = await charge_due(stripe_services, now=clock.now())

    assert [c.status for c in charges] == ["succeeded"] and again == []
    assert await due(stripe_services) == 0
    intents = stripe_fake.api_requests("POST", "/v1/payment_intents")
    assert len(intents) == 1 and intents[0].idempotency_key is not None


async def test_a_declined_autopay_charge_is_told_to_the_customer_with_a_pay_link(
    web: httpx.AsyncClient,
    stripe_services: Services,
    stripe_fake: FakeStripe,
    clock: FakeClock,
) -> None:
    await sign_in(web, stripe_services)
    await enrol(web, stripe_fake, card="decline")
    clock.advance(days=10)

    charges = await charge_due(stripe_services, now=clock.now())

    assert [c.status for c in charges] == ["failed"]
    notices = [
        e for e in await stripe_services.outbox.list(limit=20) if e.kind == "autopay_failed"
    ]
    assert [n.recipient for n in notices] == [ALEX]
    assert "/pay/" in notices[0].as_dict()["body"]
    assert await due(stripe_services) == 6420
