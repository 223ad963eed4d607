"""Meta's WhatsApp Cloud API end to end: a signed webhook in, the engine, the outbox, Graph out.

Webhooks are signed as Meta signs them, HMAC-SHA256 of the raw body bytes with the app secret
(`X-Hub-Signature-256: sha256=…`); replies go to a fake Graph API on 127.0.0.1
(tests/graph_fake.py). WhatsApp ids travel as digits without the plus on the wire and as E.164
inside billbot.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
from collections.abc import AsyncIterator, Sequence
from typing import Any
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
from bot.store.models import InboundRecord, OutboxMessage
from bot.types import OutboundMessage, Reply
from tests.graph_fake import PHONE_NUMBER_ID, TOKEN, VERSION, GraphFake, graph_fake
from tests.helpers import client_for, live_settings
from tests.twilio_fake import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio

PUBLIC = "https://bot.example.test"
PATH = "/webhooks/whatsapp"
APP_SECRET = "cloud-app-secret-for-tests"
VERIFY_TOKEN = "cloud-verify-token-for-tests"
ALEX, SAM, JORDAN, MARIA = "+12025550101", "+12025550102", "+12025550103", "+12025550104"
STRANGER = "+12025550199"
BILL_READY = "billbot_bill_ready"
LANGUAGE = "en_GB"  # not the default en_US: the configured language is the one sent
Json = dict[str, Any]
_wamids = itertools.count(1)


def cloud_settings(graph: GraphFake, **more: Any) -> ChannelSettings:
    return ChannelSettings(
        whatsapp_access_token=TOKEN,
        whatsapp_app_secret=APP_SECRET,
        whatsapp_verify_token=VERIFY_TOKEN,
        whatsapp_phone_number_id=PHONE_NUMBER_ID,
        meta_graph_base=graph.base_url,
        meta_graph_version=VERSION,
        whatsapp_templates={"bill_ready": BILL_READY},
        whatsapp_template_language=LANGUAGE,
        **more,
    )


async def live_services(
    url: str, clock: FakeClock, nlu: NluModel, channels: ChannelSettings
) -> Services:
    settings = live_settings(url, channels, public_url=PUBLIC)
    return await build_services(settings, clock=clock, nlu=nlu)


@pytest.fixture
async def graph() -> AsyncIterator[GraphFake]:
    async with graph_fake() as fake:
        yield fake


@pytest.fixture
async def cloud(
    demo_sqlite_url: str, clock: FakeClock, nlu_model: NluModel, graph: GraphFake
) -> AsyncIterator[Services]:
    built = await live_services(demo_sqlite_url, clock, nlu_model, cloud_settings(graph))
    yield built
    await built.close()


@pytest.fixture
async def http(cloud: Services) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(cloud) as client:
        yield client


# --- webhooks as Meta sends them ---------------------------------------------------------------
def wamid() -> str:
    return f"wamid.HBgLMTIwMjU1NTAxMDEVAgASGBQ{next(_wamids):08d}"


def message(sender: str, kind: str, wamid_: str | None = None, **content: Any) -> Json:
    digits = sender.removeprefix("+")
    found = {"from": digits, "id": wamid_ or wamid(), "timestamp": "1741966200", "type": kind}
    return found | content


def text(sender: str, body: str, wamid_: str | None = None) -> Json:
    return message(sender, "text", wamid_, text={"body": body})


def tapped(sender: str, kind: str, option_id: str, title: str) -> Json:
    """A tapped reply button ("button_reply") or list row ("list_reply")."""
    reply = {"id": option_id, "title": title}
    return message(sender, "interactive", interactive={"type": kind, kind: reply})


def value(messages: Sequence[Json] = (), statuses: Sequence[Json] = ()) -> Json:
    """One change's value: the messages (and their senders' contacts) or the statuses."""
    found: Json = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550783881", "phone_number_id": PHONE_NUMBER_ID},
    }
    if messages:
        senders = dict.fromkeys(m["from"] for m in messages)
        found["contacts"] = [{"profile": {"name": "Customer"}, "wa_id": s} for s in senders]
        found["messages"] = list(messages)
    if statuses:
        found["statuses"] = list(statuses)
    return found


def webhook(*entries: Sequence[Json]) -> bytes:
    """A webhook body; each entry is the list of its changes' values."""
    body = {
        "object": "whatsapp_business_account",
        "entry": [
            {"id": f"10229012934039{i}", "changes": [{"value": v, "field": "messages"} for v in e]}
            for i, e in enumerate(entries)
        ],
    }
    return json.dumps(body).encode()


def signature(raw: bytes, secret: str = APP_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


def signed(raw: bytes) -> dict[str, str]:
    return {"Content-Type": "application/json", "X-Hub-Signature-256": signature(raw)}


async def post(
    http: httpx.AsyncClient, raw: bytes, headers: dict[str, str] | None = None
) -> httpx.Response:
    return await http.post(PATH, content=raw, headers=signed(raw) if headers is None else headers)


async def deliver(http: httpx.AsyncClient, services: Services, raw: bytes) -> httpx.Response:
    """Post one signed webhook, then let the outbox deliver what it queued."""
    response = await post(http, raw)
    await services.outbox.flush(seconds=5)
    return response


async def say(
    http: httpx.AsyncClient, services: Services, body: str, sender: str = ALEX
) -> httpx.Response:
    return await deliver(http, services, webhook([value([text(sender, body)])]))


async def tap(
    http: httpx.AsyncClient, services: Services, kind: str, option: Json, sender: str = ALEX
) -> httpx.Response:
    message_ = tapped(sender, kind, option["id"], option["title"])
    return await deliver(http, services, webhook([value([message_])]))


def statuses(*items: Json) -> bytes:
    return webhook([value(statuses=items)])


def status(provider_id: str, state: str, recipient: str = ALEX, **extra: Any) -> Json:
    return {
        "id": provider_id,
        "status": state,
        "timestamp": "1741966260",
        "recipient_id": recipient.removeprefix("+"),
        **extra,
    }


# --- what the fake Graph received --------------------------------------------------------------
def sent_to(graph: GraphFake, number: str) -> list[Json]:
    return [body for body in graph.requests if body.get("to") == number.removeprefix("+")]


def shown(body: Json) -> str:
    """The text a customer reads in one sent message."""
    kind = body["type"]
    if kind == "text":
        return str(body["text"]["body"])
    if kind == "interactive":
        return str(body["interactive"]["body"]["text"])
    if kind in ("image", "document"):
        return str(body[kind].get("caption", ""))
    if kind == "template":
        components = body["template"]["components"]
        return " ".join(p["text"] for c in components for p in c.get("parameters", []))
    raise AssertionError(f"unexpected message type {kind}")


def texts(graph: GraphFake, number: str) -> list[str]:
    return [shown(body) for body in sent_to(graph, number)]


def options(body: Json) -> list[Json]:
    """The tappable options of an interactive message, as {"id", "title"}."""
    interactive = body["interactive"]
    if interactive["type"] == "button":
        return [button["reply"] for button in interactive["action"]["buttons"]]
    return [row for section in interactive["action"]["sections"] for row in section["rows"]]


def bill_ready(address: str = ALEX) -> OutboundMessage:
    return OutboundMessage(
        channel="whatsapp",
        address=address,
        replies=(Reply("Your bill is ready"),),
        kind="bill_ready",
        dedupe_key=f"bill_ready:2025-03:{address}",
    )


async def count(services: Services, model: type, **where: str) -> int:
    async with services.sessions() as session:
        query = select(func.count()).select_from(model)
        for name, value_ in where.items():
            query = query.where(getattr(model, name) == value_)
        return int(await session.scalar(query) or 0)


# --- the subscription check --------------------------------------------------------------------
CHALLENGE = {
    "hub.mode": "subscribe",
    "hub.verify_token": VERIFY_TOKEN,
    "hub.challenge": "1158201444",
}


async def test_the_subscription_check_with_the_right_token_echoes_the_challenge(
    http: httpx.AsyncClient,
) -> None:
    response = await http.get(PATH, params=CHALLENGE)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text == "1158201444"


@pytest.mark.parametrize(
    ("query", "status_code"),
    [
        ({**CHALLENGE, "hub.verify_token": "guessed-token"}, 403),
        ({**CHALLENGE, "hub.verify_token": ""}, 403),
        ({k: v for k, v in CHALLENGE.items() if k != "hub.verify_token"}, 400),
        ({k: v for k, v in CHALLENGE.items() if k != "hub.mode"}, 400),
        ({k: v for k, v in CHALLENGE.items() if k != "hub.challenge"}, 400),
        ({**CHALLENGE, "hub.mode": "unsubscribe"}, 400),
        ({}, 400),
    ],
    ids=[
        "wrong-token",
        "empty-token",
        "missing-token",
        "missing-mode",
        "missing-challenge",
        "other-mode",
        "nothing",
    ],
)
async def test_a_subscription_check_without_the_right_token_is_refused(
    http: httpx.AsyncClient, query: dict[str, str], status_code: int
) -> None:
    response = await http.get(PATH, params=query)

    assert response.status_code == status_code
    assert "1158201444" not in response.text


async def test_the_cloud_webhook_answers_404_when_the_cloud_api_is_not_configured(
    services: Services,
) -> None:
    raw = webhook([value([text(ALEX, "balance")])])
    async with client_for(services) as client:
        challenge = await client.get(PATH, params=CHALLENGE)
        posted = await client.post(PATH, content=raw, headers=signed(raw))

    assert (challenge.status_code, posted.status_code) == (404, 404)


# --- conversations -----------------------------------------------------------------------------
async def test_a_balance_question_is_answered_through_the_cloud_api(
    http: httpx.AsyncClient, cloud: Services, graph: GraphFake
) -> None:
    response = await say(http, cloud, "what do I owe")

    assert response.status_code == 200
    (reply,) = graph.requests
    assert reply["messaging_product"] == "whatsapp"
    assert reply["to"] == "12025550101"
    assert reply["type"] != "template"  # the customer just wrote: a session message
    assert "$64.20" in shown(reply)
    assert await count(cloud, InboundRecord, channel="whatsapp", sender=ALEX) == 1


async def test_a_pay_link_reaches_the_customer_through_the_cloud_api(
    http: httpx.AsyncClient, cloud: Services, graph: GraphFake
) -> None:
    await say(http, cloud, "pay my bill")

    replies = sent_to(graph, ALEX)
    assert any(f"{PUBLIC}/pay/" in shown(body) for body in replies)
    assert not any("intent:" in shown(body) for body in replies)


async def test_a_lost_line_is_barred_from_another_number_through_the_cloud_api(
    http: httpx.AsyncClient, cloud: Services, graph: GraphFake
) -> None:
    await say(http, cloud, "I lost my phone, it was 202-555-0101", sender=STRANGER)
    await say(http, cloud, "2468", sender=STRANGER)
    await say(http, cloud, "yes", sender=STRANGER)

    replies = texts(graph, STRANGER)
    assert len(replies) == 3
    assert "B-" in replies[-1]
    assert "2468" not in json.dumps([*graph.requests, *graph.refused])
    assert not any("2468" in entry.text for entry in await cloud.outbox.list())
    (line,) = await cloud.billing.list_lines(1)
    assert (line.msisdn, line.status) == (ALEX, "barred")


async def test_the_bar_notice_is_never_addressed_to_the_lost_line(
    http: httpx.AsyncClient, cloud: Services
) -> None:
    await say(http, cloud, "I lost my phone, it was 202-555-0101", sender=STRANGER)
    await say(http, cloud, "2468", sender=STRANGER)
    await say(http, cloud, "yes", sender=STRANGER)

    notices = [e for e in await cloud.outbox.list() if e.kind == "bar_notice"]
    assert notices  # the holder is told (by email at least)
    assert [e.channel for e in notices if e.recipient == ALEX] == []


async def test_a_problem_report_opens_a_ticket_through_the_cloud_api(
    http: httpx.AsyncClient, cloud: Services, graph: GraphFake
) -> None:
    await say(http, cloud, "my internet keeps dropping every evening")
    await say(http, cloud, "yes")

    replies = texts(graph, ALEX)
    assert len(replies) == 2
    assert "T-" in replies[-1]


async def test_a_tapped_reply_button_is_taken_as_the_chosen_option(
    http: httpx.AsyncClient, cloud: Services, graph: GraphFake
) -> None:
    await say(http, cloud, "balance")
    (offer,) = sent_to(graph, ALEX)
    (pay_now,) = options(offer)

    await tap(http, cloud, "button_reply", pay_now)

    assert f"{PUBLIC}/pay/" in " ".join(texts(graph, ALEX)[1:])


async def test_a_tapped_list_row_is_taken_as_the_chosen_option(
    http: httpx.AsyncClient, cloud: Services, graph: GraphFake
) -> None:
    await say(http, cloud, "my phone was stolen", sender=SAM)
    offered = options(sent_to(graph, SAM)[-1])
    jordans = next(row for row in offered if "0103" in row["title"])

    await tap(http, cloud, "list_reply", jordans, sender=SAM)

    assert "PIN" in texts(graph, SAM)[-1]
    assert "202-555-0103" in texts(graph, SAM)[-1]


async def test_a_body_is_verified_over_its_raw_bytes_escaped_unicode_and_all(
    http: httpx.AsyncClient, cloud: Services, graph: GraphFake
) -> None:
    raw = (
        b'{"object":"whatsapp_business_account",\n  "entry":[{"id":"102290129340398",'
        b'"changes":[{"value":{"messaging_product":"whatsapp","metadata":'
        b'{"display_phone_number":"15550783881","phone_number_id":"106540352242922"},'
        b'"contacts":[{"profile":{"name":"Mar\\u00eda"},"wa_id":"12025550104"}],'
        b'"messages":[{"from":"12025550104","id":"wamid.RAW00000000000001",'
        b'"timestamp":"1741966200","type":"text","text":{"body":"\\u00bfCu\\u00e1nto debo?"}}]},'
        b'"field":"messages"}]}]}'
    )
    reserialized = json.dumps(json.loads(raw), ensure_ascii=False).encode()
    forged = {"Content-Type": "application/json", "X-Hub-Signature-256": signature(reserialized)}

    refused = await post(http, raw, forged)
    accepted = await deliver(http, cloud, raw)

    assert (refused.status_code, accepted.status_code) == (403, 200)
    assert len(sent_to(graph, MARIA)) == 1
    assert await count(cloud, InboundRecord, external_id="wamid.RAW00000000000001") == 1


async def test_a_reaction_to_a_reply_is_not_answered(
    http: httpx.AsyncClient, cloud: Services, graph: GraphFake
) -> None:
    await say(http, cloud, "balance")
    thumbs_up = {"message_id": "wamid.FAKE0001", "emoji": "\N{THUMBS UP SIGN}"}

    response = await deliver(
        http, cloud, webhook([value([message(ALEX, "reaction", reaction=thumbs_up)])])
    )

    assert response.status_code == 200
    assert len(sent_to(graph, ALEX)) == 1


# --- refused and malformed webhooks ------------------------------------------------------------
GOOD = webhook([value([text(ALEX, "bar my line")])])


@pytest.mark.parametrize(
    "headers",
    [
        {"Content-Type": "application/json"},
        {"Content-Type": "application/json", "X-Hub-Signature-256": ""},
        {"Content-Type": "application/json", "X-Hub-Signature-256": signature(GOOD, "guess")},
        {"Content-Type": "application/json", "X-Hub-Signature-256": signature(GOOD)[7:]},
        {
            "Content-Type": "application/json",
            "X-Hub-Signature": "sha1=" + hmac.new(APP_SECRET.encode(), GOOD, "sha1").hexdigest(),
        },
        {"Content-Type": "application/json", "X-Hub-Signature-256": signature(GOOD + b" ")},
    ],
    ids=["missing", "empty", "wrong-secret", "no-prefix", "sha1-only", "other-body"],
)
async def test_an_unsigned_or_forged_cloud_webhook_is_refused_and_nothing_is_stored(
    http: httpx.AsyncClient, cloud: Services, graph: GraphFake, headers: dict[str, str]
) -> None:
    response = await post(http, GOOD, headers)
    await cloud.outbox.flush(seconds=5)

    assert response.status_code == 403
    assert await count(cloud, InboundRecord) == 0
    assert await count(cloud, OutboxMessage) == 0
    assert graph.requests == [] and graph.refused == []


ENVELOPE = {"object": "whatsapp_business_account"}


def _json(body: Any) -> bytes:
    return json.dumps(body).encode()


@pytest.mark.parametrize(
    ("raw", "content_type", "reason"),
    [
        (_json({"entry": []}), "application/json", "object"),
        (_json(ENVELOPE), "application/json", "entry"),
        (_json({**ENVELOPE, "entry": [{"id": "1"}]}), "application/json", "changes"),
        (
            _json({**ENVELOPE, "entry": [{"changes": [{"field": "messages"}]}]}),
            "application/json",
            "value",
        ),
        (
            _json({**ENVELOPE, "entry": [{"changes": [{"value": {"messages": {}}}]}]}),
            "application/json",
            "list",
        ),
        (_json(["whatsapp_business_account"]), "application/json", "object"),
        (b'{"object": "whatsapp_business_account", "entry": [', "application/json", "json"),
        (GOOD, "application/x-www-form-urlencoded", "application/json"),
        (GOOD, "text/plain", "application/json"),
        (b'{"object": "whatsapp_business_account\xff\xfe"}', "application/json", "UTF-8"),
        (b'{"pad": "' + b"a" * 1_000_000 + b'"}', "application/json", "larger"),
    ],
    ids=[
        "missing-object",
        "missing-entry",
        "missing-changes",
        "missing-value",
        "messages-not-a-list",
        "not-an-object",
        "truncated-json",
        "form-content-type",
        "text-content-type",
        "invalid-utf8",
        "one-megabyte",
    ],
)
async def test_a_malformed_cloud_webhook_is_a_400_with_a_reason(
    http: httpx.AsyncClient,
    cloud: Services,
    graph: GraphFake,
    raw: bytes,
    content_type: str,
    reason: str,
) -> None:
    headers = {**signed(raw), "Content-Type": content_type}

    response = await post(http, raw, headers)

    assert response.status_code == 400, response.text
    assert reason.lower() in response.json()["detail"].lower()
    assert await count(cloud, InboundRecord) == 0
    assert graph.requests == []


# --- batches, redeliveries, concurrency --------------------------------------------------------
async def test_a_batch_of_two_entries_with_two_messages_each_gets_four_answers(
    http: httpx.AsyncClient, cloud: Services, graph: GraphFake
) -> None:
    raw = webhook(
        [value([text(ALEX, "balance"), text(SAM, "balance")])],
        [value([text(MARIA, "saldo")]), value([text(JORDAN, "what do I owe")])],
    )

    response = await deliver(http, cloud, raw)

    assert response.status_code == 200
    for number in (ALEX, SAM, MARIA, JORDAN):
        assert len(sent_to(graph, number)) == 1, number
    assert await count(cloud, InboundRecord) == 4
    assert await count(cloud, OutboxMessage, kind="reply") == 4


async def test_a_batch_delivered_again_is_not_answered_again(
    http: httpx.AsyncClient, cloud: Services, graph: GraphFake
) -> None:
    raw = webhook([value([text(ALEX, "balance"), text(SAM, "balance")])])
    await deliver(http, cloud, raw)
    sent = len(graph.requests)

    again = await deliver(http, cloud, raw)

    assert again.status_code == 200
    assert len(graph.requests) == sent == 2
    assert await count(cloud, InboundRecord) == 2


async def test_fifty_concurrent_copies_of_one_webhook_send_one_reply_and_bar_once(
    http: httpx.AsyncClient, cloud: Services, graph: GraphFake
) -> None:
    await say(http, cloud, "my phone was stolen", sender=SAM)
    jordans = next(row for row in options(sent_to(graph, SAM)[-1]) if "0103" in row["title"])
    await tap(http, cloud, "button_reply", jordans, sender=SAM)
    await say(http, cloud, "1357", sender=SAM)
    assert "Block the SIM for +1 202-555-0103" in texts(graph, SAM)[-1]
    before = len(sent_to(graph, SAM))
    confirm = "wamid.CONCURRENT0000000001"
    raw = webhook([value([text(SAM, "yes", confirm)])])

    responses = await asyncio.gather(*(post(http, raw) for _ in range(50)))
    await cloud.outbox.flush(seconds=5)

    assert {r.status_code for r in responses} <= {200, 503}
    assert len(sent_to(graph, SAM)) == before + 1
    assert "B-" in texts(graph, SAM)[-1]
    lines = {line.msisdn: line.status for line in await cloud.billing.list_lines(2)}
    assert lines == {SAM: "active", JORDAN: "barred"}
    assert await count(cloud, InboundRecord, external_id=confirm) == 1


# --- delivery statuses -------------------------------------------------------------------------
async def _answered_once(http: httpx.AsyncClient, cloud: Services, graph: GraphFake) -> str:
    await say(http, cloud, "balance")
    (entry,) = await cloud.outbox.list()
    assert entry.provider_id == "wamid.FAKE0001" and entry.provider_status is None
    return entry.provider_id


async def test_read_without_delivered_moves_the_reply_to_read_and_never_back(
    http: httpx.AsyncClient, cloud: Services, graph: GraphFake
) -> None:
    sent = await _answered_once(http, cloud, graph)

    read = await post(http, statuses(status(sent, "read")))
    late = await post(http, statuses(status(sent, "delivered"), status(sent, "sent")))

    assert (read.status_code, late.status_code) == (200, 200)
    (entry,) = await cloud.outbox.list()
    assert (entry.status, entry.provider_status) == ("sent", "read")


async def test_a_failed_status_is_recorded_with_its_error_code(
    http: httpx.AsyncClient, cloud: Services, graph: GraphFake
) -> None:
    sent = await _answered_once(http, cloud, graph)
    error = {"code": 131051, "title": "Unsupported message type"}

    await post(http, statuses(status(sent, "delivered")))
    await post(http, statuses(status(sent, "failed", errors=[error])))
    await post(http, statuses(status(sent, "read")))  # a late read does not undo a failure

    (entry,) = await cloud.outbox.list()
    assert (entry.provider_status, entry.provider_error) == ("failed", "131051")
    await say(http, cloud, "usage")  # a pair-rate failure does not stop later messages
    assert len(sent_to(graph, ALEX)) == 2


async def test_a_failed_status_for_an_unreachable_number_stops_proactive_messages(
    http: httpx.AsyncClient, cloud: Services, graph: GraphFake
) -> None:
    sent = await _answered_once(http, cloud, graph)
    error = {"code": 131026, "title": "Message undeliverable"}
    await post(http, statuses(status(sent, "failed", errors=[error])))

    await cloud.outbox.enqueue(bill_ready())
    await cloud.outbox.flush(seconds=5)

    assert len(sent_to(graph, ALEX)) == 1
    alert = next(e for e in await cloud.outbox.list() if e.kind == "bill_ready")
    assert alert.status == "suppressed"


async def test_a_pair_rate_failure_reported_by_a_status_is_sent_again_after_a_pause(
    http: httpx.AsyncClient, cloud: Services, graph: GraphFake, clock: FakeClock
) -> None:
    sent = await _answered_once(http, cloud, graph)
    error = {"code": 131056, "title": "(Business Account, Consumer Account) pair rate limit hit"}
    await post(http, statuses(status(sent, "failed", errors=[error])))

    clock.advance(minutes=1)
    await cloud.outbox.flush(seconds=5)

    first, again = sent_to(graph, ALEX)
    assert shown(again) == shown(first)


async def test_statuses_for_unknown_messages_are_acknowledged_and_ignored(
    http: httpx.AsyncClient, cloud: Services
) -> None:
    response = await post(
        http, statuses(status("wamid.NOT_OURS", "read"), status("wamid.X", "deleted"))
    )

    assert response.status_code == 200
    assert await count(cloud, OutboxMessage) == 0


# --- the 24-hour window ------------------------------------------------------------------------
@pytest.mark.parametrize("history", ["never-wrote", "wrote-25-hours-ago"])
async def test_a_proactive_message_outside_the_window_goes_as_the_configured_template(
    http: httpx.AsyncClient, cloud: Services, graph: GraphFake, clock: FakeClock, history: str
) -> None:
    if history == "wrote-25-hours-ago":
        await say(http, cloud, "balance")
        clock.advance(hours=25)
    before = len(sent_to(graph, ALEX))

    await cloud.outbox.enqueue(bill_ready())
    await cloud.outbox.flush(seconds=5)

    (alert,) = sent_to(graph, ALEX)[before:]
    assert alert["type"] == "template" and "text" not in alert
    template = alert["template"]
    assert (template["name"], template["language"]) == (BILL_READY, {"code": LANGUAGE})
    assert shown(alert) == "Your bill is ready"


async def test_a_proactive_message_inside_the_window_goes_as_text(
    http: httpx.AsyncClient, cloud: Services, graph: GraphFake, clock: FakeClock
) -> None:
    await say(http, cloud, "balance")
    clock.advance(hours=2)

    await cloud.outbox.enqueue(bill_ready())
    await cloud.outbox.flush(seconds=5)

    alert = sent_to(graph, ALEX)[-1]
    assert alert["type"] == "text"
    assert alert["text"]["body"] == "Your bill is ready"


async def test_a_window_meta_reports_closed_falls_back_to_the_template(
    http: httpx.AsyncClient, cloud: Services, graph: GraphFake, clock: FakeClock
) -> None:
    await say(http, cloud, "balance")
    clock.advance(hours=1)
    graph.fail(400, 131047, message="Re-engagement message")

    await cloud.outbox.enqueue(bill_ready())
    await cloud.outbox.flush(seconds=5)

    (refused,) = graph.refused
    assert refused["type"] == "text"
    alert = sent_to(graph, ALEX)[-1]
    assert alert["type"] == "template" and alert["template"]["name"] == BILL_READY
    entry = next(e for e in await cloud.outbox.list() if e.kind == "bill_ready")
    assert entry.status == "sent"


# --- both WhatsApp routes configured -----------------------------------------------------------
async def test_with_twilio_whatsapp_also_configured_replies_go_through_the_cloud_api(
    demo_sqlite_url: str, clock: FakeClock, nlu_model: NluModel, graph: GraphFake
) -> None:
    async with FakeTwilio() as twilio:
        channels = cloud_settings(
            graph,
            twilio_account_sid=ACCOUNT_SID,
            twilio_auth_token=AUTH_TOKEN,
            twilio_whatsapp_from="whatsapp:+12025550999",
            twilio_api_base=twilio.base_url,
            twilio_whatsapp_templates={"*": "HX" + "d" * 32},
        )
        both = await live_services(demo_sqlite_url, clock, nlu_model, channels)
        try:
            async with client_for(both) as client:
                await say(client, both, "balance")
                twilio_url = PUBLIC + "/webhooks/twilio/whatsapp"
                form = {
                    "MessageSid": "SM" + "7" * 32,
                    "AccountSid": ACCOUNT_SID,
                    "From": "whatsapp:" + SAM,
                    "To": "whatsapp:+12025550999",
                    "Body": "balance",
                }
                sig = RequestValidator(AUTH_TOKEN).compute_signature(twilio_url, form)
                headers = {
                    "X-Twilio-Signature": sig,
                    "Content-Type": "application/x-www-form-urlencoded",
                }
                via_twilio = await client.post(
                    twilio_url.removeprefix(PUBLIC), content=urlencode(form), headers=headers
                )
                await both.outbox.enqueue(bill_ready(MARIA))
                await both.outbox.flush(seconds=5)
        finally:
            await both.close()

    assert via_twilio.status_code == 200
    assert [len(sent_to(graph, n)) for n in (ALEX, SAM, MARIA)] == [1, 1, 1]
    assert sent_to(graph, MARIA)[0]["type"] == "template"
    assert twilio.requests == []
