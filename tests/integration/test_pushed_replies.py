"""A messaging channel's answer is queued in the transaction (PostgreSQL: the statement) that
stores it: once, with the replies, on both databases."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from bot.bootstrap import build_services
from bot.clock import FakeClock
from bot.nlu import NluModel
from bot.services import Services
from bot.settings import Settings
from bot.store.links import SqlAddressBook
from bot.store.models import InboundRecord
from bot.types import InboundMessage
from tests.fakes import NOW
from tests.helpers import TEST_SECRET

ALEX = "+12025550101"
_ids = itertools.count(1)


@pytest.fixture
async def services(
    demo_db_url: str, clock: FakeClock, nlu_model: NluModel
) -> AsyncIterator[Services]:
    settings = Settings(database_url=demo_db_url, demo=True, secret_key=TEST_SECRET)
    built = await build_services(settings, clock=clock, nlu=nlu_model)
    yield built
    await built.close()


def sms(text: str, external_id: str | None = None) -> InboundMessage:
    message_id = external_id or f"SM{next(_ids)}"
    return InboundMessage("sms", ALEX, text, message_id, NOW, as_phone=ALEX)


async def test_the_answer_is_queued_once_with_its_replies(services: Services) -> None:
    first = await services.conversations.answer(sms("what do I owe", "SM-one"), push=True)
    again = await services.conversations.answer(sms("what do I owe", "SM-one"), push=True)

    entries = await services.outbox.list()
    assert [(e.kind, e.channel, e.recipient) for e in entries] == [("reply", "sms", ALEX)]
    assert entries[0].replies == tuple(first.replies)
    assert again.replayed and again.replies == first.replies


async def test_an_answer_with_a_notice_queues_both(services: Services) -> None:
    for text in ("my phone was stolen", "2468", "yes"):
        await services.conversations.answer(sms(text), push=True)

    kinds = sorted(e.kind for e in await services.outbox.list())
    assert kinds.count("reply") == 3
    assert "bar_notice" in kinds


async def test_an_answer_is_recorded_with_its_reply(services: Services) -> None:
    await services.conversations.answer(sms("usage", "SM-usage"), push=True)

    async with services.sessions() as session:
        status = await session.scalar(
            select(InboundRecord.status).where(InboundRecord.external_id == "SM-usage")
        )
    assert status == "handled"
    [entry] = await services.outbox.list()
    assert "GB" in entry.text


def keyword(text: str, kind: str) -> InboundMessage:
    message_id = f"SM{next(_ids)}"
    payload = {"keyword": kind}
    return InboundMessage("sms", ALEX, text, message_id, NOW, payload, as_phone=ALEX)


async def test_stop_silences_the_address_until_start_on_both_databases(
    services: Services,
) -> None:
    stopped = await services.conversations.answer(keyword("STOP", "opt_out"), push=True)
    ignored = await services.conversations.answer(sms("balance"), push=True)
    again = await services.conversations.answer(keyword("stop", "opt_out"), push=True)
    started = await services.conversations.answer(keyword("START", "opt_in"), push=True)
    answered = await services.conversations.answer(sms("balance"), push=True)

    assert "START" in stopped.replies[0].text
    assert ignored.replies == [] and again.replies == []
    assert "STOP to opt out" in started.replies[0].text
    assert "$64.20" in answered.replies[0].text
    kinds = [e.kind for e in reversed(await services.outbox.list())]
    assert kinds == ["opt_out_confirmation", "opt_in_confirmation", "reply"]


async def test_a_linked_chat_is_the_customer_until_unlinked_on_both_databases(
    services: Services,
) -> None:
    book = SqlAddressBook(services.sessions, services.transactions)
    await book.link("telegram", "4242", ALEX, now=NOW)

    def chat(text: str) -> InboundMessage:
        return InboundMessage("telegram", "4242", text, f"u{next(_ids)}", NOW)

    linked = await services.conversations.answer(chat("balance"), push=True)
    await book.unlink("telegram", "4242")
    unlinked = await services.conversations.answer(chat("balance"), push=True)

    assert "$64.20" in linked.replies[0].text
    assert "$64.20" not in unlinked.replies[0].text and "/start" in unlinked.replies[0].text
