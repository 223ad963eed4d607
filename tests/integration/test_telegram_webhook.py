"""Telegram end to end: webhooks in, the engine, the outbox, the real aiogram Bot out.

Updates are posted to POST /webhooks/telegram with the secret-token header; billbot's replies
go through the real aiogram `Bot` to a fake Bot API server on 127.0.0.1
(tests/telegram_fake.py, BILLBOT_TELEGRAM_API_BASE), and the one-time codes that link a chat
to a customer go by SMS through the real twilio `Client` to a fake Twilio
(tests/twilio_fake.py).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import re
from collections.abc import AsyncGenerator, AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiohttp import ClientResponseError, RequestInfo
from multidict import CIMultiDict, CIMultiDictProxy
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator
from yarl import URL

from bot.bootstrap import build_services
from bot.channel_settings import ChannelSettings
from bot.clock import FakeClock
from bot.nlu import NluModel
from bot.otp import OneTimeCodes
from bot.services import Services
from bot.settings import Settings
from bot.store.models import AddressLink, Conversation, InboundRecord, OutboxMessage, Suppression
from bot.types import OutboundMessage, Reply
from channels.telegram_sender import TelegramSender, make_bot
from tests.helpers import TEST_SECRET, client_for, live_settings
from tests.telegram_fake import (
    BLOCKED,
    TOKEN,
    TOO_MANY_REQUESTS,
    Call,
    FakeBotApi,
    callback_query,
    running_fake,
    text_message,
)
from tests.twilio_fake import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio

PUBLIC = "https://bot.example.test"
WEBHOOK = "/webhooks/telegram"
SMS_URL = PUBLIC + "/webhooks/twilio/sms"
SECRET = "tg-webhook-secret_0123456789"
OUR_NUMBER = "+12025550999"
ALEX, SAM = "+12025550101", "+12025550102"
ALEX_CHAT, STRANGER_CHAT = 4242, 6464
HEADERS = {"X-Telegram-Bot-Api-Secret-Token": SECRET, "Content-Type": "application/json"}
CODE = re.compile(r"\b(\d{6})\b")
_update_ids = itertools.count(10_000)


# --- fixtures -----------------------------------------------------------------------------------
@pytest.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    async with running_fake() as fake:
        yield fake


def telegram_settings(database_url: str, api: FakeBotApi, twilio: FakeTwilio) -> Settings:
    """Live delivery on Telegram (the fake Bot API) and SMS (the fake Twilio)."""
    channels = ChannelSettings(
        twilio_account_sid=ACCOUNT_SID,
        twilio_auth_token=AUTH_TOKEN,
        twilio_sms_from=OUR_NUMBER,
        twilio_api_base=twilio.base_url,
        telegram_bot_token=TOKEN,
        telegram_webhook_secret=SECRET,
        telegram_api_base=api.base_url,
    )
    return live_settings(database_url, channels, public_url=PUBLIC)


@pytest.fixture
async def services(
    demo_sqlite_url: str,
    clock: FakeClock,
    nlu_model: NluModel,
    api: FakeBotApi,
    twilio: FakeTwilio,
) -> AsyncIterator[Services]:
    settings = telegram_settings(demo_sqlite_url, api, twilio)
    built = await build_services(settings, clock=clock, nlu=nlu_model)
    yield built
    await built.close()


@pytest.fixture
async def http(services: Services) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(services) as client:
        yield client


# --- helpers ------------------------------------------------------------------------------------
def an_update(**part: Any) -> dict[str, Any]:
    """An update with a fresh update_id around one part ("message", "callback_query", …)."""
    return {"update_id": next(_update_ids), **part}


def contact_message(phone: str, *, chat: int, owner: int | None = None) -> dict[str, Any]:
    """A private-chat message sharing a contact; `owner` is whose contact it is (the sender)."""
    message = text_message("", chat_id=chat)
    del message["text"]
    contact = {"phone_number": phone, "first_name": "Alex", "user_id": owner or chat}
    return message | {"contact": contact}


async def post(
    http: httpx.AsyncClient, services: Services, update: dict[str, Any]
) -> httpx.Response:
    """Post one update as Telegram does, then let the outbox deliver what it queued."""
    response = await http.post(WEBHOOK, content=json.dumps(update), headers=HEADERS)
    await services.outbox.flush(seconds=5)
    return response


async def say(
    http: httpx.AsyncClient, services: Services, text: str, chat: int = ALEX_CHAT
) -> httpx.Response:
    return await post(http, services, an_update(message=text_message(text, chat_id=chat)))


async def share(
    http: httpx.AsyncClient, services: Services, phone: str, *, chat: int, owner: int | None = None
) -> httpx.Response:
    return await post(
        http, services, an_update(message=contact_message(phone, chat=chat, owner=owner))
    )


def sent_to(api: FakeBotApi, chat: int) -> list[Call]:
    """Every message the bot sent to `chat`, in order."""
    kinds = ("sendmessage", "sendphoto", "senddocument")
    return [
        call
        for call in api.calls
        if call.method.lower() in kinds and call.params.get("chat_id") == str(chat)
    ]


def texts(api: FakeBotApi, chat: int) -> list[str]:
    """The text (or caption) of each message sent to `chat`."""
    return [c.params.get("text") or c.params.get("caption") or "" for c in sent_to(api, chat)]


def sms_to(twilio: FakeTwilio, number: str) -> list[str]:
    return [m.get("Body") or "" for m in twilio.messages if m.get("To") == number]


async def slots_of(services: Services, chat: int) -> dict[str, Any]:
    async with services.sessions() as session:
        slots = await session.scalar(
            select(Conversation.slots).where(
                Conversation.channel == "telegram", Conversation.sender == str(chat)
            )
        )
    return dict(slots or {})


async def the_code(services: Services, chat: int) -> str:
    """The one-time code the chat was sent, recomputed from its conversation's reference."""
    reference = (await slots_of(services, chat))["reference"]
    return OneTimeCodes(TEST_SECRET).code(str(reference))


async def link(
    http: httpx.AsyncClient, services: Services, *, chat: int = ALEX_CHAT, phone: str = ALEX
) -> None:
    """Link `chat` to `phone` the way a customer does: /start, own contact, the code."""
    await say(http, services, "/start", chat)
    await share(http, services, phone.lstrip("+"), chat=chat)
    await say(http, services, await the_code(services, chat), chat)
    assert await count(services, AddressLink, address=str(chat)) == 1, "the chat was not linked"


async def count(services: Services, model: type, **where: str) -> int:
    async with services.sessions() as session:
        query = select(func.count()).select_from(model)
        for name, value in where.items():
            query = query.where(getattr(model, name) == value)
        return int(await session.scalar(query) or 0)


def database_bytes(services: Services) -> bytes:
    """Every byte of the SQLite database, journal files included."""
    path = Path(services.settings.database_url.removeprefix("sqlite:///"))
    return b"".join(p.read_bytes() for p in sorted(path.parent.glob(path.name + "*")))


# --- linking a chat to a customer ---------------------------------------------------------------
async def test_start_asks_for_the_phone_number_with_a_contact_button(
    http: httpx.AsyncClient, services: Services, api: FakeBotApi
) -> None:
    response = await say(http, services, "/start")

    assert response.status_code == 200
    assert response.json() == {}
    [call] = sent_to(api, ALEX_CHAT)
    assert call.method == "sendMessage"
    assert "share your phone number" in call.params["text"]
    [[button]] = call.json("reply_markup")["keyboard"]
    assert button["request_contact"] is True


async def test_someone_elses_contact_is_refused_and_no_code_is_sent(
    http: httpx.AsyncClient, services: Services, api: FakeBotApi, twilio: FakeTwilio
) -> None:
    await say(http, services, "/start")

    await share(http, services, "12025550101", chat=ALEX_CHAT, owner=STRANGER_CHAT)

    assert "your own" in texts(api, ALEX_CHAT)[-1]
    assert twilio.messages == []
    assert sent_to(api, ALEX_CHAT)[-1].json("reply_markup")["keyboard"]  # asked again


async def test_the_own_contact_gets_a_code_by_sms_that_links_the_chat(
    http: httpx.AsyncClient, services: Services, api: FakeBotApi, twilio: FakeTwilio
) -> None:
    await say(http, services, "/start")
    await share(http, services, "12025550101", chat=ALEX_CHAT)  # Telegram omits the "+"

    [sms] = sms_to(twilio, ALEX)
    [code] = CODE.findall(sms)
    assert code == await the_code(services, ALEX_CHAT)
    assert "code by SMS to +1 202-555-0101" in texts(api, ALEX_CHAT)[-1]
    assert code not in "".join(texts(api, ALEX_CHAT))  # only the SMS holds it

    await say(http, services, code)
    assert "linked to your account, Alex" in texts(api, ALEX_CHAT)[-2]

    await say(http, services, "balance")
    assert "$64.20" in texts(api, ALEX_CHAT)[-1]


async def test_the_code_is_never_stored(
    http: httpx.AsyncClient,
    services: Services,
    api: FakeBotApi,
    twilio: FakeTwilio,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    await say(http, services, "/start")
    before = database_bytes(services)
    await share(http, services, "12025550101", chat=ALEX_CHAT)
    [code] = CODE.findall(sms_to(twilio, ALEX)[0])
    await say(http, services, "000000" if code != "000000" else "111111")  # a wrong one first
    await say(http, services, code)
    await say(http, services, "balance")
    assert "$64.20" in texts(api, ALEX_CHAT)[-1]  # linked with it

    # Six digits may occur by chance in a database file; never more often because of the code.
    assert database_bytes(services).count(code.encode()) == before.count(code.encode())
    async with services.sessions() as session:
        outbox = (await session.execute(select(OutboxMessage.replies))).scalars().all()
        inbound = (await session.execute(select(InboundRecord.text))).scalars().all()
    assert code not in json.dumps(outbox)
    assert not any(code in text for text in inbound)
    assert "[[one-time-code:" in json.dumps(outbox)  # the SMS row holds a placeholder
    entries = await services.outbox.list()
    assert all(code not in entry.text for entry in entries)
    assert code not in caplog.text


async def test_a_wrong_code_says_how_many_tries_are_left(
    http: httpx.AsyncClient, services: Services, api: FakeBotApi
) -> None:
    await say(http, services, "/start")
    await share(http, services, "12025550101", chat=ALEX_CHAT)
    right = await the_code(services, ALEX_CHAT)

    await say(http, services, f"{(int(right) + 1) % 1_000_000:06d}")

    assert "Tries left: 4" in texts(api, ALEX_CHAT)[-1]
    await say(http, services, right)  # a wrong try does not end the flow
    assert "linked to your account" in texts(api, ALEX_CHAT)[-2]


async def test_five_wrong_codes_mean_starting_again(
    http: httpx.AsyncClient, services: Services, api: FakeBotApi, clock: FakeClock
) -> None:
    await say(http, services, "/start")
    await share(http, services, "12025550101", chat=ALEX_CHAT)
    right = await the_code(services, ALEX_CHAT)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"

    for _ in range(5):
        await say(http, services, wrong)

    said = texts(api, ALEX_CHAT)
    assert said[-5:-1] == [f"That code isn't right. Tries left: {n}." for n in (4, 3, 2, 1)]
    assert "last try" in said[-1] and "/start" in said[-1]
    await say(http, services, right)  # too late: that code is spent
    assert not any("linked to your account" in t for t in texts(api, ALEX_CHAT))
    assert await count(services, AddressLink) == 0

    # Ten minutes on, so the strangers' limit (10 messages in 10 minutes) has room again.
    clock.advance(minutes=10)
    await link(http, services)  # starting again: a new code by SMS
    await say(http, services, "balance")
    assert "$64.20" in texts(api, ALEX_CHAT)[-1]


async def test_an_expired_code_is_refused(
    http: httpx.AsyncClient, services: Services, api: FakeBotApi, clock: FakeClock
) -> None:
    await say(http, services, "/start")
    await share(http, services, "12025550101", chat=ALEX_CHAT)
    right = await the_code(services, ALEX_CHAT)
    clock.advance(minutes=11)

    await say(http, services, right)

    assert "expired" in texts(api, ALEX_CHAT)[-1]
    await say(http, services, "balance")
    assert "$64.20" not in texts(api, ALEX_CHAT)[-1]


@pytest.mark.parametrize("words", ["unlink", "/stop"])
async def test_unlinking_ends_the_identification(
    http: httpx.AsyncClient, services: Services, api: FakeBotApi, words: str
) -> None:
    await link(http, services)
    await say(http, services, "balance")
    assert "$64.20" in texts(api, ALEX_CHAT)[-1]

    await say(http, services, words)
    assert "no longer linked" in texts(api, ALEX_CHAT)[-1]

    await say(http, services, "balance")
    assert "$64.20" not in texts(api, ALEX_CHAT)[-1]
    assert await count(services, Suppression) == 0  # /stop unlinks; it is no opt-out here


# --- what customers do --------------------------------------------------------------------------
class PublicSite(AiohttpSession):
    """aiogram's HTTP session, with billbot's own https public URL served in-process.

    The sender fetches the pay page's QR code from BILLBOT_PUBLIC_URL to upload it; here that
    host does not resolve, so its requests go to the app through an ASGI transport instead.
    """

    def __init__(self, api_base: str) -> None:
        super().__init__(api=TelegramAPIServer.from_base(api_base))
        self.site: httpx.AsyncClient | None = None
        self.fetched: list[str] = []

    async def stream_content(
        self,
        url: str,
        headers: dict[str, Any] | None = None,
        timeout: int = 30,  # noqa: ASYNC109 (aiogram's signature)
        chunk_size: int = 65536,
        raise_for_status: bool = True,
    ) -> AsyncGenerator[bytes, None]:
        if not url.startswith(PUBLIC + "/") or self.site is None:
            async for chunk in super().stream_content(
                url, headers, timeout, chunk_size, raise_for_status
            ):
                yield chunk
            return
        self.fetched.append(url)
        response = await self.site.get(url.removeprefix(PUBLIC))
        if raise_for_status and response.is_error:
            info = RequestInfo(URL(url), "GET", CIMultiDictProxy(CIMultiDict()), URL(url))
            raise ClientResponseError(info, (), status=response.status_code)
        yield response.content


@pytest.fixture
async def site_session(api: FakeBotApi) -> AsyncIterator[PublicSite]:
    session = PublicSite(api.base_url)
    yield session
    await session.close()


@pytest.fixture
async def with_files(
    demo_sqlite_url: str,
    clock: FakeClock,
    nlu_model: NluModel,
    api: FakeBotApi,
    twilio: FakeTwilio,
    site_session: PublicSite,
) -> AsyncIterator[tuple[Services, httpx.AsyncClient]]:
    """Services whose Telegram sender reaches the public URL (the QR code) in-process."""
    settings = telegram_settings(demo_sqlite_url, api, twilio)
    sender = TelegramSender(make_bot(TOKEN, api_base=api.base_url, session=site_session))
    built = await build_services(
        settings, clock=clock, nlu=nlu_model, senders={"telegram": sender}
    )
    async with client_for(built) as client:
        site_session.site = client
        yield built, client
    await built.close()


async def test_pay_sends_the_link_as_a_url_button_and_the_qr_code_as_a_photo(
    with_files: tuple[Services, httpx.AsyncClient], api: FakeBotApi, site_session: PublicSite
) -> None:
    services, http = with_files
    await link(http, services)

    await say(http, services, "pay my bill")

    last = sent_to(api, ALEX_CHAT)[-1]
    assert last.method == "sendPhoto"
    assert "$64.20" in last.params["caption"]
    [[button]] = last.json("reply_markup")["inline_keyboard"]
    assert button["url"].startswith(f"{PUBLIC}/pay/")
    assert site_session.fetched == [button["url"] + "/qr.png"]
    photo = last.files["photo"]
    assert photo.data.startswith(b"\x89PNG") and photo.filename == "qr.png"
    page = await http.get(button["url"].removeprefix(PUBLIC))
    assert page.status_code == 200 and "$64.20" in page.text


async def test_a_lost_line_is_barred_from_an_unlinked_chat_without_echoing_the_pin(
    http: httpx.AsyncClient, services: Services, api: FakeBotApi, twilio: FakeTwilio
) -> None:
    await say(http, services, "I lost my phone, it was 202-555-0101", STRANGER_CHAT)
    await say(http, services, "2468", STRANGER_CHAT)
    await say(http, services, "yes", STRANGER_CHAT)

    said = texts(api, STRANGER_CHAT)
    assert len(said) == 3
    assert re.search(r"\bB-\d{6}\b", said[-1])
    assert "2468" not in "".join(said)
    assert not any("2468" in (m.get("Body") or "") for m in twilio.messages)
    [line] = await services.billing.list_lines(1)
    assert line.status == "barred"
    async with services.sessions() as session:
        stored = (await session.execute(select(InboundRecord.text))).scalars().all()
    assert "2468" not in stored


async def test_a_problem_report_opens_a_ticket(
    http: httpx.AsyncClient, services: Services, api: FakeBotApi
) -> None:
    await link(http, services)

    await say(http, services, "my internet keeps dropping every evening")
    await say(http, services, "yes")

    assert re.search(r"\bT-\d{6}\b", texts(api, ALEX_CHAT)[-1])


async def test_options_are_an_inline_keyboard_whose_buttons_carry_the_option_values(
    http: httpx.AsyncClient, services: Services, api: FakeBotApi
) -> None:
    await say(http, services, "menu", STRANGER_CHAT)

    [call] = sent_to(api, STRANGER_CHAT)
    rows = call.json("reply_markup")["inline_keyboard"]
    values = [button["callback_data"] for [button] in rows]
    assert "intent:balance" in values and "intent:bar_sim" in values
    assert call.params["text"] == "Here's what I can do:"
    assert not re.search(r"^\d\.", call.params["text"], re.MULTILINE)  # buttons, not numbers


async def test_a_tapped_button_is_handled_as_that_option_and_answered_in_the_webhook_response(
    http: httpx.AsyncClient, services: Services, api: FakeBotApi
) -> None:
    await link(http, services)
    await say(http, services, "menu")
    before = len(sent_to(api, ALEX_CHAT))

    tap = callback_query("intent:balance", chat_id=ALEX_CHAT, query_id="cbq-77")
    response = await post(http, services, an_update(callback_query=tap))

    assert response.status_code == 200
    assert response.json() == {"method": "answerCallbackQuery", "callback_query_id": "cbq-77"}
    [reply] = texts(api, ALEX_CHAT)[before:]
    assert "$64.20" in reply
    assert api.calls_to("answerCallbackQuery") == []  # answered by the webhook response


# --- what Telegram (or someone else) posts ------------------------------------------------------
@pytest.mark.parametrize(
    "headers",
    [
        {"Content-Type": "application/json"},
        {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": "wrong"},
        {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": SECRET.upper()},
    ],
    ids=["missing", "wrong", "wrong-case"],
)
async def test_a_missing_or_wrong_secret_is_refused_and_nothing_is_stored_or_sent(
    http: httpx.AsyncClient, services: Services, api: FakeBotApi, headers: dict[str, str]
) -> None:
    update = an_update(message=text_message("/start"))

    response = await http.post(WEBHOOK, content=json.dumps(update), headers=headers)
    await services.outbox.flush(seconds=5)

    assert response.status_code == 403
    assert await count(services, InboundRecord) == 0
    assert await count(services, OutboxMessage) == 0
    assert api.calls == []


JSON = "application/json"
ONE_MEGABYTE = json.dumps({"update_id": 1, "message": text_message("a" * 1_000_000)}).encode()


@pytest.mark.parametrize(
    ("content", "content_type", "reason"),
    [
        (b"{not json", JSON, "not JSON"),
        (json.dumps(an_update(message=text_message("hi"))).encode(), "text/plain", JSON),
        (b'{"update_id": 1, "message": "\xff\xfe"}', JSON, "UTF-8"),
        (b'{"update_id": "one"}', JSON, "update_id"),
        (b'{"message": {"text": "hi"}}', JSON, "update_id"),
        (b"[1, 2, 3]", JSON, "JSON object"),
        (ONE_MEGABYTE, JSON, "larger"),
    ],
    ids=[
        "not-json",
        "wrong-content-type",
        "invalid-utf8",
        "bad-update-id",
        "no-update-id",
        "not-an-object",
        "one-megabyte",
    ],
)
async def test_a_malformed_update_is_a_400_with_a_reason(
    http: httpx.AsyncClient,
    services: Services,
    api: FakeBotApi,
    content: bytes,
    content_type: str,
    reason: str,
) -> None:
    headers = {**HEADERS, "Content-Type": content_type}

    response = await http.post(WEBHOOK, content=content, headers=headers)

    assert response.status_code == 400, response.text
    assert reason.lower() in response.json()["detail"].lower()
    assert await count(services, InboundRecord) == 0
    assert api.calls == []


async def test_updates_billbot_does_not_read_are_acknowledged_and_not_answered(
    http: httpx.AsyncClient, services: Services, api: FakeBotApi
) -> None:
    group = text_message("balance") | {"chat": {"id": -100, "type": "group", "title": "Family"}}
    edited = text_message("balance")

    for update in (an_update(message=group), an_update(edited_message=edited)):
        response = await post(http, services, update)
        assert (response.status_code, response.json()) == (200, {})

    assert api.calls == []
    assert await count(services, InboundRecord) == 0


async def test_fifty_copies_of_one_update_send_one_reply_and_bar_once(
    http: httpx.AsyncClient, services: Services, api: FakeBotApi, twilio: FakeTwilio
) -> None:
    await say(http, services, "my phone was stolen, it's 202-555-0103", STRANGER_CHAT)
    await say(http, services, "1357", STRANGER_CHAT)
    update = an_update(message=text_message("yes", chat_id=STRANGER_CHAT))
    body = json.dumps(update)
    before = len(sent_to(api, STRANGER_CHAT))

    responses = await asyncio.gather(
        *(http.post(WEBHOOK, content=body, headers=HEADERS) for _ in range(50))
    )
    await services.outbox.flush(seconds=5)

    assert {r.status_code for r in responses} <= {200, 503}
    [reply] = texts(api, STRANGER_CHAT)[before:]
    assert re.search(r"\bB-\d{6}\b", reply)
    lines = {line.msisdn: line.status for line in await services.billing.list_lines(2)}
    assert lines == {SAM: "active", "+12025550103": "barred"}
    assert len(sms_to(twilio, SAM)) == 1  # one notice to the account holder
    external_id = str(update["update_id"])
    assert await count(services, InboundRecord, external_id=external_id) == 1


# --- Telegram's refusals ------------------------------------------------------------------------
async def test_flood_control_retries_the_reply_after_the_wait_telegram_asked_for(
    http: httpx.AsyncClient, services: Services, api: FakeBotApi, clock: FakeClock
) -> None:
    api.fail("sendMessage", TOO_MANY_REQUESTS)  # retry_after=3

    await say(http, services, "menu", STRANGER_CHAT)

    [entry] = await services.outbox.list()
    assert (entry.status, entry.attempts) == ("retry", 1)
    assert entry.next_attempt_at == clock.now() + timedelta(seconds=3)
    assert "TelegramRetryAfter" in (entry.last_error or "")
    await services.outbox.flush(seconds=5)
    assert len(api.calls_to("sendMessage")) == 1  # not before the wait is over

    clock.advance(seconds=3)
    await services.outbox.flush(seconds=5)

    first, second = api.calls_to("sendMessage")
    assert first.params == second.params
    [entry] = await services.outbox.list()
    assert (entry.status, entry.attempts) == ("sent", 2)


async def test_a_chat_that_blocked_the_bot_gets_nothing_until_it_writes_again(
    http: httpx.AsyncClient, services: Services, api: FakeBotApi
) -> None:
    api.fail("sendMessage", BLOCKED)
    await say(http, services, "menu", STRANGER_CHAT)
    [refused] = await services.outbox.list()
    assert refused.status == "failed" and "blocked" in (refused.last_error or "")

    notice = OutboundMessage(
        channel="telegram",
        address=str(STRANGER_CHAT),
        replies=(Reply("Your bill is ready."),),
        kind="bill_ready",
        dedupe_key="bill_ready:test:1",
    )
    await services.outbox.enqueue(notice)
    await services.outbox.flush(seconds=5)

    held = (await services.outbox.list())[0]
    assert (held.kind, held.status) == ("bill_ready", "suppressed")
    assert len(api.calls_to("sendMessage")) == 1  # only the refused attempt

    await say(http, services, "menu", STRANGER_CHAT)  # writing again: reachable again

    newest = (await services.outbox.list())[0]
    assert newest.status == "sent"
    assert len(api.calls_to("sendMessage")) == 2
    assert await count(services, Suppression) == 0


async def test_the_webhook_answers_404_when_telegram_is_not_configured(
    demo_sqlite_url: str, clock: FakeClock, nlu_model: NluModel
) -> None:
    settings = Settings(database_url=demo_sqlite_url, demo=True, secret_key=TEST_SECRET)
    services = await build_services(settings, clock=clock, nlu=nlu_model)
    try:
        async with client_for(services) as client:
            update = an_update(message=text_message("/start"))
            response = await client.post(WEBHOOK, content=json.dumps(update), headers=HEADERS)
    finally:
        await services.close()
    assert response.status_code == 404


# --- bugs found (see the reasons) ---------------------------------------------------------------
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


async def test_copies_of_one_update_do_not_use_up_the_chats_rate_limit(
    http: httpx.AsyncClient, services: Services, api: FakeBotApi
) -> None:
    await link(http, services)
    body = json.dumps(an_update(message=text_message("balance", chat_id=ALEX_CHAT)))
    await asyncio.gather(*(http.post(WEBHOOK, content=body, headers=HEADERS) for _ in range(50)))
    await services.outbox.flush(seconds=5)
    assert "$64.20" in texts(api, ALEX_CHAT)[-1]

    await say(http, services, "how much data have I used")

    assert "GB" in texts(api, ALEX_CHAT)[-1]


async def test_flood_control_on_a_later_part_does_not_send_the_earlier_parts_twice(
    services: Services, api: FakeBotApi, clock: FakeClock
) -> None:
    chart = api.add_file("chart.png", PNG, "image/png")
    long_text = "Your usage this month, day by day. " * 40  # over a caption: a message follows
    notice = OutboundMessage(
        channel="telegram",
        address=str(ALEX_CHAT),
        replies=(Reply(long_text, image_url=chart),),
        kind="usage_report",
        dedupe_key="usage_report:test:1",
    )
    await services.outbox.enqueue(notice)
    api.fail("sendMessage", TOO_MANY_REQUESTS)  # the photo went out, its text did not

    await services.outbox.flush(seconds=5)
    clock.advance(seconds=3)
    await services.outbox.flush(seconds=5)

    assert [c.method for c in sent_to(api, ALEX_CHAT)].count("sendMessage") == 2  # 429, then ok
    assert len(api.calls_to("sendPhoto")) == 1


async def test_the_pay_link_reaches_the_chat_even_when_its_qr_code_cannot_be_fetched(
    http: httpx.AsyncClient, services: Services, api: FakeBotApi
) -> None:
    await link(http, services)  # this fixture's public URL does not resolve

    await say(http, services, "pay my bill")

    last = sent_to(api, ALEX_CHAT)[-1]
    assert f"{PUBLIC}/pay/" in json.dumps(last.params)


async def test_a_button_tapped_in_a_group_is_answered_but_not_acted_on(
    http: httpx.AsyncClient, services: Services, api: FakeBotApi
) -> None:
    tap = callback_query("intent:balance", chat_id=-100, query_id="cbq-group")
    tap["message"]["chat"] = {"id": -100, "type": "group", "title": "Family"}

    response = await post(http, services, an_update(callback_query=tap))

    assert response.json() == {"method": "answerCallbackQuery", "callback_query_id": "cbq-group"}
    assert api.calls == []
    assert await count(services, InboundRecord) == 0


async def test_a_number_that_opted_out_of_sms_is_not_promised_a_code(
    http: httpx.AsyncClient, services: Services, api: FakeBotApi, twilio: FakeTwilio
) -> None:
    stop = {"MessageSid": "SM" + "7" * 32, "From": ALEX, "To": OUR_NUMBER, "Body": "STOP"}
    signature = RequestValidator(AUTH_TOKEN).compute_signature(SMS_URL, stop)
    form = {"X-Twilio-Signature": signature, "Content-Type": "application/x-www-form-urlencoded"}
    await http.post(SMS_URL.removeprefix(PUBLIC), content=urlencode(stop), headers=form)
    await services.outbox.flush(seconds=5)
    assert len(sms_to(twilio, ALEX)) == 1  # the opt-out confirmation

    await say(http, services, "/start")
    await share(http, services, "12025550101", chat=ALEX_CHAT)

    assert len(sms_to(twilio, ALEX)) == 1  # no code can go out …
    assert "code by SMS" not in texts(api, ALEX_CHAT)[-1]  # … so none is promised
