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
