"""The Twilio senders with the real twilio `Client` against a fake Messages API on 127.0.0.1."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest

from bot.channel import Channel
from bot.channel_settings import ChannelSettings
from bot.outbox.ports import DeliveryError, SendContext
from bot.types import Option, Reply
from channels.twilio import TwilioChannels, build_twilio
from channels.twilio_sender import TwilioHttpClient
from tests.twilio_fake import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio, closed_port_url

PUBLIC = "https://bot.example.com"
CALLBACK = f"{PUBLIC}/webhooks/twilio/status"
SMS_FROM = "+12025550100"
WA_FROM = "whatsapp:+12025550100"
ALEX = "+12025550101"
TEMPLATE = "HX" + "b" * 32
IN_WINDOW = SendContext(kind="reply", idempotency_key="k1", window_open=True)
OUTSIDE = SendContext(kind="bar_notice", idempotency_key="k2", window_open=False)
BALANCE = Reply(
    "You owe $64.20, due Mar 24.",
    options=(Option("Pay now", "intent:pay_bill"), Option("Menu", "intent:menu")),
)


def settings_for(base: str, **overrides: Any) -> ChannelSettings:
    values: dict[str, Any] = {
        "twilio_account_sid": ACCOUNT_SID,
        "twilio_auth_token": AUTH_TOKEN,
        "twilio_sms_from": SMS_FROM,
        "twilio_whatsapp_from": WA_FROM,
        "twilio_api_base": base,
        "twilio_whatsapp_templates": {"bar_notice": TEMPLATE},
    }
    return ChannelSettings(**(values | overrides))


async def built(settings: ChannelSettings) -> AsyncIterator[TwilioChannels]:
    channels = build_twilio(
        settings, public_url=PUBLIC, now=lambda: datetime.now(UTC), default_region="US"
    )
    try:
        yield channels
    finally:
        await channels.aclose()


@pytest.fixture
async def fake() -> AsyncIterator[FakeTwilio]:
    async with FakeTwilio() as server:
        yield server


@pytest.fixture
async def twilio(fake: FakeTwilio) -> AsyncIterator[TwilioChannels]:
    async for channels in built(settings_for(fake.base_url)):
        yield channels


def sms(channels: TwilioChannels) -> Channel:
    assert channels.sms is not None
    return channels.sms


def whatsapp(channels: TwilioChannels) -> Channel:
    assert channels.whatsapp is not None
    return channels.whatsapp


# --- SMS --------------------------------------------------------------------------------------


async def test_an_sms_goes_out_with_its_body_sender_and_status_callback(
    fake: FakeTwilio, twilio: TwilioChannels
) -> None:
    sid = await sms(twilio).sender.send(ALEX, [BALANCE], context=IN_WINDOW)
    (sent,) = fake.messages
    assert sid == fake.sids[0] and sid.startswith("SM")
    assert sent.path == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    assert sent.get("To") == ALEX
    assert sent.get("From") == SMS_FROM
    assert sent.get("Body") == "You owe $64.20, due Mar 24.\n1. Pay now\n2. Menu"
    assert sent.get("StatusCallback") == CALLBACK
    assert sent.get("MessagingServiceSid") is None


async def test_an_sms_body_is_spelled_in_gsm7(fake: FakeTwilio, twilio: TwilioChannels) -> None:
    await sms(twilio).sender.send(ALEX, [Reply("It’s done — thanks! 🙏")], context=IN_WINDOW)
    assert fake.messages[0].get("Body") == "It's done - thanks!"


async def test_a_messaging_service_sends_instead_of_a_number(fake: FakeTwilio) -> None:
    settings = settings_for(fake.base_url, twilio_sms_from="", twilio_messaging_service_sid="MG1")
    async for channels in built(settings):
        await sms(channels).sender.send(ALEX, [BALANCE], context=IN_WINDOW)
    (sent,) = fake.messages
    assert sent.get("MessagingServiceSid") == "MG1"
    assert sent.get("From") is None


async def test_a_long_answer_goes_as_several_sms_and_returns_the_last_sid(
    fake: FakeTwilio, twilio: TwilioChannels
) -> None:
    replies = [Reply(f"Part {n}. " + "All your usage details are here. " * 5) for n in range(3)]
    sid = await sms(twilio).sender.send(ALEX, replies, context=IN_WINDOW)
    assert len(fake.messages) == 2
    assert sid == fake.sids[-1]


async def test_empty_replies_are_refused_without_a_request(
    fake: FakeTwilio, twilio: TwilioChannels
) -> None:
    with pytest.raises(DeliveryError) as refused:
        await sms(twilio).sender.send(ALEX, [Reply("  ")], context=IN_WINDOW)
    assert refused.value.permanent
    assert fake.requests == []


# --- WhatsApp ---------------------------------------------------------------------------------


async def test_a_whatsapp_reply_in_the_window_is_free_text(
    fake: FakeTwilio, twilio: TwilioChannels
) -> None:
    sid = await whatsapp(twilio).sender.send(ALEX, [BALANCE], context=IN_WINDOW)
    (sent,) = fake.messages
    assert sid == fake.sids[0]
    assert sent.get("To") == f"whatsapp:{ALEX}"
    assert sent.get("From") == WA_FROM
    assert sent.get("Body") == "You owe $64.20, due Mar 24.\n1. Pay now\n2. Menu"
    assert sent.get("StatusCallback") == CALLBACK
    assert sent.get("ContentSid") is None


async def test_a_whatsapp_image_goes_as_media(fake: FakeTwilio, twilio: TwilioChannels) -> None:
    reply = Reply(
        "Pay €64.20 — scan or tap", link="https://p.test/x", image_url="https://p.test/x/qr.png"
    )
    await whatsapp(twilio).sender.send(ALEX, [reply], context=IN_WINDOW)
    (sent,) = fake.messages
    assert sent.values("MediaUrl") == ["https://p.test/x/qr.png"]
    assert sent.get("Body") == "Pay €64.20 — scan or tap\nhttps://p.test/x"


async def test_outside_the_window_the_template_goes_with_no_body(
    fake: FakeTwilio, twilio: TwilioChannels
) -> None:
    replies = [Reply("Your line +1 202-555-0101 was barred.\nRef B-1.")]
    sid = await whatsapp(twilio).sender.send(ALEX, replies, context=OUTSIDE)
    (sent,) = fake.messages
    assert sid == fake.sids[0]
    assert sent.get("ContentSid") == TEMPLATE
    assert json.loads(sent.get("ContentVariables") or "") == {
        "1": "Your line +1 202-555-0101 was barred. Ref B-1."
    }
    assert sent.get("Body") is None
    assert sent.get("MediaUrl") is None
    assert sent.get("To") == f"whatsapp:{ALEX}"


async def test_outside_the_window_without_a_template_the_send_fails_for_good(
    fake: FakeTwilio, twilio: TwilioChannels
) -> None:
    context = SendContext(kind="payment_received", idempotency_key="k3", window_open=False)
    with pytest.raises(DeliveryError) as refused:
        await whatsapp(twilio).sender.send(ALEX, [Reply("Thanks")], context=context)
    assert refused.value.permanent
    assert "no template for kind 'payment_received'" in refused.value.reason
    assert fake.requests == []


async def test_the_catch_all_template_serves_any_kind(fake: FakeTwilio) -> None:
    settings = settings_for(fake.base_url, twilio_whatsapp_templates={"*": TEMPLATE})
    async for channels in built(settings):
        context = SendContext(kind="payment_received", idempotency_key="k4", window_open=False)
        await whatsapp(channels).sender.send(ALEX, [Reply("Thanks")], context=context)
    assert fake.messages[0].get("ContentSid") == TEMPLATE


# --- errors -----------------------------------------------------------------------------------


async def test_an_opted_out_recipient_is_unreachable(
    fake: FakeTwilio, twilio: TwilioChannels
) -> None:
    fake.fail_next(400, 21610, f"Attempt to send to unsubscribed recipient {ALEX}")
    with pytest.raises(DeliveryError) as refused:
        await sms(twilio).sender.send(ALEX, [BALANCE], context=IN_WINDOW)
    assert refused.value.unreachable and refused.value.permanent
    assert "21610" in refused.value.reason
    assert ALEX not in refused.value.reason
    assert AUTH_TOKEN not in refused.value.reason


async def test_too_many_requests_is_retried_after_what_twilio_said(
    fake: FakeTwilio, twilio: TwilioChannels
) -> None:
    fake.fail_next(429, 20429, "Too Many Requests", retry_after="30")
    with pytest.raises(DeliveryError) as refused:
        await sms(twilio).sender.send(ALEX, [BALANCE], context=IN_WINDOW)
    assert not refused.value.permanent
    assert refused.value.retry_after == 30.0


async def test_a_server_error_is_transient(fake: FakeTwilio, twilio: TwilioChannels) -> None:
    fake.fail_next(500, 20500, "Internal Server Error")
    with pytest.raises(DeliveryError) as refused:
        await whatsapp(twilio).sender.send(ALEX, [BALANCE], context=IN_WINDOW)
    assert not refused.value.permanent
    assert refused.value.retry_after is None


async def test_a_retry_after_is_not_carried_over_to_the_next_error(
    fake: FakeTwilio, twilio: TwilioChannels
) -> None:
    fake.fail_next(429, 20429, retry_after="30")
    fake.fail_next(503, 20503)
    for _ in range(2):
        with pytest.raises(DeliveryError) as refused:
            await sms(twilio).sender.send(ALEX, [BALANCE], context=IN_WINDOW)
    assert refused.value.retry_after is None


async def test_a_window_that_closed_after_all_falls_back_to_the_template(
    fake: FakeTwilio, twilio: TwilioChannels
) -> None:
    fake.fail_next(400, 63016, "Failed to send freeform message outside the window")
    context = SendContext(kind="bar_notice", idempotency_key="k5", window_open=True)
    sid = await whatsapp(twilio).sender.send(ALEX, [Reply("Line barred.")], context=context)
    first, second = fake.requests
    assert first.get("Body") == "Line barred."
    assert second.get("ContentSid") == TEMPLATE and second.get("Body") is None
    assert sid == fake.sids[-1]


async def test_a_closed_window_without_a_template_is_refused_for_good(
    fake: FakeTwilio, twilio: TwilioChannels
) -> None:
    fake.fail_next(400, 63016, "Failed to send freeform message outside the window")
    with pytest.raises(DeliveryError) as refused:
        await whatsapp(twilio).sender.send(ALEX, [BALANCE], context=IN_WINDOW)
    assert refused.value.permanent and not refused.value.unreachable
    assert len(fake.requests) == 1


async def test_any_other_refusal_is_permanent(fake: FakeTwilio, twilio: TwilioChannels) -> None:
    fake.fail_next(400, 21602, "Message body is required.")
    with pytest.raises(DeliveryError) as refused:
        await sms(twilio).sender.send(ALEX, [BALANCE], context=IN_WINDOW)
    assert refused.value.permanent and not refused.value.unreachable


async def test_wrong_credentials_are_refused_by_the_api(fake: FakeTwilio) -> None:
    async for channels in built(settings_for(fake.base_url, twilio_auth_token="wrong")):
        with pytest.raises(DeliveryError) as refused:
            await sms(channels).sender.send(ALEX, [BALANCE], context=IN_WINDOW)
    assert "20003" in refused.value.reason
    assert [r.authorized for r in fake.requests] == [False]


async def test_a_network_error_propagates_as_transient() -> None:
    async for channels in built(settings_for(closed_port_url())):
        with pytest.raises(aiohttp.ClientConnectionError):
            await sms(channels).sender.send(ALEX, [BALANCE], context=IN_WINDOW)


# --- the HTTP client ----------------------------------------------------------------------------


async def test_an_injected_http_client_is_used_and_left_open(fake: FakeTwilio) -> None:
    client = TwilioHttpClient(fake.base_url)
    channels = build_twilio(
        settings_for("https://api.twilio.com"),
        public_url=PUBLIC,
        now=lambda: datetime.now(UTC),
        default_region="US",
        http_client=client,
    )
    await sms(channels).sender.send(ALEX, [BALANCE], context=IN_WINDOW)
    await channels.aclose()
    assert len(fake.messages) == 1
    assert client.session is not None and not client.session.closed
    await client.close()
    assert client.session is None


async def test_one_session_serves_every_send_and_closes(
    fake: FakeTwilio, twilio: TwilioChannels
) -> None:
    await sms(twilio).sender.send(ALEX, [BALANCE], context=IN_WINDOW)
    await whatsapp(twilio).sender.send(ALEX, [BALANCE], context=IN_WINDOW)
    assert twilio.http_client is not None
    session = twilio.http_client.session
    assert session is not None and not session.closed
    await twilio.aclose()
    assert session.closed
