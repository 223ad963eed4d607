"""WhatsApp through Twilio end to end: a signed webhook in, the engine, the outbox, REST out.

Requests are signed with twilio's real `RequestValidator` over the public URL; replies go to a
fake Twilio REST server on 127.0.0.1 through the real twilio `Client` (tests/twilio_fake.py).
WhatsApp addresses travel as `whatsapp:+E164` on the wire and as plain E.164 inside billbot.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncIterator, Callable
from urllib.parse import urlencode

import httpx
import pytest
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from bot.bootstrap import build_services
from bot.channel_settings import ChannelSettings
from bot.clock import FakeClock
from bot.nlu import NluModel
from bot.services import Services
from bot.settings import Settings
from bot.store.models import InboundRecord, OutboxMessage
from bot.types import OutboundMessage, Reply
from tests.helpers import TEST_SECRET, client_for, live_settings
from tests.twilio_fake import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio, RecordedRequest

PUBLIC = "https://bot.example.test"
WA_URL = PUBLIC + "/webhooks/twilio/whatsapp"
SMS_URL = PUBLIC + "/webhooks/twilio/sms"
STATUS_URL = PUBLIC + "/webhooks/twilio/status"
FORM = "application/x-www-form-urlencoded"
ALEX, SAM, STRANGER = "+12025550101", "+12025550102", "+12025550199"
OUR_WHATSAPP = "whatsapp:+12025550999"
BILL_READY = "HX" + "b" * 32
BAR_NOTICE = "HX" + "c" * 32
# No catch-all "*": a kind without its own template cannot go out of the window at all.
TEMPLATES = {"bill_ready": BILL_READY, "bar_notice": BAR_NOTICE}
_sids = itertools.count(1)


@pytest.fixture
async def whatsapp(
    demo_sqlite_url: str, clock: FakeClock, nlu_model: NluModel, twilio: FakeTwilio
) -> AsyncIterator[Services]:
    channels = ChannelSettings(
        twilio_account_sid=ACCOUNT_SID,
        twilio_auth_token=AUTH_TOKEN,
        twilio_whatsapp_from=OUR_WHATSAPP,
        twilio_api_base=twilio.base_url,
        twilio_whatsapp_templates=TEMPLATES,
    )
    settings = live_settings(demo_sqlite_url, channels, public_url=PUBLIC)
    built = await build_services(settings, clock=clock, nlu=nlu_model)
    yield built
    await built.close()


@pytest.fixture
async def http(whatsapp: Services) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(whatsapp) as client:
        yield client


def signed(url: str, params: dict[str, str]) -> dict[str, str]:
    signature = RequestValidator(AUTH_TOKEN).compute_signature(url, params)
    return {"X-Twilio-Signature": signature, "Content-Type": FORM}


def inbound(text: str, sender: str = ALEX, sid: str | None = None, **extra: str) -> dict[str, str]:
    """An inbound WhatsApp webhook's form, as Twilio sends it."""
    sid = sid or f"SM{next(_sids):032d}"
    return {
        "MessageSid": sid,
        "SmsMessageSid": sid,
        "AccountSid": ACCOUNT_SID,
        "From": "whatsapp:" + sender,
        "To": OUR_WHATSAPP,
        "Body": text,
        "NumMedia": "0",
        "NumSegments": "1",
        "ProfileName": "Customer",
        "WaId": sender.removeprefix("+"),
        "SmsStatus": "received",
        "ApiVersion": "2010-04-01",
        **extra,
    }


async def post(http: httpx.AsyncClient, params: dict[str, str]) -> httpx.Response:
    return await http.post(WA_URL, content=urlencode(params), headers=signed(WA_URL, params))


async def say(
    http: httpx.AsyncClient, services: Services, body: str, sender: str = ALEX, **extra: str
) -> httpx.Response:
    """Post one signed WhatsApp message, then let the outbox deliver what it queued."""
    response = await post(http, inbound(body, sender, **extra))
    await services.outbox.flush(seconds=5)
    return response


def sent_to(twilio: FakeTwilio, number: str) -> list[RecordedRequest]:
    return [m for m in twilio.messages if m.get("To") == "whatsapp:" + number]


def bodies(twilio: FakeTwilio, number: str) -> list[str]:
    return [m.get("Body") or "" for m in sent_to(twilio, number)]


def bill_ready(address: str = ALEX, key: str = "bill:2025-03") -> OutboundMessage:
    return OutboundMessage(
        channel="whatsapp",
        address=address,
        replies=(Reply("Your bill is ready"),),
        kind="bill_ready",
        dedupe_key=f"bill_ready:{key}:{address}",
    )


async def count(services: Services, model: type, **where: str) -> int:
    async with services.sessions() as session:
        query = select(func.count()).select_from(model)
        for name, value in where.items():
            query = query.where(getattr(model, name) == value)
        return int(await session.scalar(query) or 0)


# --- conversations ----------------------------------------------------------------------------
async def test_a_balance_question_is_answered_on_whatsapp_from_the_whatsapp_sender(
    http: httpx.AsyncClient, whatsapp: Services, twilio: FakeTwilio
) -> None:
    response = await say(http, whatsapp, "what do I owe")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/xml")
    assert "<Message" not in response.text  # the answer goes out through the REST API only
    (reply,) = twilio.messages
    assert reply.get("To") == "whatsapp:" + ALEX
    assert reply.get("From") == OUR_WHATSAPP
    assert reply.get("StatusCallback") == STATUS_URL
    assert "$64.20" in (reply.get("Body") or "")
    assert reply.get("ContentSid") is None  # the customer just wrote: free-form
    assert await count(whatsapp, InboundRecord, channel="whatsapp", sender=ALEX) == 1


async def test_a_pay_link_reaches_the_customer_on_whatsapp(
    http: httpx.AsyncClient, whatsapp: Services, twilio: FakeTwilio
) -> None:
    await say(http, whatsapp, "pay my bill")

    (reply,) = sent_to(twilio, ALEX)
    body = reply.get("Body") or ""
    assert f"{PUBLIC}/pay/" in body
    assert "intent:" not in body  # option payloads never show
    assert all(url.startswith(f"{PUBLIC}/pay/") for url in reply.values("MediaUrl"))


async def test_a_lost_line_is_barred_from_another_whatsapp_number_in_three_messages(
    http: httpx.AsyncClient, whatsapp: Services, twilio: FakeTwilio
) -> None:
    await say(http, whatsapp, "I lost my phone, it was 202-555-0101", sender=STRANGER)
    await say(http, whatsapp, "2468", sender=STRANGER)
    await say(http, whatsapp, "yes", sender=STRANGER)

    replies = bodies(twilio, STRANGER)
    assert len(replies) == 3
    assert "B-" in replies[-1]
    everything_sent = [value for m in twilio.requests for _, value in m.form]
    assert not any("2468" in value for value in everything_sent)
    assert not any("2468" in entry.text for entry in await whatsapp.outbox.list())
    (line,) = await whatsapp.billing.list_lines(1)
    assert (line.msisdn, line.status) == (ALEX, "barred")


async def test_a_problem_report_on_whatsapp_opens_a_ticket(
    http: httpx.AsyncClient, whatsapp: Services, twilio: FakeTwilio
) -> None:
    await say(http, whatsapp, "my internet keeps dropping every evening")
    await say(http, whatsapp, "yes")

    replies = bodies(twilio, ALEX)
    assert len(replies) == 2
    assert "T-" in replies[-1]


async def test_a_tapped_buttons_payload_is_taken_as_the_chosen_option(
    http: httpx.AsyncClient, whatsapp: Services, twilio: FakeTwilio
) -> None:
    await say(http, whatsapp, "my phone was stolen", sender=SAM)
    assert "Jordan Lee" in bodies(twilio, SAM)[-1]

    # The label alone names no line: only the payload (the option's value) says which one.
    tap = {"ButtonText": "Jordan Lee", "ButtonPayload": "line:3"}
    await say(http, whatsapp, "Jordan Lee", sender=SAM, **tap)

    assert "PIN" in bodies(twilio, SAM)[-1]
    assert "202-555-0103" in bodies(twilio, SAM)[-1]


# --- signatures -------------------------------------------------------------------------------
def _missing(params: dict[str, str]) -> dict[str, str]:
    return {"Content-Type": FORM}


def _forged(params: dict[str, str]) -> dict[str, str]:
    return {"Content-Type": FORM, "X-Twilio-Signature": "Zm9yZ2VkIHNpZ25hdHVyZQ=="}


def _for_another_url(params: dict[str, str]) -> dict[str, str]:
    return signed(SMS_URL, params)  # a real signature, but for the SMS webhook's URL


def _for_other_fields(params: dict[str, str]) -> dict[str, str]:
    return signed(WA_URL, {**params, "Body": "balance"})  # signed before Body was changed


@pytest.mark.parametrize(
    "headers_for",
    [_missing, _forged, _for_another_url, _for_other_fields],
    ids=["missing", "forged", "another-url", "tampered-body"],
)
async def test_an_unsigned_or_forged_whatsapp_webhook_is_refused_and_nothing_is_stored(
    http: httpx.AsyncClient,
    whatsapp: Services,
    twilio: FakeTwilio,
    headers_for: Callable[[dict[str, str]], dict[str, str]],
) -> None:
    params = inbound("bar my line")
    headers = headers_for(params)

    response = await http.post(WA_URL, content=urlencode(params), headers=headers)
    await whatsapp.outbox.flush(seconds=5)

    assert response.status_code == 403
    assert await count(whatsapp, InboundRecord) == 0
    assert await count(whatsapp, OutboxMessage) == 0
    assert twilio.requests == []


async def test_an_sms_sender_on_the_whatsapp_webhook_is_a_400(
    http: httpx.AsyncClient, whatsapp: Services
) -> None:
    params = {**inbound("balance"), "From": ALEX}

    response = await post(http, params)

    assert response.status_code == 400
    assert "whatsapp" in response.json()["detail"].lower()
    assert await count(whatsapp, InboundRecord) == 0


async def test_the_whatsapp_webhook_answers_404_when_only_sms_is_configured(
    demo_sqlite_url: str, clock: FakeClock, nlu_model: NluModel
) -> None:
    channels = ChannelSettings(
        twilio_account_sid=ACCOUNT_SID, twilio_auth_token=AUTH_TOKEN, twilio_sms_from=ALEX
    )
    settings = Settings(
        database_url=demo_sqlite_url,
        demo=True,
        secret_key=TEST_SECRET,
        public_url=PUBLIC,
        channels=channels,
    )
    services = await build_services(settings, clock=clock, nlu=nlu_model)
    try:
        async with client_for(services) as client:
            response = await post(client, inbound("balance"))
    finally:
        await services.close()
    assert response.status_code == 404


# --- retries and duplicates -------------------------------------------------------------------
async def _sam_about_to_bar_jordans_line(
    http: httpx.AsyncClient, whatsapp: Services, twilio: FakeTwilio
) -> None:
    await say(http, whatsapp, "my phone was stolen", sender=SAM)
    await say(http, whatsapp, "2", sender=SAM)  # Jordan's line
    await say(http, whatsapp, "1357", sender=SAM)
    assert "Block the SIM for +1 202-555-0103" in bodies(twilio, SAM)[-1]


async def test_fifty_copies_of_one_whatsapp_webhook_send_one_reply_and_bar_once(
    http: httpx.AsyncClient, whatsapp: Services, twilio: FakeTwilio
) -> None:
    await _sam_about_to_bar_jordans_line(http, whatsapp, twilio)
    sid = "SM" + "9" * 32
    params = inbound("yes", SAM, sid=sid)
    before = len(sent_to(twilio, SAM))

    responses = await asyncio.gather(*(post(http, params) for _ in range(50)))
    await whatsapp.outbox.flush(seconds=5)

    assert {r.status_code for r in responses} <= {200, 503}
    assert len(sent_to(twilio, SAM)) == before + 1
    assert "B-" in bodies(twilio, SAM)[-1]
    lines = {line.msisdn: line.status for line in await whatsapp.billing.list_lines(2)}
    assert lines == {SAM: "active", "+12025550103": "barred"}
    assert await count(whatsapp, InboundRecord, external_id=sid) == 1
    assert await count(whatsapp, OutboxMessage, dedupe_key=f"reply:whatsapp:{sid}") == 1


async def test_the_customer_is_still_answered_after_fifty_copies_of_one_webhook(
    http: httpx.AsyncClient, whatsapp: Services, twilio: FakeTwilio
) -> None:
    params = inbound("balance", ALEX, sid="SM" + "8" * 32)
    await asyncio.gather(*(post(http, params) for _ in range(50)))
    await whatsapp.outbox.flush(seconds=5)
    assert len(sent_to(twilio, ALEX)) == 1

    await say(http, whatsapp, "pay my bill")  # a new message, seconds later

    assert len(sent_to(twilio, ALEX)) == 2
    assert f"{PUBLIC}/pay/" in bodies(twilio, ALEX)[-1]


# --- compliance -------------------------------------------------------------------------------
async def test_stop_on_whatsapp_silences_the_number_until_start(
    http: httpx.AsyncClient, whatsapp: Services, twilio: FakeTwilio
) -> None:
    await say(http, whatsapp, "balance")
    await say(http, whatsapp, "STOP")
    await say(http, whatsapp, "stop")  # a second STOP: no second confirmation
    await say(http, whatsapp, "balance")
    await whatsapp.outbox.enqueue(bill_ready())
    await whatsapp.outbox.flush(seconds=5)
    replies = bodies(twilio, ALEX)
    assert len(replies) == 2  # the balance, then the one confirmation
    assert "START" in replies[-1]

    await say(http, whatsapp, "START")
    await say(http, whatsapp, "balance")

    replies = bodies(twilio, ALEX)
    assert len(replies) == 4
    assert "STOP" in replies[2]  # the opt-in confirmation says how to leave again
    assert "$64.20" in replies[3]
    assert all(m.get("ContentSid") is None for m in sent_to(twilio, ALEX))  # bill_ready held


async def test_stop_as_a_customers_first_whatsapp_message_is_confirmed_free_form(
    http: httpx.AsyncClient, whatsapp: Services, twilio: FakeTwilio
) -> None:
    await say(http, whatsapp, "STOP")

    (confirmation,) = sent_to(twilio, ALEX)
    assert "START" in (confirmation.get("Body") or "")


async def test_help_a_day_after_the_last_conversation_is_answered_free_form(
    http: httpx.AsyncClient, whatsapp: Services, twilio: FakeTwilio, clock: FakeClock
) -> None:
    await say(http, whatsapp, "balance")
    clock.advance(hours=25)

    await say(http, whatsapp, "HELP")

    help_reply = sent_to(twilio, ALEX)[-1]
    assert "STOP" in (help_reply.get("Body") or "")


# --- status callbacks -------------------------------------------------------------------------
async def status(http: httpx.AsyncClient, sid: str, state: str, **extra: str) -> httpx.Response:
    params = {
        "MessageSid": sid,
        "SmsSid": sid,
        "MessageStatus": state,
        "AccountSid": ACCOUNT_SID,
        "From": OUR_WHATSAPP,
        "To": "whatsapp:" + ALEX,
        "ChannelPrefix": "whatsapp",
        "ApiVersion": "2010-04-01",
        **extra,
    }
    return await http.post(
        STATUS_URL, content=urlencode(params), headers=signed(STATUS_URL, params)
    )


async def test_whatsapp_status_callbacks_move_the_reply_forward_never_back(
    http: httpx.AsyncClient, whatsapp: Services, twilio: FakeTwilio
) -> None:
    await say(http, whatsapp, "balance")
    sid = twilio.sids[-1]

    for state in ("sent", "read", "delivered"):  # read overtakes delivered
        response = await status(http, sid, state)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/xml")

    (entry,) = await whatsapp.outbox.list()
    assert (entry.provider_id, entry.status, entry.provider_status) == (sid, "sent", "read")


async def test_a_forged_status_callback_changes_nothing(
    http: httpx.AsyncClient, whatsapp: Services, twilio: FakeTwilio
) -> None:
    await say(http, whatsapp, "balance")
    params = {"MessageSid": twilio.sids[-1], "MessageStatus": "failed", "ErrorCode": "63024"}

    response = await http.post(
        STATUS_URL,
        content=urlencode(params),
        headers={"Content-Type": FORM, "X-Twilio-Signature": "Zm9yZ2Vk"},
    )

    assert response.status_code == 403
    (entry,) = await whatsapp.outbox.list()
    assert entry.provider_status is None


async def test_a_customer_who_blocked_the_sender_gets_no_proactive_messages(
    http: httpx.AsyncClient, whatsapp: Services, twilio: FakeTwilio
) -> None:
    await say(http, whatsapp, "balance")
    await status(http, twilio.sids[-1], "undelivered", ErrorCode="63014")

    await whatsapp.outbox.enqueue(bill_ready())
    await whatsapp.outbox.flush(seconds=5)

    assert len(sent_to(twilio, ALEX)) == 1
    alert = next(e for e in await whatsapp.outbox.list() if e.kind == "bill_ready")
    assert alert.status == "suppressed"


# --- the 24-hour window -----------------------------------------------------------------------
@pytest.mark.parametrize("history", ["never-wrote", "wrote-25-hours-ago"])
async def test_a_proactive_message_outside_the_window_goes_as_the_kinds_template(
    http: httpx.AsyncClient,
    whatsapp: Services,
    twilio: FakeTwilio,
    clock: FakeClock,
    history: str,
) -> None:
    if history == "wrote-25-hours-ago":
        await say(http, whatsapp, "balance")
        clock.advance(hours=25)
    before = len(sent_to(twilio, ALEX))

    await whatsapp.outbox.enqueue(bill_ready())
    await whatsapp.outbox.flush(seconds=5)

    (alert,) = sent_to(twilio, ALEX)[before:]
    assert alert.get("ContentSid") == BILL_READY
    assert alert.get("Body") is None and alert.get("MediaUrl") is None
    assert json.loads(alert.get("ContentVariables") or "{}") == {"1": "Your bill is ready"}
    assert alert.get("From") == OUR_WHATSAPP
    assert alert.get("StatusCallback") == STATUS_URL


async def test_a_proactive_message_inside_the_window_goes_free_form(
    http: httpx.AsyncClient, whatsapp: Services, twilio: FakeTwilio, clock: FakeClock
) -> None:
    await say(http, whatsapp, "balance")
    clock.advance(hours=2)

    await whatsapp.outbox.enqueue(bill_ready())
    await whatsapp.outbox.flush(seconds=5)

    alert = sent_to(twilio, ALEX)[-1]
    assert alert.get("Body") == "Your bill is ready"
    assert alert.get("ContentSid") is None


async def test_the_window_ends_twenty_four_hours_after_the_customers_last_message(
    http: httpx.AsyncClient, whatsapp: Services, twilio: FakeTwilio, clock: FakeClock
) -> None:
    await say(http, whatsapp, "balance")
    clock.advance(hours=20)
    await say(http, whatsapp, "usage")  # writing again restarts the window
    clock.advance(hours=20)

    await whatsapp.outbox.enqueue(bill_ready())
    await whatsapp.outbox.flush(seconds=5)

    alert = sent_to(twilio, ALEX)[-1]
    assert alert.get("Body") == "Your bill is ready"


async def test_a_closed_window_twilio_reports_63016_falls_back_to_the_template(
    http: httpx.AsyncClient, whatsapp: Services, twilio: FakeTwilio, clock: FakeClock
) -> None:
    await say(http, whatsapp, "balance")
    clock.advance(hours=1)
    twilio.fail_next(400, 63016, "Failed to send freeform message outside the window")

    await whatsapp.outbox.enqueue(bill_ready())
    await whatsapp.outbox.flush(seconds=5)

    refused, alert = sent_to(twilio, ALEX)[-2:]
    assert refused.get("Body") == "Your bill is ready"
    assert alert.get("ContentSid") == BILL_READY and alert.get("Body") is None
    entry = next(e for e in await whatsapp.outbox.list() if e.kind == "bill_ready")
    assert entry.status == "sent"


async def test_a_kind_without_a_template_is_never_sent_free_form_outside_the_window(
    whatsapp: Services, twilio: FakeTwilio
) -> None:
    notice = OutboundMessage(
        channel="whatsapp",
        address=ALEX,
        replies=(Reply("Your data is 90% used"),),
        kind="usage_alert",
        dedupe_key="usage_alert:2025-03:" + ALEX,
    )

    await whatsapp.outbox.enqueue(notice)
    await whatsapp.outbox.flush(seconds=5)

    assert twilio.requests == []
    (entry,) = await whatsapp.outbox.list()
    assert entry.status == "failed"
    assert "template" in (entry.last_error or "")
