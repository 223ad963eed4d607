"""The composition root: the only place that picks concrete adapters."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from pathlib import Path

from billing_client.sql.client import SqlBillingClient
from billing_client.sql.database import create_engine, session_factory
from billing_client.sql.seed import seed_demo
from bot import migrate
from bot.clock import Clock, SystemClock
from bot.engine import ConversationEngine
from bot.links import LinkSigner
from bot.nlu import NluModel
from bot.outbox import Outbox
from bot.services import Services
from bot.settings import Settings
from bot.store.conversations import ConversationStore
from bot.store.inbound import InboundLog
from intents.registry import default_registry

log = logging.getLogger(__name__)


async def prepare_database(settings: Settings, *, clock: Clock | None = None) -> bool:
    """Migrate to head; in demo mode seed the demo data if it is missing. True when seeded."""
    await asyncio.to_thread(migrate.upgrade, settings.database_url)
    if not settings.demo:
        return False
    engine = create_engine(settings.database_url)
    try:
        now = (clock or SystemClock()).now()
        return await seed_demo(session_factory(engine), now=now)
    finally:
        await engine.dispose()


def build_nlu(settings: Settings, *, data: Path | None = None) -> NluModel:
    """The intent classifier, its labels the registry's intent names.

    Trained on each registered intent's training file, or on the Rasa files in the folder
    `data` instead (`billbot nlu --data DIR`), whose intents must still be registered ones.
    ValueError naming the file when training data is malformed or names an unknown intent.
    """
    registry = default_registry()
    threshold, region = settings.nlu_threshold, settings.default_region
    if data is None:
        return NluModel.from_registry(registry, threshold=threshold, default_region=region)
    return NluModel.from_directory(
        data, labels=registry.names, threshold=threshold, default_region=region
    )


async def build_services(
    settings: Settings, *, clock: Clock | None = None, nlu: NluModel | None = None
) -> Services:
    """Build every adapter once; callers own the result and must `close()` it."""
    clock = clock or SystemClock()
    db = create_engine(settings.database_url)
    sessions = session_factory(db)
    billing = SqlBillingClient(sessions)
    links = LinkSigner(settings.secret_key, settings.public_url)
    outbox = Outbox(sessions, clock, live=settings.delivery == "live")
    nlu = nlu or build_nlu(settings)
    engine = ConversationEngine(
        billing=billing,
        nlu=nlu,
        registry=default_registry(),
        conversations=ConversationStore(
            sessions, idle_timeout=timedelta(seconds=settings.conversation_idle_seconds)
        ),
        inbound=InboundLog(sessions),
        outbox=outbox,
        links=links,
        settings=settings,
        clock=clock,
    )
    return Services(
        settings=settings,
        db=db,
        sessions=sessions,
        billing=billing,
        clock=clock,
        links=links,
        nlu=nlu,
        outbox=outbox,
        conversations=engine,
    )
