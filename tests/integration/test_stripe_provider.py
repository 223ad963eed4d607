"""StripeProvider against the fake Stripe on 127.0.0.1, with the real `stripe` library between.

Each port method over the network: hosted checkout and setup, their confirmations, off-session
charges and their declines, refunds, outages and a wrong key as PaymentError, and webhooks:
verified, refused when forged, stale or malformed, and mapped to what billbot does.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from aiohttp import web

from billing_client import Money
from bot.payments import (
    ChargeOutcome,
    CheckoutRequest,
    Ignored,
    PaymentError,
    SavedMethod,
    Settled,
    SetupCompleted,
    SetupRequest,
    WebhookSignatureError,
)
from bot.payments.stripe_provider import StripeProvider
from tests.stripe_fake import FakeStripe, sign
from tests.twilio_fake import closed_port_url

AMOUNT = Money(6420, "USD")
SUCCESS = "https://billbot.test/pay/link-1/done?lang=es"
CANCEL = "https://billbot.test/pay/link-1"
CARD_NUMBER = re.compile(r"\d{13,19}")


def checkout_request(**changes: Any) -> CheckoutRequest:
    values: dict[str, Any] = {
        "reference": "link-1",
        "amount": AMOUNT,
        "description": "Invoice INV-2026-0012",
        "locale": "es_ES",
        "success_url": SUCCESS,
        "cancel_url": CANCEL,
        "customer_email": "alex@example.com",
    }
    return CheckoutRequest(**(values | changes))


def setup_request(account_id: int = 42) -> SetupRequest:
    return SetupRequest(
        account_id=account_id,
        name="Alex Doe",
        email="alex@example.com",
        currency="USD",
        locale="en_US",
        success_url="https://billbot.test/autopay/done",
        cancel_url="https://billbot.test/autopay",
    )


@pytest.fixture
async def fake() -> AsyncIterator[FakeStripe]:
    async with FakeStripe(hold_webhooks=True) as running:
        yield running


def provider_for(fake: FakeStripe, **changes: Any) -> StripeProvider:
    options: dict[str, Any] = {
        "secret_key": fake.secret_key,
        "webhook_secret": fake.webhook_secret,
        "api_base": fake.api_base,
        "max_network_retries": 0,
    }
    return StripeProvider(**(options | changes))


@pytest.fixture
async def provider(fake: FakeStripe) -> AsyncIterator[StripeProvider]:
    stripe = provider_for(fake)
    yield stripe
    await stripe.aclose()


async def saved_card(
    fake: FakeStripe, provider: StripeProvider, card: Any = "ok", *, account_id: int = 42
) -> SavedMethod:
    redirect = await provider.setup(setup_request(account_id))
    await fake.complete(redirect.provider_reference, card=card)
    method = await provider.confirm_setup(redirect.provider_reference)
    assert method is not None
    return method


def parse(provider: StripeProvider, fake: FakeStripe, event_id: str) -> Any:
    return provider.parse_webhook(*fake.signed(event_id))


def signed_event(fake: FakeStripe, event_type: str, subject: dict[str, Any]) -> tuple[bytes, str]:
    event = {"id": "evt_made_up", "object": "event", "type": event_type}
    payload = json.dumps(event | {"data": {"object": subject}}).encode()
    return payload, sign(payload, fake.webhook_secret, int(time.time()))


# --- checkout ---------------------------------------------------------------------------------
async def test_checkout_starts_a_hosted_payment_for_the_reference(
    fake: FakeStripe, provider: StripeProvider
) -> None:
    redirect = await provider.checkout(checkout_request())

    assert redirect.url == f"{fake.api_base}/checkout/{redirect.provider_reference}"
    assert redirect.provider_reference.startswith("cs_test_")
    [sent] = fake.api_requests("POST", "/v1/checkout/sessions")
    assert sent.get("mode") == "payment"
    assert sent.get("line_items[0][price_data][currency]") == "usd"
    assert sent.get("line_items[0][price_data][unit_amount]") == "6420"
    assert sent.get("line_items[0][price_data][product_data][name]") == "Invoice INV-2026-0012"
    assert sent.get("client_reference_id") == "link-1"
    assert sent.get("metadata[billbot_reference]") == "link-1"
    assert sent.get("payment_intent_data[metadata][billbot_reference]") == "link-1"
    assert sent.get("customer_email") == "alex@example.com"
    assert sent.get("locale") == "es"
    assert sent.get("success_url") == SUCCESS + "&session_id={CHECKOUT_SESSION_ID}"
    assert (sent.idempotency_key or "").startswith("billbot-checkout:link-1:")


@pytest.mark.parametrize(
    ("locale", "expected"), [("en_US", "en"), ("es-MX", "es"), ("fr", "auto")]
)
async def test_the_hosted_page_speaks_the_customers_language(
    fake: FakeStripe, provider: StripeProvider, locale: str, expected: str
) -> None:
    await provider.checkout(checkout_request(locale=locale))

    assert fake.api_requests("POST", "/v1/checkout/sessions")[0].get("locale") == expected


async def test_a_double_click_is_one_checkout_session(
    fake: FakeStripe, provider: StripeProvider
) -> None:
    first = await provider.checkout(checkout_request())
    second = await provider.checkout(checkout_request())

    assert second == first
    sessions = [o for o in fake.objects.values() if o["object"] == "checkout.session"]
    assert len(sessions) == 1
    keys = [r.idempotency_key for r in fake.api_requests("POST", "/v1/checkout/sessions")]
    assert keys[0] == keys[1]


async def test_another_amount_is_another_session(
    fake: FakeStripe, provider: StripeProvider
) -> None:
    first = await provider.checkout(checkout_request())
    second = await provider.checkout(checkout_request(amount=Money(3000, "USD")))

    assert second.provider_reference != first.provider_reference


async def test_confirm_checkout_settles_once_paid(
    fake: FakeStripe, provider: StripeProvider
) -> None:
    redirect = await provider.checkout(checkout_request())
    assert await provider.confirm_checkout(redirect.provider_reference) is None

    await fake.complete(redirect.provider_reference)
    settled = await provider.confirm_checkout(redirect.provider_reference)

    intent = fake.objects[redirect.provider_reference]["payment_intent"]
    assert settled == Settled(reference="link-1", payment_reference=intent, amount=AMOUNT)
    assert intent.startswith("pi_")


async def test_confirm_checkout_of_a_made_up_session_is_none(
    fake: FakeStripe, provider: StripeProvider
) -> None:
    assert await provider.confirm_checkout("cs_test_madeup") is None
    assert await provider.confirm_checkout("../../v1/customers") is None
    assert len(fake.requests) == 1  # only the cs_ id was asked about


async def test_confirm_checkout_of_a_setup_session_is_none(
    fake: FakeStripe, provider: StripeProvider
) -> None:
    redirect = await provider.setup(setup_request())
    await fake.complete(redirect.provider_reference)

    assert await provider.confirm_checkout(redirect.provider_reference) is None


async def test_the_hosted_page_pays_and_returns_with_the_session_id(
    fake: FakeStripe, provider: StripeProvider
) -> None:
    redirect = await provider.checkout(checkout_request())

    async with httpx.AsyncClient() as browser:
        page = await browser.get(redirect.url)
        submitted = await browser.post(redirect.url)

    assert "Pay $64.20" in page.text
    assert submitted.status_code == 303
    back = urlsplit(submitted.headers["Location"])
    assert parse_qs(back.query) == {"lang": ["es"], "session_id": [redirect.provider_reference]}
    assert await provider.confirm_checkout(redirect.provider_reference) is not None


# --- setup and autopay ------------------------------------------------------------------------
async def test_the_hosted_setup_page_can_save_a_card_that_declines_later(
    fake: FakeStripe, provider: StripeProvider
) -> None:
    redirect = await provider.setup(setup_request())

    async with httpx.AsyncClient() as browser:
        page = await browser.get(redirect.url)
        submitted = await browser.post(redirect.url, data={"decline": "1"})
    method = await provider.confirm_setup(redirect.provider_reference)

    assert "Save card" in page.text
    assert "Use a card that will be declined later" in page.text
    assert submitted.headers["Location"].endswith(f"?setup_id={redirect.provider_reference}")
    assert method is not None and method.label == "Visa •••• 0341"
    outcome = await provider.charge(method, AMOUNT, idempotency_key="k", description="Autopay")
    assert not outcome.succeeded


async def test_setup_saves_a_card_for_the_account(
    fake: FakeStripe, provider: StripeProvider
) -> None:
    redirect = await provider.setup(setup_request())
    assert await provider.confirm_setup(redirect.provider_reference) is None

    await fake.complete(redirect.provider_reference)
    method = await provider.confirm_setup(redirect.provider_reference)

    [customer] = fake.api_requests("POST", "/v1/customers")
    [session] = fake.api_requests("POST", "/v1/checkout/sessions")
    assert customer.get("metadata[billbot_account]") == "42"
    assert session.get("mode") == "setup"
    assert session.get("currency") == "usd"
    assert session.get("client_reference_id") == "42"
    assert (
        session.get("success_url")
        == "https://billbot.test/autopay/done?setup_id={CHECKOUT_SESSION_ID}"
    )
    assert method is not None
    assert method.account_id == 42
    assert method.customer_reference == session.get("customer")
    assert method.method_reference.startswith("pm_")
    assert method.label == "Visa •••• 4242"


async def test_setup_twice_is_one_customer_and_one_session(
    fake: FakeStripe, provider: StripeProvider
) -> None:
    first = await provider.setup(setup_request())
    second = await provider.setup(setup_request())

    assert second == first
    assert sum(1 for o in fake.objects.values() if o["object"] == "customer") == 1


async def test_a_charge_on_the_saved_card_succeeds_off_session(
    fake: FakeStripe, provider: StripeProvider
) -> None:
    method = await saved_card(fake, provider)

    outcome = await provider.charge(
        method, AMOUNT, idempotency_key="autopay-7", description="Autopay INV-2026-0012"
    )

    [sent] = fake.api_requests("POST", "/v1/payment_intents")
    assert outcome == ChargeOutcome(succeeded=True, payment_reference=fake.charges[0])
    assert (sent.get("off_session"), sent.get("confirm")) == ("true", "true")
    assert sent.get("payment_method") == method.method_reference
    assert sent.get("customer") == method.customer_reference
    assert (sent.get("amount"), sent.get("currency")) == ("6420", "usd")
    assert sent.get("metadata[billbot_autopay]") == "1"
    assert sent.idempotency_key == "billbot-charge:autopay-7"


async def test_the_same_charge_key_charges_once(
    fake: FakeStripe, provider: StripeProvider
) -> None:
    method = await saved_card(fake, provider)

    first = await provider.charge(method, AMOUNT, idempotency_key="k", description="Autopay")
    again = await provider.charge(method, AMOUNT, idempotency_key="k", description="Autopay")

    assert again == first
    assert len(fake.charges) == 1


@pytest.mark.parametrize(
    ("card", "reason"),
    [
        ("decline", "Your card was declined."),
        ("authentication_required", "Your card was declined. This transaction requires auth"),
    ],
)
async def test_a_declined_charge_is_an_outcome_with_the_reason(
    fake: FakeStripe, provider: StripeProvider, card: str, reason: str
) -> None:
    method = await saved_card(fake, provider, card)

    outcome = await provider.charge(method, AMOUNT, idempotency_key="k", description="Autopay")

    assert not outcome.succeeded
    assert outcome.payment_reference == fake.charges[0]
    assert outcome.reason.startswith(reason)


async def test_a_refund_goes_back_to_the_payment(
    fake: FakeStripe, provider: StripeProvider
) -> None:
    method = await saved_card(fake, provider)
    charge = await provider.charge(method, AMOUNT, idempotency_key="k", description="Autopay")

    await provider.refund(charge.payment_reference, Money(1000, "USD"), idempotency_key="r-1")
    await provider.refund(charge.payment_reference, Money(1000, "USD"), idempotency_key="r-1")

    [refund] = [o for o in fake.objects.values() if o["object"] == "refund"]
    assert (refund["payment_intent"], refund["amount"]) == (charge.payment_reference, 1000)
    with pytest.raises(PaymentError, match="greater than unrefunded"):
        await provider.refund(charge.payment_reference, AMOUNT, idempotency_key="r-2")


async def test_no_card_number_ever_leaves_billbot(
    fake: FakeStripe, provider: StripeProvider
) -> None:
    method = await saved_card(fake, provider)
    await provider.charge(method, AMOUNT, idempotency_key="k", description="Autopay")

    assert not [r.path for r in fake.requests if CARD_NUMBER.search(r.text)]


# --- failures ---------------------------------------------------------------------------------
async def test_an_unreachable_stripe_is_a_payment_error(fake: FakeStripe) -> None:
    stripe = provider_for(fake, api_base=closed_port_url())
    try:
        with pytest.raises(PaymentError, match="APIConnectionError") as raised:
            await stripe.checkout(checkout_request())
    finally:
        await stripe.aclose()

    assert fake.secret_key not in str(raised.value)
    assert raised.value.__cause__ is None


async def test_a_wrong_key_is_a_payment_error_that_does_not_repeat_it(fake: FakeStripe) -> None:
    wrong = "sk_test_" + "9" * 40
    stripe = provider_for(fake, secret_key=wrong)
    try:
        with pytest.raises(PaymentError, match="AuthenticationError") as raised:
            await stripe.setup(setup_request())
    finally:
        await stripe.aclose()

    assert wrong not in str(raised.value)
    assert "9999" not in repr(stripe)


@pytest.mark.parametrize(("status", "kind"), [(500, "APIError"), (429, "RateLimitError")])
async def test_stripe_trouble_is_a_payment_error(
    fake: FakeStripe, provider: StripeProvider, status: int, kind: str
) -> None:
    fake.fail_next(status, code="rate_limit" if status == 429 else None)

    with pytest.raises(PaymentError, match=kind):
        await provider.checkout(checkout_request())


async def test_a_retried_request_keeps_its_idempotency_key(fake: FakeStripe) -> None:
    fake.fail_next(500, should_retry=True)
    stripe = provider_for(fake, max_network_retries=1)
    try:
        redirect = await stripe.checkout(checkout_request())
    finally:
        await stripe.aclose()

    first, retry = fake.api_requests("POST", "/v1/checkout/sessions")
    assert first.idempotency_key == retry.idempotency_key
    assert redirect.provider_reference in fake.objects


# --- webhooks ---------------------------------------------------------------------------------
async def test_a_paid_checkout_webhook_is_settled(
    fake: FakeStripe, provider: StripeProvider
) -> None:
    redirect = await provider.checkout(checkout_request())
    event_id = await fake.complete(redirect.provider_reference)

    event = parse(provider, fake, event_id)

    assert (event.id, event.type) == (event_id, "checkout.session.completed")
    assert event.outcome == await provider.confirm_checkout(redirect.provider_reference)


async def test_a_setup_webhook_is_completed_by_confirm_setup(
    fake: FakeStripe, provider: StripeProvider
) -> None:
    redirect = await provider.setup(setup_request())
    event = parse(provider, fake, await fake.complete(redirect.provider_reference))

    assert event.outcome == SetupCompleted(redirect.provider_reference)
    method = await provider.confirm_setup(event.outcome.provider_reference)
    assert method is not None and method.account_id == 42


async def test_autopay_webhooks_are_charge_outcomes(
    fake: FakeStripe, provider: StripeProvider
) -> None:
    good = await saved_card(fake, provider)
    bad = await saved_card(fake, provider, "decline", account_id=43)
    paid = await provider.charge(good, AMOUNT, idempotency_key="a", description="Autopay")
    failed = await provider.charge(bad, AMOUNT, idempotency_key="b", description="Autopay")

    succeeded = parse(provider, fake, await fake.send_charge_webhook(paid.payment_reference))
    refused = parse(provider, fake, await fake.send_charge_webhook(failed.payment_reference))

    assert succeeded.type == "payment_intent.succeeded"
    assert succeeded.outcome == paid
    assert refused.type == "payment_intent.payment_failed"
    assert refused.outcome == ChargeOutcome(
        False, failed.payment_reference, "Your card was declined."
    )


@pytest.mark.parametrize(
    ("event_type", "subject", "expected"),
    [
        (
            "checkout.session.async_payment_succeeded",
            {"id": "cs_1", "mode": "payment", "payment_status": "paid", "amount_total": 500,
             "currency": "eur", "client_reference_id": "l-2", "payment_intent": "pi_2",
             "metadata": {"billbot_reference": "l-2"}},
            Settled("l-2", "pi_2", Money(500, "EUR")),
        ),
        (
            "checkout.session.completed",  # paid later (bank debit): async_payment_succeeded
            {"id": "cs_1", "mode": "payment", "payment_status": "unpaid", "amount_total": 500,
             "currency": "eur", "client_reference_id": "l-2",
             "metadata": {"billbot_reference": "l-2"}},
            Ignored("checkout.session.completed"),
        ),
        (
            "checkout.session.completed",  # another integration on the same Stripe account
            {"id": "cs_1", "mode": "payment", "payment_status": "paid", "amount_total": 500,
             "currency": "eur", "client_reference_id": "order-9", "metadata": {}},
            Ignored("checkout.session.completed"),
        ),
        (
            "payment_intent.succeeded",  # a hosted checkout's intent: the session settles it
            {"id": "pi_3", "status": "succeeded", "metadata": {"billbot_reference": "l-2"}},
            Ignored("payment_intent.succeeded"),
        ),
        (
            "checkout.session.completed",  # a setup billbot did not start
            {"id": "cs_4", "mode": "setup", "metadata": {}},
            Ignored("checkout.session.completed"),
        ),
        (
            "payment_intent.payment_failed",  # not an autopay charge
            {"id": "pi_5", "status": "requires_payment_method", "metadata": {}},
            Ignored("payment_intent.payment_failed"),
        ),
        ("customer.created", {"id": "cus_1", "object": "customer"}, Ignored("customer.created")),
    ],
)  # fmt: skip
async def test_webhooks_billbot_has_nothing_or_something_to_do_for(
    fake: FakeStripe,
    provider: StripeProvider,
    event_type: str,
    subject: dict[str, Any],
    expected: object,
) -> None:
    assert provider.parse_webhook(*signed_event(fake, event_type, subject)).outcome == expected


async def test_forged_stale_or_malformed_webhooks_are_refused(
    fake: FakeStripe, provider: StripeProvider
) -> None:
    redirect = await provider.checkout(checkout_request())
    event_id = await fake.complete(redirect.provider_reference)
    payload, signature = fake.signed(event_id)
    now = int(time.time())
    refused = [
        (payload.replace(b"6420", b"6421"), signature),  # tampered body
        fake.signed(event_id, secret="whsec_someone_else"),
        fake.signed(event_id, timestamp=now - 301),  # older than the 300 s tolerance
        (b"not json", sign(b"not json", fake.webhook_secret, now)),
        (b"[1, 2]", sign(b"[1, 2]", fake.webhook_secret, now)),
        (b'{"id": "evt_1"}', sign(b'{"id": "evt_1"}', fake.webhook_secret, now)),
        (payload, ""),
        (payload, "garbage"),
    ]

    for body, header in refused:
        with pytest.raises(WebhookSignatureError):
            provider.parse_webhook(body, header)
    assert provider.parse_webhook(*fake.signed(event_id, timestamp=now - 299)).id == event_id


# --- the fake's webhook delivery --------------------------------------------------------------
@pytest.fixture
async def receiver() -> AsyncIterator[tuple[str, list[tuple[bytes, str]]]]:
    """A webhook endpoint on 127.0.0.1 that keeps what it receives."""
    received: list[tuple[bytes, str]] = []

    async def webhook(request: web.Request) -> web.Response:
        received.append((await request.read(), request.headers["Stripe-Signature"]))
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/webhooks/stripe", webhook)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    try:
        yield f"http://{host}:{port}/webhooks/stripe", received
    finally:
        await runner.cleanup()


async def test_the_fake_signs_webhooks_as_stripe_does_and_replays_them(
    fake: FakeStripe, provider: StripeProvider, receiver: tuple[str, list[tuple[bytes, str]]]
) -> None:
    fake.webhook_url, received = receiver
    redirect = await provider.checkout(checkout_request())
    event_id = await fake.complete(redirect.provider_reference)
    assert received == [] and fake.held == [event_id]

    await fake.release_webhooks()
    await fake.send_webhook(event_id)  # Stripe's retry: the same event again

    events = [provider.parse_webhook(body, header) for body, header in received]
    assert [event.id for event in events] == [event_id, event_id]
    assert [d.status for d in fake.deliveries] == [200, 200] and fake.held == []


def test_the_threaded_fake_serves_sync_tests() -> None:
    with FakeStripe.start_in_thread(hold_webhooks=True) as fake:

        async def start() -> str:
            stripe = provider_for(fake.fake)
            try:
                return (await stripe.checkout(checkout_request())).provider_reference
            finally:
                await stripe.aclose()

        session_id = asyncio.run(start())
        event_id = fake.complete(session_id)

    assert fake.fake.event("checkout.session.completed")["id"] == event_id
    assert fake.fake.objects[session_id]["payment_status"] == "paid"
