"""FastAPI dependency aliases: routes receive Services and Settings by annotation."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from bot.services import Services
from bot.settings import Settings


# `async def` although they never await: FastAPI runs a plain `def` dependency in a worker
# thread, two thread hops per request for two attribute reads.
async def get_services(request: Request) -> Services:
    """The Services the app was built with (or the lifespan built)."""
    services: Services = request.app.state.services
    return services


async def get_settings(request: Request) -> Settings:
    """The app's settings, read once at start-up."""
    settings: Settings = request.app.state.settings
    return settings


ServicesDep = Annotated[Services, Depends(get_services)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
