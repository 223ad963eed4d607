"""The WhatsApp Cloud API channel's pure steps: the subscription check, signatures, parsing."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.channel import BadWebhook, Channel, WebhookRejected, WebhookRequest
from bot.channel_settings import ChannelSettings
from bot.keywords import WHATSAPP
from channels.whatsapp_cloud import WhatsAppCloudChannel, build_whatsapp_cloud

NOW = datetime(2025, 3, 14, 15, 30, tzinfo=UTC)
APP_SECRET = "app-secret-for-tests"
VERIFY_TOKEN = "verify-token-for-tests"
ALEX, SAM = "12025550101", "12025550102"
SETTINGS = ChannelSettings(
    whatsapp_access_token="access-token-for-tests",
    whatsapp_app_secret=APP_SECRET,
    whatsapp_verify_token=VERIFY_TOKEN,
    whatsapp_phone_number_id="106540352242922",
)
# As Meta sends it: non-ASCII escaped, its own spacing and line breaks (channels.md §8 case 20).
RAW_BODY = (
    b'{"object":"whatsapp_business_account","entry":[{"id":"102290129340398",\n'
    b'  "changes":[{"value":{"messaging_product":"whatsapp",'
    b'"metadata":{"display_phone_number":"15550783881","phone_number_id":"106540352242922"},'
    b'"contacts":[{"profile":{"name":"Mar\\u00eda"},"wa_id":"12025550101"}],'
    b'"messages":[{"from":"12025550101","id":"wamid.HBgLMTIwMjU1NTAxMDEVAgASGBQz",'
    b'"timestamp":"1741966200","type":"text","text":{"body":"Ol\\u00e1 \\ud83d\\udc4b"}}]},'
    b'"field":"messages"}]}]}'
)


# --- helpers -----------------------------------------------------------------------------------
def sign(body: bytes, secret: str = APP_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def request(
    body: bytes,
    *,
    signature: str | None = None,
    content_type: str = "application/json",
) -> WebhookRequest:
    headers = {"content-type": content_type, "x-hub-signature-256": signature or sign(body)}
    return WebhookRequest(
        method="POST",
        url="https://bot.example.com/webhooks/whatsapp",
        path="/webhooks/whatsapp",
        query=(),
        headers=headers,
        body=body,
    )


def channel(settings: ChannelSettings = SETTINGS) -> WhatsAppCloudChannel:
    built = build_whatsapp_cloud(settings, now=lambda: NOW, default_region="US")
    assert built is not None
    return built


def text_message(wamid: str, sender: str = ALEX, body: str = "balance") -> dict[str, Any]:
    return message(wamid, sender, "text", text={"body": body})


def message(wamid: str, sender: str | None, kind: str, **content: Any) -> dict[str, Any]:
    found: dict[str, Any] = {"id": wamid, "timestamp": "1741966200", "type": kind, **content}
    if sender is not None:
        found["from"] = sender
    return found


def value(**lists: list[dict[str, Any]]) -> dict[str, Any]:
    metadata = {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"}
    return {"messaging_product": "whatsapp", "metadata": metadata, **lists}


def webhook(*entries: list[dict[str, Any]], field: str = "messages") -> dict[str, Any]:
    """A webhook body; each entry is given as the values of its changes."""
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {"id": f"WABA{i}", "changes": [{"value": v, "field": field} for v in values]}
            for i, values in enumerate(entries)
        ],
    }


def parse(body: dict[str, Any] | bytes) -> Any:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return channel().parse(request(raw))


def status(wamid: str, state: str, **extra: Any) -> dict[str, Any]:
    return {"id": wamid, "status": state, "timestamp": "1741966260", "recipient_id": SAM, **extra}


# --- the subscription check --------------------------------------------------------------------
def test_subscription_check_with_the_right_token_echoes_the_challenge() -> None:
    query = {
        "hub.mode": "subscribe",
        "hub.verify_token": VERIFY_TOKEN,
        "hub.challenge": "1158201444",
    }

    assert channel().verify_challenge(query) == "1158201444"


def test_subscription_check_reads_query_pairs_too() -> None:
    query = (
        ("hub.mode", "subscribe"),
        ("hub.challenge", "42"),
        ("hub.verify_token", VERIFY_TOKEN),
    )

    assert channel().verify_challenge(query) == "42"


@pytest.mark.parametrize("token", ["wrong", "", VERIFY_TOKEN + " ", VERIFY_TOKEN.upper()])
def test_subscription_check_with_a_wrong_token_is_rejected(token: str) -> None:
    query = {"hub.mode": "subscribe", "hub.verify_token": token, "hub.challenge": "1"}

    with pytest.raises(WebhookRejected):
        channel().verify_challenge(query)


@pytest.mark.parametrize("missing", ["hub.mode", "hub.verify_token", "hub.challenge"])
def test_subscription_check_without_a_field_is_a_bad_request(missing: str) -> None:
    query = {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1"}
    del query[missing]

    with pytest.raises(BadWebhook, match="required"):
        channel().verify_challenge(query)


def test_subscription_check_for_another_mode_is_a_bad_request() -> None:
    query = {"hub.mode": "unsubscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1"}

    with pytest.raises(BadWebhook, match="subscribe"):
        channel().verify_challenge(query)


def test_subscription_check_fails_closed_without_a_configured_token() -> None:
    unconfigured = ChannelSettings(whatsapp_app_secret=APP_SECRET)
    bare = WhatsAppCloudChannel(
        unconfigured, sender=channel().sender, now=lambda: NOW, default_region="US"
    )

    with pytest.raises(WebhookRejected):
        bare.verify_challenge(
            {"hub.mode": "subscribe", "hub.verify_token": "", "hub.challenge": "1"}
        )


# --- signatures --------------------------------------------------------------------------------
def test_signature_over_the_raw_bytes_is_accepted_and_the_unicode_read() -> None:
    raw = request(RAW_BODY)

    channel().verify(raw)
    parsed = channel().parse(raw)

    assert [m.text for m in parsed.messages] == ["Olá 👋"]


@pytest.mark.parametrize(
    "reserialise",
    [
        lambda data: json.dumps(data),
        lambda data: json.dumps(data, ensure_ascii=False),
        lambda data: json.dumps(data, separators=(",", ":")),
        lambda data: json.dumps(data, ensure_ascii=False, separators=(",", ":")),
    ],
)
def test_verifying_reserialised_json_would_reject_metas_signature(reserialise: Any) -> None:
    meta_signature = sign(RAW_BODY)
    again = reserialise(json.loads(RAW_BODY)).encode("utf-8")

    assert sign(again) != meta_signature
    with pytest.raises(WebhookRejected):
        channel().verify(request(again, signature=meta_signature))
    channel().verify(request(RAW_BODY, signature=meta_signature))


def test_a_tampered_body_is_rejected() -> None:
    tampered = RAW_BODY.replace(b"Ol\\u00e1", b"Hola")

    with pytest.raises(WebhookRejected, match="wrong"):
        channel().verify(request(tampered, signature=sign(RAW_BODY)))


def test_a_signature_made_with_another_secret_is_rejected() -> None:
    with pytest.raises(WebhookRejected, match="wrong"):
        channel().verify(request(RAW_BODY, signature=sign(RAW_BODY, "someone-elses-secret")))


@pytest.mark.parametrize(
    "header",
    [
        "",
        "sha256=",
        "sha256=nothex",
        sign(RAW_BODY).removeprefix("sha256="),
        sign(RAW_BODY).replace("sha256=", "sha1="),
        sign(RAW_BODY) + "00",
        "sha256=" + "é" * 64,
    ],
)
def test_a_missing_or_malformed_signature_is_rejected(header: str) -> None:
    raw = request(RAW_BODY)
    headers = {**raw.headers, "x-hub-signature-256": header}
    if not header:
        del headers["x-hub-signature-256"]

    with pytest.raises(WebhookRejected, match="missing or malformed"):
        channel().verify(WebhookRequest("POST", raw.url, raw.path, (), headers, RAW_BODY))


def test_signature_hex_is_compared_whatever_its_case() -> None:
    channel().verify(
        request(RAW_BODY, signature=sign(RAW_BODY).upper().replace("SHA256", "sha256"))
    )


def test_without_an_app_secret_every_request_is_rejected() -> None:
    unconfigured = ChannelSettings(whatsapp_verify_token=VERIFY_TOKEN)
    bare = WhatsAppCloudChannel(
        unconfigured, sender=channel().sender, now=lambda: NOW, default_region="US"
    )

    with pytest.raises(WebhookRejected, match="no app secret"):
        bare.verify(request(RAW_BODY, signature=sign(RAW_BODY, "")))


# --- messages ----------------------------------------------------------------------------------
def test_batched_payload_of_two_entries_with_two_messages_each_gives_four_messages() -> None:
    body = webhook(
        [value(messages=[text_message("wamid.A1"), text_message("wamid.A2", SAM, "pay")])],
        [value(messages=[text_message("wamid.B1", SAM, "usage"), text_message("wamid.B2")])],
    )

    messages = parse(body).messages

    assert [(m.external_id, m.sender, m.text) for m in messages] == [
        ("wamid.A1", "+12025550101", "balance"),
        ("wamid.A2", "+12025550102", "pay"),
        ("wamid.B1", "+12025550102", "usage"),
        ("wamid.B2", "+12025550101", "balance"),
    ]
    assert {(m.channel, m.received_at) for m in messages} == {("whatsapp", NOW)}
    assert all(m.as_phone == m.sender and m.payload == {} for m in messages)


def test_several_changes_of_one_entry_are_all_read() -> None:
    body = webhook(
        [value(messages=[text_message("wamid.1")]), value(messages=[text_message("wamid.2")])]
    )

    assert [m.external_id for m in parse(body).messages] == ["wamid.1", "wamid.2"]


def test_a_tapped_reply_button_comes_back_as_the_options_value() -> None:
    tapped = message(
        "wamid.1",
        ALEX,
        "interactive",
        interactive={
            "type": "button_reply",
            "button_reply": {"id": "pay:INV-7", "title": "Pay now"},
        },
    )

    assert parse(webhook([value(messages=[tapped])])).messages[0].text == "pay:INV-7"


def test_a_tapped_list_row_comes_back_as_the_options_value() -> None:
    row = {"id": "line:+12025550103", "title": "Jordan's line", "description": "+1 202…"}
    tapped = message(
        "wamid.1", ALEX, "interactive", interactive={"type": "list_reply", "list_reply": row}
    )

    assert parse(webhook([value(messages=[tapped])])).messages[0].text == "line:+12025550103"


@pytest.mark.parametrize(
    ("button", "text"),
    [({"payload": "PAY_INV_123", "text": "Pay"}, "PAY_INV_123"), ({"text": "Pay"}, "Pay")],
)
def test_a_template_button_gives_its_payload_else_its_text(
    button: dict[str, str], text: str
) -> None:
    tapped = message("wamid.1", ALEX, "button", button=button)

    assert parse(webhook([value(messages=[tapped])])).messages[0].text == text


@pytest.mark.parametrize(
    ("kind", "content"),
    [
        ("image", {"image": {"id": "media-1", "mime_type": "image/jpeg", "sha256": "x"}}),
        ("location", {"location": {"latitude": 40.4, "longitude": -3.7}}),
        ("sticker", {"sticker": {"id": "media-2", "animated": False}}),
        ("interactive", {"interactive": {"type": "nfm_reply", "nfm_reply": {"body": "Sent"}}}),
        ("unsupported", {"errors": [{"code": 131051, "title": "Message type unknown"}]}),
    ],
)
def test_other_kinds_arrive_as_empty_text_naming_their_type(
    kind: str, content: dict[str, Any]
) -> None:
    got = parse(webhook([value(messages=[message("wamid.1", ALEX, kind, **content)])])).messages

    assert [(m.text, m.payload) for m in got] == [("", {"type": kind})]


def test_a_reaction_to_a_reply_is_not_a_message_to_answer() -> None:
    content = {"reaction": {"message_id": "wamid.0", "emoji": "👍"}}
    liked = message("wamid.1", ALEX, "reaction", **content)

    assert parse(webhook([value(messages=[liked])])).messages == ()


def test_a_short_wa_id_is_read_as_an_international_number() -> None:
    singapore = text_message("wamid.1", sender="6561234567")

    assert parse(webhook([value(messages=[singapore])])).messages[0].sender == "+6561234567"


def test_a_message_without_a_phone_number_is_skipped_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    username_only = message(
        "wamid.BSUID", None, "text", text={"body": "hi"}, from_user_id="US.1349"
    )
    body = webhook([value(messages=[username_only, text_message("wamid.2")])])

    with caplog.at_level(logging.WARNING, "channels.whatsapp_cloud"):
        messages = parse(body).messages

    assert [m.external_id for m in messages] == ["wamid.2"]
    assert "wamid.BSUID" in caplog.text and "skipped" in caplog.text


@pytest.mark.parametrize("sender", ["", "12345", "not-a-number", "US.13491208655302741918"])
def test_a_message_from_something_that_is_not_a_phone_number_is_skipped(sender: str) -> None:
    body = webhook([value(messages=[text_message("wamid.1", sender=sender)])])

    assert parse(body).messages == ()


@pytest.mark.parametrize("wamid", [None, "", 7, "w" * 129])
def test_a_message_without_a_usable_id_is_skipped(wamid: Any) -> None:
    broken = {**text_message("x"), "id": wamid}

    assert (
        parse(webhook([value(messages=[broken, text_message("wamid.ok")])]))
        .messages[0]
        .external_id
        == "wamid.ok"
    )


def test_nul_characters_never_reach_the_store() -> None:
    sneaky = text_message("wamid.1", body="bal\x00ance")

    assert parse(webhook([value(messages=[sneaky])])).messages[0].text == "balance"


def test_changes_other_than_messages_are_ignored() -> None:
    body = webhook(
        [{"event": "APPROVED", "message_template_name": "billbot_bar_notice"}],
        field="message_template_status_update",
    )

    assert parse(body).messages == () and parse(body).statuses == ()


# --- statuses ----------------------------------------------------------------------------------
def test_a_payload_with_only_statuses_is_read() -> None:
    body = webhook([value(statuses=[status("wamid.S1", "sent"), status("wamid.S1", "delivered")])])

    parsed = parse(body)

    assert parsed.messages == ()
    assert [(s.provider_id, s.state) for s in parsed.statuses] == [
        ("wamid.S1", "sent"),
        ("wamid.S1", "delivered"),
    ]


def test_read_without_delivered_is_reported_as_read() -> None:
    read = parse(webhook([value(statuses=[status("wamid.S1", "read")])])).statuses

    assert [(s.state, s.at, s.error_code) for s in read] == [
        ("read", datetime(2025, 3, 14, 15, 31, tzinfo=UTC), None)
    ]


def test_a_failed_status_carries_its_error_code_and_a_pair_rate_failure_is_not_permanent() -> None:
    errors = [
        {"code": 131056, "title": "(Business Account, Consumer Account) pair rate limit hit"}
    ]

    [failed] = parse(
        webhook([value(statuses=[status("wamid.S1", "failed", errors=errors)])])
    ).statuses

    assert (failed.state, failed.error_code, failed.permanent_failure) == (
        "failed",
        "131056",
        False,
    )


@pytest.mark.parametrize("code", [131026, 131050])
def test_a_failed_status_for_an_address_that_cannot_receive_is_permanent(code: int) -> None:
    errors = [{"code": code, "title": "Message undeliverable"}]

    [failed] = parse(
        webhook([value(statuses=[status("wamid.S1", "failed", errors=errors)])])
    ).statuses

    assert failed.permanent_failure and failed.error_code == str(code)


def test_status_kinds_billbot_keeps_no_state_for_are_skipped() -> None:
    statuses = [
        status("wamid.S1", "deleted"),
        status("wamid.S2", "warning"),
        status("", "read"),
        status("wamid.S3", "read"),
    ]

    assert [s.provider_id for s in parse(webhook([value(statuses=statuses)])).statuses] == [
        "wamid.S3"
    ]


def test_a_status_with_an_unreadable_timestamp_has_no_time() -> None:
    odd = status("wamid.S1", "sent", timestamp="soon")

    assert parse(webhook([value(statuses=[odd])])).statuses[0].at is None


# --- malformed requests ------------------------------------------------------------------------
def test_a_body_that_is_not_json_is_a_bad_request() -> None:
    with pytest.raises(BadWebhook, match="not JSON"):
        parse(b"object=whatsapp_business_account")


@pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded", "text/plain", ""])
def test_a_body_of_another_content_type_is_a_bad_request(content_type: str) -> None:
    raw = request(RAW_BODY, content_type=content_type)

    with pytest.raises(BadWebhook, match="application/json"):
        channel().parse(raw)


def test_json_with_a_charset_parameter_is_read() -> None:
    raw = request(RAW_BODY, content_type="application/json; charset=utf-8")

    assert len(channel().parse(raw).messages) == 1


def test_a_body_that_is_not_utf8_is_a_bad_request() -> None:
    with pytest.raises(BadWebhook, match="UTF-8"):
        parse(b'{"object": "whatsapp_business_account", "entry": ["\xff\xfe"]}')


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ([], "not a JSON object"),
        ({"entry": []}, "object must be whatsapp_business_account"),
        ({"object": "page", "entry": []}, "object must be whatsapp_business_account"),
        ({"object": "whatsapp_business_account"}, "entry must be a list"),
        ({"object": "whatsapp_business_account", "entry": {}}, "entry must be a list"),
        ({"object": "whatsapp_business_account", "entry": [7]}, r"entry\[0\] must be an object"),
        (
            {"object": "whatsapp_business_account", "entry": [{}]},
            r"entry\[0\].changes must be a list",
        ),
        (
            {
                "object": "whatsapp_business_account",
                "entry": [{"changes": [{"field": "messages"}]}],
            },
            r"changes\[0\].value must be an object",
        ),
        (webhook([{"messages": {}}]), "messages must be a list"),
        (webhook([{"statuses": ["sent"]}]), r"statuses\[0\] must be an object"),
    ],
)
def test_a_body_missing_its_fields_is_a_bad_request_naming_them(body: Any, reason: str) -> None:
    with pytest.raises(BadWebhook, match=reason):
        parse(json.dumps(body).encode())


def test_a_one_megabyte_batch_just_parses() -> None:
    many = [text_message(f"wamid.{n}", body="x" * 1000) for n in range(1000)]
    raw = json.dumps(webhook([value(messages=many)])).encode()

    assert len(raw) > 1_000_000
    assert len(parse(raw).messages) == 1000


@pytest.mark.parametrize("raw", [b"[" * 1_000_000, b"{" * 1_000_000, b"\x00" * 1_000_000])
def test_a_one_megabyte_unreadable_body_is_refused_with_a_reason(raw: bytes) -> None:
    with pytest.raises(BadWebhook, match="not JSON"):
        parse(raw)


# --- the rest of the seam ----------------------------------------------------------------------
def test_the_acknowledgement_is_a_plain_ok_and_never_a_reply() -> None:
    response = channel().acknowledge(parse(RAW_BODY))

    assert (response.status, response.body, response.media_type) == (200, b"ok", "text/plain")


def test_the_channel_is_whatsapp_and_honours_the_whatsapp_keywords() -> None:
    seam: Channel = channel()  # mypy checks the protocol; the sender is the outbox's Sender

    assert (seam.name, seam.keywords) == ("whatsapp", WHATSAPP)


def test_the_builder_gives_no_channel_without_every_credential() -> None:
    partial = ChannelSettings(whatsapp_access_token="t", whatsapp_app_secret="s")

    assert build_whatsapp_cloud(partial, now=lambda: NOW, default_region="US") is None
