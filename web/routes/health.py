"""Liveness and readiness probes."""

from __future__ import annotations

import asyncio
import logging

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from web.deps import ServicesDep

router = APIRouter(tags=["health"])
log = logging.getLogger(__name__)
READY_TIMEOUT_SECONDS = 3.0


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is up (it says nothing about the database)."""
    return {"status": "ok"}


@router.get("/readyz", response_model=None)
async def readyz(services: ServicesDep) -> dict[str, str] | JSONResponse:
    """Ready when the database answers `SELECT 1` in time; 503 otherwise."""
    try:
        async with asyncio.timeout(READY_TIMEOUT_SECONDS), services.db.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except (SQLAlchemyError, OSError, TimeoutError) as exc:
        log.warning("readiness check failed: %s", type(exc).__name__)
        body = {"status": "unavailable", "detail": "the database is not reachable"}
        return JSONResponse(body, status_code=503)
    return {"status": "ok"}
