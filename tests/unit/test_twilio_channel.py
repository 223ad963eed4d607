"""Twilio SMS and WhatsApp webhooks: signatures (signed by the real RequestValidator), parsing,
acknowledgements, status callbacks, WhatsApp rendering and the sender's error mapping."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from multidict import MultiDict
from twilio.base.exceptions import TwilioRestException
from twilio.request_validator import RequestValidator

from bot.channel import BadWebhook, Channel, Parsed, WebhookRejected, WebhookRequest
from bot.channel_settings import ChannelSettings
from bot.keywords import NONE, SMS, WHATSAPP
from bot.outbox.ports import DeliveryError, SendContext
from bot.types import Option, Reply
from channels.twilio import (
    TwilioSignature,
    TwilioSmsChannel,
    TwilioStatusCallbacks,
    TwilioWhatsAppChannel,
    build_twilio,
)
from channels.twilio_sender import (
    MAX_WHATSAPP_CHARS,
    OutsideWindowError,
    TwilioHttpClient,
    WhatsAppMessage,
    delivery_error,
    render_whatsapp,
    retry_after,
    template_variables,
)

TOKEN = "test-auth-token-0123456789abcdef"
NOW = datetime(2026, 11, 21, 15, 0, tzinfo=UTC)
PUBLIC = "https://bot.example.com"
SMS_URL = f"{PUBLIC}/webhooks/twilio/sms"
WA_URL = f"{PUBLIC}/webhooks/twilio/whatsapp"
STATUS_URL = f"{PUBLIC}/webhooks/twilio/status"
SID = "SM" + "a" * 32
FORM = "application/x-www-form-urlencoded"
Pairs = Sequence[tuple[str, str]]


class NoSender:
    """The channels' sender is not used by verify/parse/acknowledge."""

    async def send(self, address: str, replies: Sequence[Reply], *, context: SendContext) -> str:
        raise AssertionError("nothing is sent while reading a webhook")


def sign(url: str, pairs: Pairs, token: str = TOKEN) -> str:
    return str(RequestValidator(token).compute_signature(url, MultiDict(pairs)))


def request(
    url: str,
    pairs: Pairs,
    *,
    signature: str | None = None,
    body: bytes | None = None,
    content_type: str = FORM,
) -> WebhookRequest:
    """A POST as the web route hands it over; signed for `url` and `pairs` unless told."""
    parts = urlsplit(url)
    headers = {"content-type": content_type}
    if signature != "":
        headers["x-twilio-signature"] = signature or sign(url, pairs)
    return WebhookRequest(
        method="POST",
        url=url,
        path=parts.path,
        query=tuple(parse_qsl(parts.query)),
        headers=headers,
        body=urlencode(pairs).encode() if body is None else body,
    )


def inbound(
    body: str = "balance", sender: str = "+15551234567", **extra: str
) -> list[tuple[str, str]]:
    pairs = [
        ("MessageSid", SID),
        ("SmsSid", SID),
        ("AccountSid", "AC" + "1" * 32),
        ("From", sender),
        ("To", "+12025550100"),
        ("Body", body),
        ("NumMedia", "0"),
        ("NumSegments", "1"),
        ("SmsStatus", "received"),
        ("ApiVersion", "2010-04-01"),
    ]
    return pairs + list(extra.items())


def sms_channel() -> TwilioSmsChannel:
    return TwilioSmsChannel(TwilioSignature(TOKEN), NoSender(), lambda: NOW, "US")


def whatsapp_channel() -> TwilioWhatsAppChannel:
    return TwilioWhatsAppChannel(TwilioSignature(TOKEN), NoSender(), lambda: NOW, "US")


def status_callbacks() -> TwilioStatusCallbacks:
    return TwilioStatusCallbacks(TwilioSignature(TOKEN), lambda: NOW)


# --- signatures (channels.md §8 cases 1, 3-9) -------------------------------------------------


def test_a_correctly_signed_sms_is_accepted_and_read() -> None:
    channel = sms_channel()
    req = request(SMS_URL, inbound())
    channel.verify(req)
    (message,) = channel.parse(req).messages
    assert message.channel == "sms"
    assert message.sender == message.as_phone == "+15551234567"
    assert message.text == "balance"
    assert message.external_id == SID
    assert message.received_at == NOW
    assert message.payload == {}


def test_the_acknowledgement_is_empty_twiml() -> None:
    for webhook in (sms_channel(), whatsapp_channel(), status_callbacks()):
        response = webhook.acknowledge(Parsed())
        assert response.status == 200
        assert response.media_type == "text/xml"
        assert response.body.startswith(b'<?xml version="1.0" encoding="UTF-8"?><Response')
        assert b"<Message" not in response.body


def test_a_missing_signature_is_rejected() -> None:
    with pytest.raises(WebhookRejected):
        sms_channel().verify(request(SMS_URL, inbound(), signature=""))


def test_a_tampered_body_is_rejected() -> None:
    signature = sign(SMS_URL, inbound("balance"))
    with pytest.raises(WebhookRejected):
        sms_channel().verify(request(SMS_URL, inbound("bar my sim"), signature=signature))


def test_a_signature_made_with_another_token_is_rejected() -> None:
    signature = sign(SMS_URL, inbound(), token="someone-else")
    with pytest.raises(WebhookRejected):
        sms_channel().verify(request(SMS_URL, inbound(), signature=signature))


def test_the_public_url_is_what_counts_not_the_one_behind_the_proxy() -> None:
    internal = "http://internal:8000/webhooks/twilio/sms"
    sms_channel().verify(request(SMS_URL, inbound(), signature=sign(SMS_URL, inbound())))
    with pytest.raises(WebhookRejected):
        sms_channel().verify(request(SMS_URL, inbound(), signature=sign(internal, inbound())))


def test_a_changed_query_string_is_rejected() -> None:
    signature = sign(SMS_URL + "?a=1", inbound())
    with pytest.raises(WebhookRejected):
        sms_channel().verify(request(SMS_URL + "?a=2", inbound(), signature=signature))


@pytest.mark.parametrize(
    ("signed_for", "called"),
    [
        ("https://bot.example.com:443/webhooks/twilio/sms", SMS_URL),
        (SMS_URL, "https://bot.example.com:443/webhooks/twilio/sms"),
    ],
)
def test_a_signature_with_or_without_the_default_port_is_accepted(
    signed_for: str, called: str
) -> None:
    sms_channel().verify(request(called, inbound(), signature=sign(signed_for, inbound())))


def test_an_unknown_new_parameter_is_signed_and_ignored() -> None:
    pairs = inbound(FooNew="1")
    req = request(SMS_URL, pairs)
    sms_channel().verify(req)
    assert sms_channel().parse(req).messages[0].text == "balance"


def test_an_unknown_parameter_left_out_of_the_signature_is_rejected() -> None:
    signature = sign(SMS_URL, inbound())
    with pytest.raises(WebhookRejected):
        sms_channel().verify(request(SMS_URL, inbound(FooNew="1"), signature=signature))


def test_spaces_around_the_body_are_signed_and_kept() -> None:
    req = request(SMS_URL, inbound(" balance "))
    sms_channel().verify(req)
    assert sms_channel().parse(req).messages[0].text == " balance "


def test_repeated_field_names_are_all_signed() -> None:
    pairs = [*inbound(), ("MediaUrl", "https://a.test/1"), ("MediaUrl", "https://a.test/2")]
    sms_channel().verify(request(SMS_URL, pairs))
    with pytest.raises(WebhookRejected):
        sms_channel().verify(request(SMS_URL, pairs, signature=sign(SMS_URL, pairs[:-1])))


def test_a_json_body_is_checked_by_its_sha256_in_the_url() -> None:
    body = b'{"MessageSid": "SMx", "Body": "hi"}'
    url = f"{SMS_URL}?bodySHA256={hashlib.sha256(body).hexdigest()}"
    signature = RequestValidator(TOKEN).compute_signature(url, {})
    json_request = request(
        url, [], signature=signature, body=body, content_type="application/json"
    )
    sms_channel().verify(json_request)
    tampered = request(
        url, [], signature=signature, body=b'{"Body": "bar"}', content_type="application/json"
    )
    with pytest.raises(WebhookRejected):
        sms_channel().verify(tampered)


def test_no_auth_token_means_no_signature_checker() -> None:
    with pytest.raises(ValueError, match="Auth Token"):
        TwilioSignature("")


# --- reading SMS --------------------------------------------------------------------------------


def test_media_count_is_passed_on() -> None:
    pairs = [(k, "2" if k == "NumMedia" else v) for k, v in inbound("look")]
    (message,) = sms_channel().parse(request(SMS_URL, pairs)).messages
    assert message.payload == {"num_media": 2}


def test_a_national_looking_from_is_normalized() -> None:
    (message,) = sms_channel().parse(request(SMS_URL, inbound(sender="2025550101"))).messages
    assert message.sender == "+12025550101"


def test_an_e164_number_phonenumbers_does_not_know_yet_is_kept_as_sent() -> None:
    # +1 555 123 4567 is not a valid US number to phonenumbers, but Twilio sends E.164 as is.
    (message,) = sms_channel().parse(request(SMS_URL, inbound(sender="+15551234567"))).messages
    assert message.sender == "+15551234567"


@pytest.mark.parametrize("missing", ["MessageSid", "From"])
def test_a_webhook_without_a_required_field_is_bad(missing: str) -> None:
    pairs = [(k, v) for k, v in inbound() if k != missing]
    with pytest.raises(BadWebhook, match=missing):
        sms_channel().parse(request(SMS_URL, pairs))


@pytest.mark.parametrize("sender", ["ACME", "12345", "", "+1"])
def test_a_from_that_is_not_a_phone_number_is_bad(sender: str) -> None:
    with pytest.raises(BadWebhook, match="From"):
        sms_channel().parse(request(SMS_URL, inbound(sender=sender)))


def test_a_whatsapp_address_on_the_sms_webhook_is_bad() -> None:
    with pytest.raises(BadWebhook, match="WhatsApp"):
        sms_channel().parse(request(SMS_URL, inbound(sender="whatsapp:+15551234567")))


def test_a_body_that_is_not_a_form_is_bad() -> None:
    req = request(SMS_URL, inbound(), body=b'{"Body": "x"}', content_type="application/json")
    with pytest.raises(BadWebhook, match="x-www-form-urlencoded"):
        sms_channel().parse(req)


def test_a_body_that_is_not_utf8_is_bad() -> None:
    req = request(SMS_URL, inbound(), body=b"MessageSid=SM1&From=%2B15551234567&Body=\xff\xfe")
    with pytest.raises(BadWebhook, match="UTF-8"):
        sms_channel().parse(req)


def test_an_unreadable_body_fails_verification_unless_the_url_alone_was_signed() -> None:
    body = b"Body=\xff"
    with pytest.raises(WebhookRejected):
        sms_channel().verify(request(SMS_URL, [], signature="bogus", body=body))
    signed_url_only = RequestValidator(TOKEN).compute_signature(SMS_URL, {})
    sms_channel().verify(request(SMS_URL, [], signature=signed_url_only, body=body))


# --- reading WhatsApp (case 17) ---------------------------------------------------------------


def test_a_whatsapp_button_tap_arrives_as_its_payload_from_a_normalized_number() -> None:
    pairs = inbound(
        "Pay now", "whatsapp:+447700900123", ProfileName="Ana", ButtonPayload="PAY_INV_123"
    )
    req = request(WA_URL, pairs)
    channel = whatsapp_channel()
    channel.verify(req)
    (message,) = channel.parse(req).messages
    assert message.channel == "whatsapp"
    assert message.sender == message.as_phone == "+447700900123"
    assert message.text == "PAY_INV_123"
    assert message.external_id == SID


def test_a_whatsapp_text_without_a_button_is_its_body() -> None:
    pairs = inbound("what do I owe", "whatsapp:+447700900123", ButtonPayload="")
    (message,) = whatsapp_channel().parse(request(WA_URL, pairs)).messages
    assert message.text == "what do I owe"


def test_a_plain_number_on_the_whatsapp_webhook_is_bad() -> None:
    with pytest.raises(BadWebhook, match="WhatsApp"):
        whatsapp_channel().parse(request(WA_URL, inbound(sender="+447700900123")))


def test_each_channel_names_itself_and_its_keywords() -> None:
    assert (sms_channel().name, sms_channel().keywords) == ("sms", SMS)
    assert (whatsapp_channel().name, whatsapp_channel().keywords) == ("whatsapp", WHATSAPP)
    assert (status_callbacks().name, status_callbacks().keywords) == ("twilio_status", NONE)


def test_the_channels_fit_the_channel_protocol() -> None:
    channels: list[Channel] = [sms_channel(), whatsapp_channel()]
    assert [channel.name for channel in channels] == ["sms", "whatsapp"]


# --- status callbacks (case 15) ---------------------------------------------------------------


def callback(status: str, code: str | None = None) -> list[tuple[str, str]]:
    pairs = [
        ("MessageSid", SID),
        ("MessageStatus", status),
        ("SmsStatus", status),
        ("To", "+15551234567"),
        ("From", "+12025550100"),
        ("AccountSid", "AC" + "1" * 32),
    ]
    return pairs + ([("ErrorCode", code)] if code else [])


@pytest.mark.parametrize(
    ("twilio_status", "state"),
    [
        ("queued", "queued"),
        ("accepted", "queued"),
        ("scheduled", "queued"),
        ("sending", "queued"),
        ("sent", "sent"),
        ("delivered", "delivered"),
        ("read", "read"),
        ("undelivered", "undelivered"),
        ("failed", "failed"),
        ("canceled", "failed"),
    ],
)
def test_twilio_statuses_map_to_neutral_states(twilio_status: str, state: str) -> None:
    req = request(STATUS_URL, callback(twilio_status))
    status_callbacks().verify(req)
    parsed = status_callbacks().parse(req)
    assert parsed.messages == ()
    (status,) = parsed.statuses
    assert (status.provider_id, status.state, status.error_code) == (SID, state, None)
    assert status.at == NOW
    assert not status.permanent_failure


def test_callbacks_out_of_order_each_report_their_own_state() -> None:
    states = [
        status_callbacks().parse(request(STATUS_URL, callback(name))).statuses[0].state
        for name in ("delivered", "sent")
    ]
    assert states == ["delivered", "sent"]  # the store keeps "delivered" (moves_forward)


@pytest.mark.parametrize("code", ["30006", "21610", "21211", "21614", "21635", "63014", "63024"])
def test_an_address_that_cannot_receive_is_a_permanent_failure(code: str) -> None:
    (status,) = (
        status_callbacks().parse(request(STATUS_URL, callback("undelivered", code))).statuses
    )
    assert (status.state, status.error_code, status.permanent_failure) == (
        "undelivered",
        code,
        True,
    )


def test_a_failure_that_may_pass_is_not_permanent() -> None:
    (status,) = status_callbacks().parse(request(STATUS_URL, callback("failed", "30003"))).statuses
    assert (status.error_code, status.permanent_failure) == ("30003", False)


def test_an_unknown_status_is_acknowledged_and_ignored() -> None:
    assert (
        status_callbacks().parse(request(STATUS_URL, callback("partially_delivered"))) == Parsed()
    )


def test_a_forged_status_callback_is_rejected() -> None:
    signature = sign(STATUS_URL, callback("sent"))
    with pytest.raises(WebhookRejected):
        status_callbacks().verify(request(STATUS_URL, callback("delivered"), signature=signature))


@pytest.mark.parametrize("missing", ["MessageSid", "MessageStatus"])
def test_a_status_callback_without_its_fields_is_bad(missing: str) -> None:
    pairs = [(k, v) for k, v in callback("sent") if k not in (missing, "SmsStatus")]
    with pytest.raises(BadWebhook, match=missing):
        status_callbacks().parse(request(STATUS_URL, pairs))


# --- build_twilio -----------------------------------------------------------------------------


def credentials(*, sms_from: str = "", whatsapp_from: str = "") -> ChannelSettings:
    return ChannelSettings(
        twilio_account_sid="AC" + "1" * 32,
        twilio_auth_token=TOKEN,
        twilio_sms_from=sms_from,
        twilio_whatsapp_from=whatsapp_from,
    )


def test_nothing_is_built_without_credentials() -> None:
    built = build_twilio(
        ChannelSettings(), public_url=PUBLIC, now=lambda: NOW, default_region="US"
    )
    assert (built.sms, built.whatsapp, built.status, built.http_client) == (None, None, None, None)


def test_each_channel_is_built_only_with_its_sender() -> None:
    sms_only = build_twilio(
        credentials(sms_from="+12025550100"),
        public_url=PUBLIC,
        now=lambda: NOW,
        default_region="US",
    )
    assert sms_only.sms is not None and sms_only.sms.name == "sms"
    assert sms_only.whatsapp is None
    assert sms_only.status is not None
    whatsapp_only = build_twilio(
        credentials(whatsapp_from="whatsapp:+12025550100"),
        public_url=PUBLIC,
        now=lambda: NOW,
        default_region="US",
    )
    assert whatsapp_only.sms is None
    assert whatsapp_only.whatsapp is not None and whatsapp_only.whatsapp.name == "whatsapp"


def test_building_opens_no_connection() -> None:
    built = build_twilio(
        credentials(sms_from="+12025550100"),
        public_url=PUBLIC,
        now=lambda: NOW,
        default_region="US",
    )
    assert built.http_client is not None and built.http_client.session is None


# --- rendering for WhatsApp -------------------------------------------------------------------

QR = "https://bill.example.com/pay/abc/qr.png"


def test_whatsapp_options_are_numbered_text_and_values_stay_hidden() -> None:
    reply = Reply("You owe $64.20.", options=(Option("Pay now", "pay"), Option("Menu", "menu")))
    assert render_whatsapp([reply]) == [WhatsAppMessage("You owe $64.20.\n1. Pay now\n2. Menu")]


def test_whatsapp_keeps_unicode_and_sends_the_image_as_media() -> None:
    reply = Reply(
        "Paga aquí — gracias 🙏", link="https://p.test/x", link_label="Pagar", image_url=QR
    )
    assert render_whatsapp([reply]) == [
        WhatsAppMessage("Paga aquí — gracias 🙏\nPagar: https://p.test/x", QR)
    ]


def test_a_whatsapp_document_goes_as_a_named_link() -> None:
    reply = Reply("Your invoice.", document_url="https://p.test/i.pdf", document_name="INV-1.pdf")
    assert render_whatsapp([reply]) == [
        WhatsAppMessage("Your invoice.\nINV-1.pdf: https://p.test/i.pdf")
    ]


def test_whatsapp_replies_merge_into_one_message_with_one_image_at_most() -> None:
    replies = [
        Reply("Bill ready."),
        Reply("Scan me", image_url=QR),
        Reply("Or this", image_url=QR + "?2"),
    ]
    assert render_whatsapp(replies) == [
        WhatsAppMessage("Bill ready.\n\nScan me", QR),
        WhatsAppMessage("Or this", QR + "?2"),
    ]


def test_a_long_whatsapp_answer_is_split_under_1600_characters() -> None:
    text = " ".join(["Usage line of a long report."] * 150)
    messages = render_whatsapp([Reply(text)])
    assert len(messages) == 3
    assert all(len(message.body) <= MAX_WHATSAPP_CHARS for message in messages)
    assert " ".join(message.body for message in messages) == text


def test_template_variables_are_one_line_with_the_link() -> None:
    replies = [Reply("Your line\nis barred."), Reply("Pay:", link="https://p.test/x")]
    assert json.loads(template_variables(replies)) == {
        "1": "Your line is barred. Pay: https://p.test/x"
    }


def test_template_variables_are_cut_to_fit_the_template() -> None:
    variables = json.loads(template_variables([Reply("word " * 500)]))
    assert len(variables["1"]) <= 900
    assert variables["1"].endswith("word...")


# --- the sender's error mapping (pure) --------------------------------------------------------

URI = "/2010-04-01/Accounts/AC1/Messages.json"


def refusal(status: int, code: int, msg: str = "Unable to create record") -> DeliveryError:
    return delivery_error(TwilioRestException(status, URI, msg, code, "POST"), "+12025550101")


@pytest.mark.parametrize(
    ("status", "code", "permanent", "unreachable"),
    [
        (400, 21610, True, True),
        (400, 21211, True, True),
        (400, 21614, True, True),
        (400, 21635, True, True),
        (400, 63014, True, True),
        (400, 63024, True, True),
        (400, 63016, True, False),
        (400, 21602, True, False),
        (401, 20003, True, False),
        (429, 20429, False, False),
        (400, 21611, False, False),
        (500, 20500, False, False),
        (503, 20503, False, False),
    ],
)
def test_twilio_errors_map_to_delivery_errors(
    status: int, code: int, permanent: bool, unreachable: bool
) -> None:
    error = refusal(status, code)
    assert (error.permanent, error.unreachable) == (permanent, unreachable)
    assert str(code) in error.reason


def test_a_delivery_error_reason_masks_phone_numbers() -> None:
    error = refusal(400, 21211, "The 'To' number +12025550101 is not a valid phone number.")
    assert "+12025550101" not in error.reason
    assert "0101" in error.reason


def test_the_window_error_is_told_apart_so_the_template_can_follow() -> None:
    error = refusal(400, 63016)
    assert isinstance(error, OutsideWindowError)
    assert "24-hour window" in error.reason


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"Retry-After": "30"}, 30.0),
        ({"retry-after": "2.5"}, 2.5),
        ({"Retry-After": "Fri, 21 Nov 2026 15:00:00 GMT"}, None),
        ({"Retry-After": "inf"}, None),
        ({}, None),
    ],
)
def test_retry_after_is_read_in_seconds(headers: dict[str, str], seconds: float | None) -> None:
    assert retry_after(headers) == seconds


@pytest.mark.parametrize(
    ("base", "url", "expected"),
    [
        (
            "http://127.0.0.1:8123",
            "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json?x=1",
            "http://127.0.0.1:8123/2010-04-01/Accounts/AC1/Messages.json?x=1",
        ),
        (
            "https://twilio-proxy.internal/prefix/",
            "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json",
            "https://twilio-proxy.internal/prefix/2010-04-01/Accounts/AC1/Messages.json",
        ),
        (
            "https://api.twilio.com",
            "https://api.dublin.ie1.twilio.com/2010-04-01/Accounts/AC1/Messages.json",
            "https://api.dublin.ie1.twilio.com/2010-04-01/Accounts/AC1/Messages.json",
        ),
    ],
)
def test_rest_requests_go_to_the_configured_base(base: str, url: str, expected: str) -> None:
    assert TwilioHttpClient(base).rebase(url) == expected
