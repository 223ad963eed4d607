"""`POST /api/events`: billing-system events in (DESIGN.md §5, a contract; docs/events.md).

A few steps: off (404) without BILLBOT_EVENTS_SECRET; read the raw body (the signature covers
its bytes; over 1 MB is a 400); hand it to the events service; answer its outcome, or map its
refusal to a status here.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.responses import JSONResponse

from bot.events import (
    MAX_BODY_BYTES,
    SIGNATURE_HEADER,
    BadEvent,
    EventConflict,
    EventError,
    EventRefused,
    EventRejected,
)
from web.deps import ServicesDep
from web.errors import problem

PATH = "/api/events"
OFF = "Billing events are not configured on this server (BILLBOT_EVENTS_SECRET)."
TOO_LARGE = f"The body is larger than {MAX_BODY_BYTES // (1024 * 1024)} MB."
# Each refusal's status and error code; nothing was stored or changed for any of them.
STATUS: dict[type[EventError], tuple[int, str]] = {
    EventRejected: (403, "forbidden"),
    BadEvent: (400, "bad_event"),
    EventConflict: (409, "id_reused"),
    EventRefused: (422, "refused"),
}

router = APIRouter(tags=["events"])


@router.post(
    PATH,
    summary="Billing events in (invoice.issued, payment.succeeded, usage.recorded)",
    description=f"HMAC-signed in the `{SIGNATURE_HEADER}` header; idempotent on the event id.",
)
async def receive_event(request: Request, services: ServicesDep) -> Response:
    if services.events is None:
        raise HTTPException(404, OFF)
    body = await _body(request)
    try:
        answer = await services.events.receive(body, request.headers.get(SIGNATURE_HEADER))
    except EventError as error:
        status, code = STATUS[type(error)]
        return problem(request, status, code, str(error))
    return JSONResponse(answer)


async def _body(request: Request) -> bytes:
    """The raw body; 400 (not 413) when it is over the limit, as for any bad body."""
    try:
        return await request.body()
    except HTTPException as error:
        if error.status_code == 413:
            raise HTTPException(400, TOO_LARGE) from None
        raise
