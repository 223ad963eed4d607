"""The whole engine under duplicates, crashes and failures, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.engine import make_url

from billing_client import Account, BillingUnavailableError
from billing_client.sql.client import SqlBillingClient
from billing_client.sql.database import create_engine, session_factory
from bot.bootstrap import build_services
from bot.clock import FakeClock
from bot.engine import RESEND
from bot.nlu import NluModel
from bot.secret_text import PLACEHOLDER
from bot.services import Services
from bot.settings import Settings
from bot.store import inbound
from bot.store.models import Conversation, InboundRecord, OutboxMessage
from bot.types import InboundMessage, Reply

SAM = "+12025550102"
_ids = itertools.count(1)


class FlakyBilling(SqlBillingClient):
    """The real billing core with a switch that makes identity lookups fail."""

    down = False

    async def find_account_by_msisdn(self, msisdn: str) -> Account | None:
        if self.down:
            raise BillingUnavailableError("billing is down")
        return await super().find_account_by_msisdn(msisdn)


async def _build(url: str, nlu: NluModel, now: datetime, **kwargs: object) -> Services:
    settings = Settings(database_url=url, demo=True, secret_key="lifecycle-test-secret-0123")
    return await build_services(settings, clock=FakeClock(now), nlu=nlu, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
async def services(
    demo_db_url: str, nlu_model: NluModel, now: datetime
) -> AsyncIterator[Services]:
    built = await _build(demo_db_url, nlu_model, now)
    yield built
    await built.close()


def message(text: str, *, external_id: str | None = None, session: str = "s1") -> InboundMessage:
    return InboundMessage(
        channel="web",
        sender=session,
        text=text,
        external_id=external_id or f"m{next(_ids)}",
        received_at=datetime.now(UTC),
        as_phone=SAM,
    )


async def say(services: Services, text: str, **kwargs: str) -> str:
    replies = await services.conversations.handle(message(text, **kwargs))
    return "\n".join(reply.text for reply in replies)


async def _barrings(services: Services) -> int:
    entries = await services.billing.list_audit(limit=500)
    return sum(1 for entry in entries if entry.action == "line_barred")


async def _status(services: Services, external_id: str) -> str | None:
    async with services.sessions() as session:
        query = select(InboundRecord.status).where(InboundRecord.external_id == external_id)
        return await session.scalar(query)


async def test_fifty_concurrent_copies_bar_once_and_all_get_the_same_answer(
    services: Services, demo_db_url: str, nlu_model: NluModel, now: datetime
) -> None:
    await say(services, "I lost my phone")
    await say(services, "2")
    await say(services, "1357")
    other_worker = await _build(demo_db_url, nlu_model, now)
    try:
        final = message("yes", external_id="final")
        workers = [services, other_worker] * 25
        answers = await asyncio.gather(*(w.conversations.handle(final) for w in workers))
    finally:
        await other_worker.close()
    texts = {tuple(reply.text for reply in replies) for replies in answers}
    assert len(texts) == 1
    [only] = texts
    assert only and "B-" in only[0]
    assert await _barrings(services) == 1


async def test_billing_down_during_identify_is_answered_and_can_be_retried(
    demo_db_url: str, nlu_model: NluModel, now: datetime
) -> None:
    engine = create_engine(demo_db_url)
    billing = FlakyBilling(session_factory(engine))
    built = await _build(demo_db_url, nlu_model, now, billing=billing)
    try:
        billing.down = True
        first = await built.conversations.handle(message("what do i owe", external_id="q"))
        assert "isn't answering" in first[0].text
        assert await _status(built, "q") == inbound.RETRY
        billing.down = False
        second = await built.conversations.handle(message("what do i owe", external_id="q"))
        assert "$118.45" in second[0].text
        assert await _status(built, "q") == inbound.HANDLED
    finally:
        await built.close()
        await engine.dispose()


async def test_a_transient_failure_mid_flow_keeps_the_step_for_the_retry(
    demo_db_url: str, nlu_model: NluModel, now: datetime
) -> None:
    engine = create_engine(demo_db_url)
    billing = FlakyBilling(session_factory(engine))
    built = await _build(demo_db_url, nlu_model, now, billing=billing)
    try:
        await say(built, "I lost my phone")
        billing.down = True
        assert "isn't answering" in await say(built, "2", external_id="pick")
        billing.down = False
        assert "PIN" in await say(built, "2", external_id="pick")
    finally:
        await built.close()
        await engine.dispose()


async def _orphan(services: Services, text: str, external_id: str) -> None:
    """A message stored by a worker that died before answering it."""
    async with services.sessions() as session, session.begin():
        session.add(
            InboundRecord(
                channel="web",
                external_id=external_id,
                sender="s1",
                as_phone=SAM,
                text=text,
                received_at=datetime.now(UTC),
                status=inbound.RECEIVED,
                replies=[],
                lease_token="dead-worker",
                leased_until=datetime.now(UTC) - timedelta(seconds=1),
                attempts=1,
            )
        )


async def test_the_sweep_answers_a_message_whose_worker_died(services: Services) -> None:
    await _orphan(services, "what do i owe", "orphan")
    assert await services.conversations.recover() == 1
    assert await _status(services, "orphan") == inbound.HANDLED
    retry = await services.conversations.handle(message("what do i owe", external_id="orphan"))
    assert "$118.45" in retry[0].text
    async with services.sessions() as session:
        kinds = (await session.scalars(select(OutboxMessage.kind))).all()
    assert kinds == ["reply"]
    assert await services.conversations.recover() == 0


async def test_a_recovered_secret_is_asked_for_again(services: Services) -> None:
    await say(services, "I lost my phone")
    await say(services, "2")
    await _orphan(services, PLACEHOLDER, "pin")
    await services.conversations.recover()
    async with services.sessions() as session:
        query = select(InboundRecord.replies).where(InboundRecord.external_id == "pin")
        [reply] = [Reply.from_dict(item) for item in await session.scalar(query) or []]
    assert reply.text == RESEND["en"]
    assert "Block the SIM" in await say(services, "1357")


async def test_a_retry_takes_over_a_dead_workers_message(services: Services) -> None:
    await _orphan(services, "what do i owe", "orphan")
    answer = await services.conversations.handle(message("what do i owe", external_id="orphan"))
    assert "$118.45" in answer[0].text
    assert await services.conversations.recover() == 0


async def test_no_conversation_lease_survives_the_sweep(services: Services) -> None:
    await say(services, "hi")
    async with services.sessions() as session, session.begin():
        past = datetime(2000, 1, 1, tzinfo=UTC)
        await session.execute(update(Conversation).values(lock_token="dead", locked_until=past))
    await services.conversations.recover()
    async with services.sessions() as session:
        held = await session.scalar(
            select(func.count()).where(Conversation.lock_token.is_not(None))
        )
    assert held == 0


async def test_pins_typed_anywhere_never_reach_the_database_files(
    demo_sqlite_url: str, nlu_model: NluModel, now: datetime
) -> None:
    built = await _build(demo_sqlite_url, nlu_model, now)
    try:
        await say(built, "my pin is 97531864")
        await say(built, "I lost my phone")
        await say(built, "86420975")  # at the line choice
        await say(built, "2")
        await say(built, "pin 75319864")
        await say(built, "1357")
        await say(built, "yes")
    finally:
        await built.close()
    database = Path(str(make_url(demo_sqlite_url).database))
    files = [p for p in database.parent.iterdir() if p.name.startswith(database.name)]
    assert database in files
    for path in files:
        content = path.read_bytes()
        for secret in (b"97531864", b"86420975", b"75319864"):
            assert secret not in content, f"{secret!r} found in {path.name}"


async def test_a_retry_after_the_bar_committed_says_done_and_notifies_the_holder(
    services: Services, now: datetime
) -> None:
    await say(services, "I lost my phone")
    await say(services, "2")
    await say(services, "1357")
    async with services.sessions() as session:  # the turn that barred died before answering
        slots = await session.scalar(select(Conversation.slots))
    assert slots is not None
    await services.billing.bar_line(
        int(slots["line_id"]),
        reason="lost_stolen",
        idempotency_key=f"bar_sim:{slots['flow_id']}",
        actor="customer:web",
        now=now,
    )
    answer = await say(services, "yes")
    assert answer.startswith("Done.") and "B-000001" in answer
    assert await _barrings(services) == 1
    async with services.sessions() as session:
        kinds = (await session.scalars(select(OutboxMessage.kind))).all()
    assert kinds == ["bar_notice", "bar_notice"]  # the holder's email and own line, once each


async def test_an_orphan_its_retry_answered_first_is_a_replay_to_the_sweep(
    services: Services,
) -> None:
    await _orphan(services, "what do i owe", "raced")
    orphans = await services.conversations._turns.orphans()  # the sweep found it …
    await services.conversations.handle(
        message("what do i owe", external_id="raced")
    )  # … a retry won
    for orphan in orphans:
        answer = await services.conversations.answer(orphan)
        assert answer.replayed
    assert await services.conversations.recover() == 0
    async with services.sessions() as session:
        assert (await session.scalars(select(OutboxMessage.kind))).all() == []
