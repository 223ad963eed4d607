"""The composition root: the only place that picks concrete adapters."""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from billing_client import BillingClient
from billing_client.sql.client import SqlBillingClient
from billing_client.sql.database import create_engine, session_factory
from billing_client.sql.seed import DEMO_EMAILS, DEMO_PHONES, seed_demo, seed_generated
from billing_client.sql.transactions import Transactions
from billing_client.sql.usage_import import import_usage_file
from billing_client.usage_csv import UsageFile, UsageImportReport
from bot import migrate
from bot.addresses import AddressBook
from bot.alerts.fallback import AlertFallback
from bot.alerts.preferences import AlertSettingsStore
from bot.alerts.reach import AlertReach
from bot.alerts.service import AlertService
from bot.alerts.watermark import ScanMarks
from bot.channel import Webhook
from bot.channel_settings import ChannelSettings
from bot.clock import Clock, SystemClock
from bot.compliance import Operator
from bot.demo_codes import DemoCodeEngine, DemoCodeRouter
from bot.engine import ConversationEngine
from bot.event_effects import EventEffects, UsageImporter
from bot.events import EventService
from bot.identity import Identity
from bot.inbox import Inbox
from bot.links import LinkSigner
from bot.nlu import NluModel
from bot.nlu.encoder import load_encoder
from bot.operator import OperatorConfig, load_operator_config
from bot.otp import OneTimeCodes
from bot.outbox import DeliveryLimits, Outbox, Sender
from bot.payments import PaymentProvider
from bot.payments.sandbox import SandboxProvider
from bot.phones import normalize
from bot.ratelimit import RateLimiter
from bot.registry import Registry
from bot.routing import Router
from bot.security_desk import SecurityDesk
from bot.security_notices import SecurityNotices
from bot.services import Services
from bot.settings import Settings, SettingsError, check_secret, nlu_cache_folder
from bot.startup import database_unavailable, safe_url
from bot.store.demo import reset_bot_state
from bot.store.events import EventStore
from bot.store.links import SqlAddressBook
from bot.store.meta import get_or_create
from bot.store.pay_origins import PayOrigins
from bot.store.sql import claim_write_lock
from bot.store.turns import TurnStore
from intents.registry import default_registry

log = logging.getLogger(__name__)


DEMO_SECRET_KEY = "demo_secret_key"  # bot_meta key of the per-database demo signing secret


@dataclass(frozen=True, slots=True)
class DemoSeed:
    """What `seed_demo_data` did: demo customers (re)created?, generated customers, seconds."""

    created: bool
    generated: int
    seconds: float


async def prepare_database(settings: Settings, *, clock: Clock | None = None) -> bool:
    """Migrate to head; in demo mode seed the demo data if it is missing. True when seeded.

    DatabaseUnavailableError (one line, no password) when the database cannot be reached,
    created or migrated; the traceback is logged at DEBUG.
    """
    await upgrade_database(settings)
    if not settings.demo:
        return False
    seeded = await seed_demo_data(settings, clock=clock)
    return seeded.created


async def upgrade_database(settings: Settings) -> None:
    """Bring the database to the latest migration, or DatabaseUnavailableError saying why."""
    try:
        await asyncio.to_thread(migrate.upgrade, settings.database_url)
    except Exception as error:  # unreachable server, bad credentials, unwritable file, …
        log.debug("migrating %s failed", safe_url(settings.database_url), exc_info=True)
        raise database_unavailable(settings.database_url, error) from error


async def seed_demo_data(
    settings: Settings,
    *,
    reset: bool = False,
    size: int = 0,
    clock: Clock | None = None,
    progress: bool = False,
) -> DemoSeed:
    """Create the DESIGN.md §6 demo customers unless present (`reset`: recreate them), then
    generate `size` more customers (benchmarks). The database must be migrated."""
    engine = create_engine(settings.database_url)
    try:
        sessions = session_factory(engine)
        now = (clock or SystemClock()).now()
        created = await seed_demo(sessions, now=now, reset=reset)
        started = time.perf_counter()
        generated = await seed_generated(sessions, size, now=now, progress=progress) if size else 0
        return DemoSeed(created, generated, time.perf_counter() - started)
    finally:
        await engine.dispose()


async def resolve_secret(
    settings: Settings, *, sessions: async_sessionmaker[AsyncSession] | None = None
) -> Settings:
    """`settings` with the secret that signs links.

    A configured BILLBOT_SECRET_KEY wins. Demo mode without one signs with a random secret
    generated once per database and kept in `bot_meta`, so `billbot demo`, `serve` and `chat`
    on one database accept each other's links, also after a restart, while two databases never
    share a secret. The published placeholder never signs anything. Outside demo mode a
    missing secret is a SettingsError. The database must be migrated (0003 or later).
    """
    check_secret(settings.secret_key, demo=settings.demo)
    if settings.secret_key:
        return settings
    if sessions is not None:
        secret = await get_or_create(sessions, DEMO_SECRET_KEY, _new_secret)
        return replace(settings, secret_key=secret)
    engine = create_engine(settings.database_url)
    try:
        secret = await get_or_create(session_factory(engine), DEMO_SECRET_KEY, _new_secret)
    finally:
        await engine.dispose()
    return replace(settings, secret_key=secret)


def _new_secret() -> str:
    return secrets.token_urlsafe(32)


@asynccontextmanager
async def open_outbox(settings: Settings) -> AsyncIterator[Outbox]:
    """The outbox over `settings`' database, for reading the message log (`billbot messages`);
    closed on exit. It sends nothing."""
    engine = create_engine(settings.database_url)
    try:
        yield Outbox(session_factory(engine), SystemClock())
    finally:
        await engine.dispose()


@asynccontextmanager
async def open_billing(settings: Settings) -> AsyncIterator[BillingClient]:
    """The billing client over `settings`' database, for a command's lookups; closed on exit."""
    engine = create_engine(settings.database_url)
    try:
        yield SqlBillingClient(session_factory(engine))
    finally:
        await engine.dispose()


async def import_usage(
    settings: Settings,
    usage: UsageFile,
    *,
    dry_run: bool,
    progress: bool = False,
    clock: Clock | None = None,
) -> UsageImportReport:
    """Check a parsed usage file against the embedded billing core and, unless `dry_run`,
    apply it in one transaction (`billbot usage import`). The database must be migrated."""
    engine = create_engine(settings.database_url)
    try:
        now = (clock or SystemClock()).now()
        return await import_usage_file(
            session_factory(engine), usage, now=now, dry_run=dry_run, progress=progress
        )
    finally:
        await engine.dispose()


def build_nlu(settings: Settings, *, data: Path | None = None) -> NluModel:
    """The intent classifier, its labels the registry's intent names.

    Trained on each registered intent's training file, or on the Rasa files in the folder
    `data` instead (`billbot nlu --data DIR`), whose intents must still be registered ones.
    Unsure messages also go through the sentence encoder `BILLBOT_NLU_ENCODER` names, when it
    is installed. ValueError naming the file when training data is malformed or names an
    unknown intent.
    """
    registry = default_registry()
    threshold, region = settings.nlu_threshold, settings.default_region
    encoder = load_encoder(settings.nlu_encoder)
    if data is None:
        return NluModel.from_registry(
            registry,
            threshold=threshold,
            default_region=region,
            cache_dir=nlu_cache_folder(settings.nlu_cache),
            encoder=encoder,
        )
    return NluModel.from_directory(
        data, labels=registry.names, threshold=threshold, default_region=region, encoder=encoder
    )


def build_engine(
    settings: Settings,
    transactions: Transactions,
    billing: BillingClient,
    nlu: NluModel,
    outbox: Outbox,
    links: LinkSigner,
    clock: Clock,
    *,
    addresses: AddressBook | None = None,
    codes: OneTimeCodes | None = None,
    alert_settings: AlertSettingsStore | None = None,
    operator: OperatorConfig | None = None,
    pay_origins: PayOrigins | None = None,
) -> ConversationEngine:
    """The conversation engine over the registry's intents and the bot's own tables.

    `operator` (BILLBOT_OPERATOR_CONFIG) names the operator and its contacts in HELP and in
    chat, and switches intents off; `pay_origins` remembers the chat each pay link went to.
    """
    operator = operator or OperatorConfig()
    registry = default_registry()
    router = _router(settings, registry, outbox)
    turns = TurnStore(
        transactions,
        idle_timeout=timedelta(seconds=settings.conversation_idle_seconds),
        secret_steps=registry.secret_steps,
        outgoing=outbox,
        lease=timedelta(seconds=settings.turn_lease_seconds),
    )
    engine_type = DemoCodeEngine if settings.demo else ConversationEngine
    return engine_type(
        billing=billing,
        nlu=nlu,
        router=router,
        turns=turns,
        identity=Identity(billing, default_region=settings.default_region, addresses=addresses),
        limiter=RateLimiter(),
        outbox=outbox,
        links=links,
        settings=settings,
        clock=clock,
        addresses=addresses,
        codes=codes,
        alert_settings=alert_settings,
        operator=help_operator(settings, operator),
        operator_config=operator,
        pay_origins=pay_origins,
    )


def _router(settings: Settings, registry: Registry, outbox: Outbox) -> Router:
    """The router; in demo mode one that shows the codes only the sandbox would see
    (`bot.demo_codes`: a demo must be able to finish a strong check). Never outside demo."""
    if settings.demo:
        return DemoCodeRouter(registry, live=outbox.live_channels)
    return Router(registry)


def help_operator(settings: Settings, operator: OperatorConfig) -> Operator:
    """Who HELP and opt-out texts name: the operator's configuration file when there is one.

    Without a file, the older BILLBOT_OPERATOR_NAME / BILLBOT_SUPPORT_CONTACT still win where
    they were set (docs/channels.md), so upgrading changes no one's HELP text unasked.
    """
    named = Operator.from_config(operator)
    if settings.operator_config:
        return named
    legacy, default = settings.channels, ChannelSettings()
    if legacy.operator_name != default.operator_name:
        named = replace(named, name=legacy.operator_name)
    if legacy.support_contact != default.support_contact:
        named = replace(named, contact=legacy.support_contact, config=None)
    return named


async def reset_demo_bot_state(settings: Settings) -> int:
    """Delete the bot's rows (outbox, inbound, conversations) about the demo customers.

    For `billbot db seed-demo --reset`, before the billing data is recreated: the demo
    accounts are found by their phone numbers while they still exist. How many rows went.
    """
    engine = create_engine(settings.database_url)
    try:
        sessions = session_factory(engine)
        billing = SqlBillingClient(sessions)
        found = [await billing.find_account_by_msisdn(phone) for phone in DEMO_PHONES]
        account_ids = {account.id for account in found if account is not None}
        async with sessions() as session, session.begin():
            await claim_write_lock(session)
            addresses = (*DEMO_PHONES, *DEMO_EMAILS)
            return await reset_bot_state(session, account_ids, addresses=addresses)
    finally:
        await engine.dispose()


NO_SENDER = (
    "BILLBOT_DELIVERY=live but no channel can send: configure Twilio (BILLBOT_TWILIO_ACCOUNT_SID, "
    "BILLBOT_TWILIO_AUTH_TOKEN and BILLBOT_TWILIO_SMS_FROM or BILLBOT_TWILIO_WHATSAPP_FROM), "
    "Meta's WhatsApp Cloud API (BILLBOT_WHATSAPP_ACCESS_TOKEN, _APP_SECRET, _VERIFY_TOKEN, "
    "_PHONE_NUMBER_ID) or Telegram (BILLBOT_TELEGRAM_BOT_TOKEN, "
    "BILLBOT_TELEGRAM_WEBHOOK_SECRET), or use BILLBOT_DELIVERY=sandbox"
)


@dataclass(slots=True)
class BuiltChannels:
    """The configured messaging channels, their senders, and what must be closed."""

    by_webhook: dict[str, Webhook]
    senders: dict[str, Sender]
    closers: list[Callable[[], Awaitable[None]]]


def build_channels(settings: Settings, clock: Clock) -> BuiltChannels:
    """Every channel whose credentials are configured (no network I/O; DESIGN.md §5a).

    WhatsApp goes out through Meta's Cloud API when it is configured, else through Twilio.
    Email (SMTP) only sends: it has no webhook.
    """
    from channels.twilio import build_twilio
    from channels.whatsapp_cloud import build_whatsapp_cloud

    config, region, now = settings.channels, settings.default_region, clock.now
    twilio = build_twilio(config, public_url=settings.public_url, now=now, default_region=region)
    cloud = build_whatsapp_cloud(config, now=now, default_region=region)
    telegram = None
    if config.telegram_on:  # imported only then: aiogram alone takes seconds to import
        from channels.telegram import build_telegram

        telegram = build_telegram(config, now=now, default_region=region)
    found: dict[str, Webhook | None] = {
        "twilio_sms": twilio.sms,
        "twilio_whatsapp": twilio.whatsapp,
        "twilio_status": twilio.status,
        "whatsapp_cloud": cloud,
        "telegram": telegram,
    }
    by_webhook = {name: channel for name, channel in found.items() if channel is not None}
    senders: dict[str, Sender] = {}
    for channel in (twilio.sms, twilio.whatsapp, cloud, telegram):  # later ones win
        if channel is not None:
            senders[channel.name] = channel.sender
    closers: list[Callable[[], Awaitable[None]]] = [twilio.aclose]
    if cloud is not None:
        closers.append(cloud.sender.aclose)
    if telegram is not None:
        closers.append(telegram.sender.close)
    if config.smtp is not None and config.email_from is not None:  # config.email_on
        from channels.email import EmailSender  # nothing to close: a connection per message

        # Without a display name in BILLBOT_EMAIL_FROM, From shows the operator's name.
        name = (
            config.email_from.name
            or help_operator(settings, load_operator_config(settings.operator_config)).name
        )
        senders["email"] = EmailSender(config.smtp, config.email_from, display_name=name)
    return BuiltChannels(by_webhook, senders, closers)


def delivery_senders(
    settings: Settings, injected: Mapping[str, Sender] | None = None
) -> dict[str, Sender]:
    """The injected senders, if any (tests); SettingsError when live mode could send nowhere.

    Sandbox mode sends nothing, whatever is configured. Called by `build_services` and, before
    serving, by the web app factory, so `billbot serve` fails with one line, not a traceback.
    """
    any_channel = any(on for _, on in settings.channels.summary())
    if settings.delivery == "live" and not injected and not any_channel:
        raise SettingsError(NO_SENDER)
    return dict(injected or {})


def _log_delivery(settings: Settings, outbox: Outbox) -> None:
    if settings.delivery != "live":
        log.info("delivery: sandbox (outbound messages are recorded, not sent)")
        return
    log.warning(
        "delivery: LIVE on %s; messages on other channels stay in the sandbox log",
        ", ".join(sorted(outbox.live_channels)),
    )


async def build_services(
    settings: Settings,
    *,
    clock: Clock | None = None,
    nlu: NluModel | None = None,
    billing: BillingClient | None = None,
    senders: Mapping[str, Sender] | None = None,
) -> Services:
    """Build every adapter once; callers own the result and must `close()` it.

    `billing` and `senders` (channel → Sender) replace the configured adapters (tests, other
    billing systems). SettingsError when live delivery has no sender at all.
    """
    clock = clock or SystemClock()
    injected = delivery_senders(settings, senders)
    db = create_engine(settings.database_url)
    sessions = session_factory(db)
    transactions = Transactions(db)
    settings = await resolve_secret(settings, sessions=sessions)
    embedded = billing is None  # the embedded SQL core: usage events are imported into it
    billing = billing or SqlBillingClient(sessions, transactions)
    links = LinkSigner(settings.secret_key, settings.public_url)
    codes = OneTimeCodes(settings.secret_key)
    channels = build_channels(settings, clock)
    live = settings.delivery == "live"
    live_senders = injected if senders is not None else channels.senders
    limits = DeliveryLimits(batch_size=settings.outbox_batch_size)
    addresses = SqlAddressBook(sessions, transactions)
    alert_settings = AlertSettingsStore(sessions)
    reach = AlertReach(billing=billing, settings=alert_settings, addresses=addresses)
    outbox = Outbox(
        sessions,
        clock,
        senders=live_senders,
        live=live,
        codes=codes,
        limits=limits,
        transactions=transactions,
        fallback=AlertFallback(reach),
    )
    _log_delivery(settings, outbox)
    nlu = nlu or build_nlu(settings)
    operator = load_operator_config(settings.operator_config)
    engine = build_engine(
        settings,
        transactions,
        billing,
        nlu,
        outbox,
        links,
        clock,
        addresses=addresses,
        codes=codes,
        alert_settings=alert_settings,
        operator=operator,
        pay_origins=PayOrigins(sessions),
    )
    alerts = build_alerts(
        settings, sessions, billing, outbox, alert_settings, addresses, links, clock
    )
    notices = SecurityNotices(
        billing=billing, addresses=addresses, links=links, operator=operator.name
    )
    security = SecurityDesk(billing=billing, notices=notices, outbox=outbox, clock=clock)
    return Services(
        settings=settings,
        db=db,
        sessions=sessions,
        transactions=transactions,
        billing=billing,
        clock=clock,
        links=links,
        nlu=nlu,
        outbox=outbox,
        conversations=engine,
        inbox=build_inbox(engine, outbox, clock),
        alerts=alerts,
        channels=channels.by_webhook,
        closers=channels.closers,
        events=build_events(
            settings,
            billing,
            alerts,
            outbox,
            reach,
            clock,
            store=sessions,
            usage_into=sessions if embedded else None,
            security=security,
        ),
        operator=operator,
        payments=build_payments(settings, closers=channels.closers),
        security=security,
    )


def build_payments(
    settings: Settings, *, closers: list[Callable[[], Awaitable[None]]]
) -> PaymentProvider:
    """The configured PaymentProvider: Stripe when chosen (its keys checked by Settings); its
    HTTP pool is closed with the other providers' (`closers`)."""
    if settings.payment_provider != "stripe":
        return SandboxProvider()
    from bot.payments.stripe_provider import StripeProvider  # the stripe library: only then

    provider = StripeProvider(
        secret_key=settings.stripe_secret_key,
        webhook_secret=settings.stripe_webhook_secret,
        api_base=settings.stripe_api_base or None,
    )
    closers.append(provider.aclose)
    return provider


def build_alerts(
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    billing: BillingClient,
    outbox: Outbox,
    alert_settings: AlertSettingsStore,
    addresses: AddressBook,
    links: LinkSigner,
    clock: Clock,
) -> AlertService:
    """The alert scan the scheduler and `billbot alerts run-once` run."""
    return AlertService(
        billing=billing,
        outbox=outbox,
        settings=alert_settings,
        addresses=addresses,
        invoices_url=links.invoices_url,
        operator=settings.channels.operator_name,
        clock=clock,
        marks=ScanMarks(sessions),
    )


# --- billing events in (POST /api/events, docs/events.md) -------------------------------------
def build_events(
    settings: Settings,
    billing: BillingClient,
    alerts: AlertService,
    outbox: Outbox,
    reach: AlertReach,
    clock: Clock,
    *,
    store: async_sessionmaker[AsyncSession],
    usage_into: async_sessionmaker[AsyncSession] | None,
    security: SecurityDesk | None = None,
) -> EventService | None:
    """The billing events' service, or None when BILLBOT_EVENTS_SECRET is not set (the
    endpoint is off). `usage_into`: the embedded core's database, where usage events go
    through `billbot usage import`'s path; None (another billing system) refuses them."""
    if not settings.events_secret:
        return None
    effects = EventEffects(
        billing=billing,
        alerts=alerts,
        outbox=outbox,
        reach=reach,
        import_usage=_usage_importer(usage_into) if usage_into is not None else None,
        operator=settings.channels.operator_name,
        clock=clock,
        security=security,
    )
    return EventService(
        secrets=(settings.events_secret, settings.events_secret_previous),
        store=EventStore(store),
        effects=effects,
        clock=clock,
        number=partial(normalize, default_region=settings.default_region),
    )


def _usage_importer(sessions: async_sessionmaker[AsyncSession]) -> UsageImporter:
    async def import_usage(usage: UsageFile, now: datetime) -> UsageImportReport:
        return await import_usage_file(sessions, usage, now=now, actor="events")

    return import_usage


def build_inbox(engine: ConversationEngine, outbox: Outbox, clock: Clock) -> Inbox:
    """Where the messaging channels' webhooks go: statuses, keywords, rate limit, the engine."""
    return Inbox(engine=engine, outbox=outbox, clock=clock)
