"""The FastAPI app factory: routes, static files, error mapping and the Services lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from urllib.parse import urlsplit

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from bot.bootstrap import build_services, delivery_senders
from bot.events import MAX_BODY_BYTES as EVENTS_MAX_BODY_BYTES
from bot.heap import settle_after_startup
from bot.outbox import OutboxWorker
from bot.recovery import RecoverySweeper
from bot.services import Services
from bot.settings import Settings
from scheduler.runner import start_scheduler
from web import errors
from web.access_log import AccessLogMiddleware
from web.pages import STATIC_DIR, make_templates
from web.routes import (
    account,
    account_invoices,
    account_payments,
    autopay,
    brand,
    chat,
    contact,
    docs,
    events,
    health,
    home,
    invoices,
    not_me,
    pay,
    preferences,
    signin,
    tickets,
    webhooks,
)
from web.security import STRIPE_CHECKOUT, BodySizeLimitMiddleware, SecurityHeadersMiddleware

Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]
ROUTERS = (
    health.router,
    chat.router,
    webhooks.router,
    home.router,
    pay.router,
    invoices.router,
    events.router,
    signin.router,
    account.router,
    account_invoices.router,
    account_payments.router,
    autopay.router,
    preferences.router,
    contact.router,
    not_me.router,
    tickets.router,
    brand.router,
    docs.router,
)


def create_app(settings: Settings, *, services: Services | None = None) -> FastAPI:
    """The web app; builds its own Services at start-up unless given some (tests).

    SettingsError at once (not at start-up) when live delivery has no sender at all.
    """
    app = FastAPI(
        title="billbot",
        summary="Conversational self-service for billing: web chat API, pay pages, health.",
        version="0.1.0",
        lifespan=services_lifespan(settings, services),
        docs_url=None,  # served by web.routes.docs from local assets (works offline)
        redoc_url=None,
    )
    if services is None:
        delivery_senders(settings)  # live delivery without any sender: refuse before serving
    app.state.settings = settings
    app.state.templates = make_templates()
    if services is not None:
        app.state.services = services
    for router in ROUTERS:
        app.include_router(router)
    app.mount("/static/swagger", StaticFiles(directory=docs.ASSETS), name="swagger")
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    errors.install(app)
    app.add_middleware(BodySizeLimitMiddleware, per_path={events.PATH: EVENTS_MAX_BODY_BYTES})
    app.add_middleware(SecurityHeadersMiddleware, form_targets=checkout_origins(settings))
    app.add_middleware(AccessLogMiddleware)  # outermost: times the whole request
    return app


def checkout_origins(settings: Settings) -> tuple[str, ...]:
    """Where pay and autopay forms may redirect: the provider's hosted pages."""
    if settings.payment_provider != "stripe":
        return ()
    if settings.stripe_api_base:  # a self-hosted or test API serves its own checkout pages
        parts = urlsplit(settings.stripe_api_base)
        return (f"{parts.scheme}://{parts.netloc}",)
    return (STRIPE_CHECKOUT,)


def services_lifespan(settings: Settings, injected: Services | None) -> Lifespan:
    """Build Services on start-up and close them on shutdown; injected ones are the caller's.

    Services it builds itself are then kept out of garbage collection (`bot.heap`). Either
    way the app runs the outbox's delivery worker while it serves (woken after each
    commit that queued a message, polling for retries, outside every request) and the
    recovery sweep (answers messages whose worker died: at start-up, then every minute).
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = injected if injected is not None else await build_services(settings)
        app.state.services = services
        if injected is None:  # a server's own start-up (tests inject theirs, and many apps)
            settle_after_startup()
        worker = OutboxWorker(services.outbox)
        worker.start()
        sweeper = RecoverySweeper(
            services.conversations, every_seconds=settings.recovery_sweep_seconds
        )
        sweeper.start()
        scheduler = None
        if injected is None and settings.scheduler_enabled:
            scheduler = start_scheduler(services)
        try:
            yield
        finally:
            await sweeper.stop()
            await worker.stop()
            if scheduler is not None:
                await scheduler.stop()
            if injected is None:
                await services.close()

    return lifespan
