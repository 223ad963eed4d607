"""SMS through Twilio end to end: a signed webhook in, the engine, the outbox, the REST API out.

Requests are signed with twilio's real `RequestValidator`; replies go to a fake Twilio REST
server on 127.0.0.1 through the real twilio `Client` (tests/twilio_fake.py).
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
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
from tests.helpers import TEST_SECRET, client_for, live_settings
from tests.twilio_fake import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio

PUBLIC = "https://bot.example.test"
SMS_URL = PUBLIC + "/webhooks/twilio/sms"
STATUS_URL = PUBLIC + "/webhooks/twilio/status"
ALEX, SAM, STRANGER = "+12025550101", "+12025550102", "+12025550199"
OUR_NUMBER = "+12025550999"
_sids = itertools.count(1)


@pytest.fixture
async def sms(
    demo_sqlite_url: str, clock: FakeClock, nlu_model: NluModel, twilio: FakeTwilio
) -> AsyncIterator[Services]:
    channels = ChannelSettings(
        twilio_account_sid=ACCOUNT_SID,
        twilio_auth_token=AUTH_TOKEN,
        twilio_sms_from=OUR_NUMBER,
        twilio_api_base=twilio.base_url,
    )
    settings = live_settings(demo_sqlite_url, channels, public_url=PUBLIC)
    built = await build_services(settings, clock=clock, nlu=nlu_model)
    yield built
    await built.close()


@pytest.fixture
async def http(sms: Services) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(sms) as client:
        yield client


def signed(url: str, params: dict[str, str]) -> dict[str, str]:
    signature = RequestValidator(AUTH_TOKEN).compute_signature(url, params)
    return {
        "X-Twilio-Signature": signature,
        "Content-Type": "application/x-www-form-urlencoded",
    }


def inbound(text: str, sender: str = ALEX, sid: str | None = None) -> dict[str, str]:
    return {
        "MessageSid": sid or f"SM{next(_sids):032d}",
        "AccountSid": ACCOUNT_SID,
        "From": sender,
        "To": OUR_NUMBER,
        "Body": text,
        "NumMedia": "0",
    }


async def text(
    http: httpx.AsyncClient, sms: Services, body: str, sender: str = ALEX
) -> httpx.Response:
    """Post one signed SMS, then let the outbox deliver what it queued."""
    params = inbound(body, sender)
    response = await http.post(SMS_URL, content=urlencode(params), headers=signed(SMS_URL, params))
    await sms.outbox.flush(seconds=5)
    return response


def sent_to(twilio: FakeTwilio, number: str) -> list[str]:
    return [m.get("Body") or "" for m in twilio.messages if m.get("To") == number]


async def test_a_balance_question_is_answered_by_sms(
    http: httpx.AsyncClient, sms: Services, twilio: FakeTwilio
) -> None:
    response = await text(http, sms, "what do I owe")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/xml")
    assert "<Message" not in response.text  # the answer goes out through the REST API only
    (reply,) = sent_to(twilio, ALEX)
    assert "$64.20" in reply
    assert twilio.messages[0].get("From") == OUR_NUMBER
    assert twilio.messages[0].get("StatusCallback") == STATUS_URL


async def test_a_pay_link_reaches_the_customer(
    http: httpx.AsyncClient, sms: Services, twilio: FakeTwilio
) -> None:
    await text(http, sms, "pay my bill")

    body = "\n".join(sent_to(twilio, ALEX))
    assert f"{PUBLIC}/pay/" in body
    assert "(/" not in body and "intent:" not in body  # no option payloads on SMS


async def test_a_lost_phone_is_barred_from_another_number_in_three_messages(
    http: httpx.AsyncClient, sms: Services, twilio: FakeTwilio
) -> None:
    await text(http, sms, "I lost my phone, it was 202-555-0101", sender=STRANGER)
    await text(http, sms, "2468", sender=STRANGER)
    await text(http, sms, "yes", sender=STRANGER)

    replies = sent_to(twilio, STRANGER)
    assert len(replies) == 3
    assert "B-" in replies[-1]
    assert "2468" not in "".join(replies)
    line = await sms.billing.list_lines(1)
    assert line[0].status == "barred"


async def test_a_problem_report_opens_a_ticket(
    http: httpx.AsyncClient, sms: Services, twilio: FakeTwilio
) -> None:
    await text(http, sms, "my internet keeps dropping every evening")
    await text(http, sms, "yes")

    assert "T-" in sent_to(twilio, ALEX)[-1]


@pytest.mark.parametrize(
    "headers",
    [
        {"Content-Type": "application/x-www-form-urlencoded"},
        {"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": "Zm9yZ2Vk"},
    ],
    ids=["missing", "forged"],
)
async def test_an_unsigned_or_forged_webhook_is_refused_and_nothing_is_stored(
    http: httpx.AsyncClient, sms: Services, twilio: FakeTwilio, headers: dict[str, str]
) -> None:
    response = await http.post(SMS_URL, content=urlencode(inbound("balance")), headers=headers)
    await sms.outbox.flush(seconds=5)

    assert response.status_code == 403
    assert await _count(sms, InboundRecord) == 0
    assert await _count(sms, OutboxMessage) == 0
    assert twilio.messages == []


async def test_a_tampered_body_is_refused(http: httpx.AsyncClient, sms: Services) -> None:
    params = inbound("balance")
    headers = signed(SMS_URL, params)
    tampered = {**params, "Body": "bar my line"}

    response = await http.post(SMS_URL, content=urlencode(tampered), headers=headers)

    assert response.status_code == 403


FORM = "application/x-www-form-urlencoded"
NO_SID = {"From": ALEX, "Body": "hi"}


@pytest.mark.parametrize(
    ("content", "content_type", "signed_params", "reason"),
    [
        (urlencode(NO_SID).encode(), FORM, NO_SID, "MessageSid"),
        (b'{"Body": "hi"}', "application/json", {}, "form"),
        (b"MessageSid=SM1&From=%2B12025550101&Body=\xff\xfe", FORM, {}, "UTF-8"),
        (b"Body=" + b"a" * 1_000_000, FORM, {}, "larger"),
    ],
    ids=["missing-fields", "wrong-content-type", "invalid-utf8", "one-megabyte"],
)
async def test_a_malformed_webhook_is_a_400_with_a_reason(
    http: httpx.AsyncClient,
    sms: Services,
    content: bytes,
    content_type: str,
    signed_params: dict[str, str],
    reason: str,
) -> None:
    headers = {**signed(SMS_URL, signed_params), "Content-Type": content_type}

    response = await http.post(SMS_URL, content=content, headers=headers)

    assert response.status_code == 400, response.text
    assert reason.lower() in response.json()["detail"].lower()
    assert await _count(sms, InboundRecord) == 0


async def test_fifty_copies_of_one_webhook_send_one_reply_and_bar_once(
    http: httpx.AsyncClient, sms: Services, twilio: FakeTwilio
) -> None:
    await text(http, sms, "my phone was stolen", sender=SAM)
    await text(http, sms, "2", sender=SAM)  # Jordan's line
    await text(http, sms, "1357", sender=SAM)
    params = inbound("yes", SAM, sid="SM" + "9" * 32)
    headers = signed(SMS_URL, params)
    before = len(sent_to(twilio, SAM))

    responses = await asyncio.gather(
        *(http.post(SMS_URL, content=urlencode(params), headers=headers) for _ in range(50))
    )
    await sms.outbox.flush(seconds=5)

    assert {r.status_code for r in responses} <= {200, 503}
    assert len(sent_to(twilio, SAM)) == before + 1
    lines = {line.msisdn: line.status for line in await sms.billing.list_lines(2)}
    assert lines["+12025550103"] == "barred"
    assert await _count(sms, InboundRecord, external_id="SM" + "9" * 32) == 1


async def test_stop_silences_the_number_until_start(
    http: httpx.AsyncClient, sms: Services, twilio: FakeTwilio
) -> None:
    await text(http, sms, "STOP")
    await text(http, sms, "stop")  # a second STOP: no second confirmation
    await text(http, sms, "balance")
    assert len(sent_to(twilio, ALEX)) == 1  # the one confirmation
    assert "START" in sent_to(twilio, ALEX)[0]

    await text(http, sms, "START")
    await text(http, sms, "balance")

    replies = sent_to(twilio, ALEX)
    assert len(replies) == 3
    assert "$64.20" in replies[-1]


async def test_help_names_the_operator_and_how_to_opt_out(
    http: httpx.AsyncClient, sms: Services, twilio: FakeTwilio
) -> None:
    await text(http, sms, "HELP")

    (reply,) = sent_to(twilio, ALEX)
    assert "STOP" in reply and "billbot" in reply


async def test_status_callbacks_move_the_reply_forward_never_back(
    http: httpx.AsyncClient, sms: Services, twilio: FakeTwilio
) -> None:
    await text(http, sms, "balance")
    sid = twilio.sids[-1]

    for status in ("delivered", "sent"):
        params = {"MessageSid": sid, "MessageStatus": status, "AccountSid": ACCOUNT_SID}
        headers = signed(STATUS_URL, params)
        response = await http.post(STATUS_URL, content=urlencode(params), headers=headers)
        assert response.status_code == 200

    (entry,) = await sms.outbox.list()
    assert (entry.provider_id, entry.provider_status) == (sid, "delivered")


async def test_an_undeliverable_number_is_not_texted_again(
    http: httpx.AsyncClient, sms: Services, twilio: FakeTwilio
) -> None:
    await text(http, sms, "balance")
    params = {
        "MessageSid": twilio.sids[-1],
        "MessageStatus": "undelivered",
        "ErrorCode": "30006",
        "AccountSid": ACCOUNT_SID,
    }
    await http.post(STATUS_URL, content=urlencode(params), headers=signed(STATUS_URL, params))

    await text(http, sms, "usage")  # writing again lifts it: the customer is reachable
    assert len(sent_to(twilio, ALEX)) == 2


async def test_an_sms_channel_without_credentials_answers_404(
    demo_sqlite_url: str, clock: FakeClock, nlu_model: NluModel
) -> None:
    settings = Settings(database_url=demo_sqlite_url, demo=True, secret_key=TEST_SECRET)
    services = await build_services(settings, clock=clock, nlu=nlu_model)
    try:
        async with client_for(services) as client:
            params = inbound("balance")
            response = await client.post(
                SMS_URL.replace(PUBLIC, ""),
                content=urlencode(params),
                headers=signed(SMS_URL, params),
            )
    finally:
        await services.close()
    assert response.status_code == 404


async def _count(services: Services, model: type, **where: str) -> int:
    async with services.sessions() as session:
        query = select(func.count()).select_from(model)
        for name, value in where.items():
            query = query.where(getattr(model, name) == value)
        return int(await session.scalar(query) or 0)
