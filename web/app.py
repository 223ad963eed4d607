"""The FastAPI app factory: routes, static files, error mapping and the Services lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from bot.bootstrap import build_services
from bot.services import Services
from bot.settings import Settings
from scheduler.runner import start_scheduler
from web import errors
from web.pages import STATIC_DIR, make_templates
from web.routes import chat, health, home, invoices, pay
from web.security import BodySizeLimitMiddleware, SecurityHeadersMiddleware

Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]
ROUTERS = (health.router, chat.router, home.router, pay.router, invoices.router)


def create_app(settings: Settings, *, services: Services | None = None) -> FastAPI:
    """The web app; builds its own Services at start-up unless given some (tests)."""
    app = FastAPI(
        title="billbot",
        summary="Conversational self-service for billing: web chat API, pay pages, health.",
        version="0.1.0",
        lifespan=services_lifespan(settings, services),
    )
    app.state.settings = settings
    app.state.templates = make_templates()
    if services is not None:
        app.state.services = services
    for router in ROUTERS:
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    errors.install(app)
    app.add_middleware(BodySizeLimitMiddleware)
    app.add_middleware(SecurityHeadersMiddleware)
    return app


def services_lifespan(settings: Settings, injected: Services | None) -> Lifespan:
    """Build Services on start-up and close them on shutdown; injected ones are the caller's."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if injected is not None:
            yield
            return
        built = await build_services(settings)
        app.state.services = built
        scheduler = start_scheduler(built) if settings.scheduler_enabled else None
        try:
            yield
        finally:
            if scheduler is not None:
                scheduler.shutdown(wait=False)
            await built.close()

    return lifespan
