"""Every error the web layer shows, mapped to a status and a reason in one place.

API paths get JSON `{"error": code, "detail": reason}`; pages get a small HTML page. Never a
traceback: the unexpected ones are logged and answered with a plain 500.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException

from billing_client import BillingUnavailableError, NotFoundError
from bot.links import LinkError
from web.auth import SignInRequired, sign_in_url
from web.pages import render_page

log = logging.getLogger(__name__)
Handler = Callable[[Request, Any], Awaitable[Response]]

EXPIRED_LINK = "This link has expired, ask billbot for a new one."
INVALID_LINK = "This link is not valid. Check that you copied all of it, or ask billbot again."


def install(app: FastAPI) -> None:
    """Register the handlers; Starlette looks them up along each exception's class hierarchy."""
    handlers: dict[type[Exception], Handler] = {
        RequestValidationError: invalid_request,
        LinkError: bad_link,
        SignInRequired: sign_in_first,
        NotFoundError: not_found,
        BillingUnavailableError: billing_unavailable,
        OperationalError: database_unavailable,
        HTTPException: http_error,
        Exception: unexpected,
    }
    for exc_class, handler in handlers.items():
        app.add_exception_handler(exc_class, handler)


def is_api(request: Request) -> bool:
    """JSON for the API and probes, HTML for pages people open."""
    path = request.url.path
    return path.startswith(("/api/", "/webhooks/")) or path in (
        "/healthz",
        "/readyz",
        "/openapi.json",
    )


def problem(request: Request, status: int, code: str, detail: str) -> Response:
    """One error response, shaped for who asked."""
    if is_api(request):
        return JSONResponse({"error": code, "detail": detail}, status_code=status)
    return render_page(
        request, "error.html", {"message": detail, "code": code}, status_code=status
    )


async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
    """422 naming the field and the rule (400 when the body is not JSON at all)."""
    errors = exc.errors()
    if any(error.get("type") == "json_invalid" for error in errors):
        return problem(request, 400, "bad_json", "The request body is not valid JSON.")
    return problem(request, 422, "invalid_request", describe(errors))


def describe(errors: Sequence[Any]) -> str:
    """'text: Input should be a valid string' — location and message, never the input echoed."""
    parts = []
    for error in errors:
        location = [str(part) for part in error.get("loc", ()) if part != "body"]
        where = ".".join(location) or "body"
        parts.append(f"{where}: {error.get('msg', 'invalid')}")
    return "; ".join(parts) or "The request is not valid."


async def sign_in_first(request: Request, exc: SignInRequired) -> Response:
    """A page of the account without a live session: to the sign-in page, then back."""
    return RedirectResponse(sign_in_url(exc.next_path), status_code=303)


async def bad_link(request: Request, exc: LinkError) -> Response:
    """410 for an expired link (ask for a new one), 404 for a forged or damaged one."""
    if exc.expired:
        return problem(request, 410, "link_expired", EXPIRED_LINK)
    return problem(request, 404, "link_invalid", INVALID_LINK)


async def not_found(request: Request, exc: NotFoundError) -> Response:
    """Billing said the thing does not exist (or is not the caller's)."""
    return problem(request, 404, "not_found", "We could not find that. It may have been removed.")


async def billing_unavailable(request: Request, exc: BillingUnavailableError) -> Response:
    """The billing system is down: say so and ask to retry."""
    log.warning("billing unavailable: %s", exc)
    detail = "Billing is not reachable right now. Please try again in a few minutes."
    return problem(request, 503, "billing_unavailable", detail)


async def database_unavailable(request: Request, exc: OperationalError) -> Response:
    """The database is down or not migrated: a retryable 503, details only in the log."""
    log.error("database unavailable on %s: %s", request.url.path, exc.orig)
    detail = "billbot is temporarily unavailable. Please try again in a minute."
    response = problem(request, 503, "unavailable", detail)
    response.headers["retry-after"] = "30"
    return response


async def http_error(request: Request, exc: HTTPException) -> Response:
    """Errors routes raise on purpose (403, 404, 413, …) keep their status and detail."""
    detail = exc.detail if isinstance(exc.detail, str) else "The request was refused."
    response = problem(request, exc.status_code, _code(exc.status_code), detail)
    response.headers.update(exc.headers or {})
    return response


async def unexpected(request: Request, exc: Exception) -> Response:
    """Log the bug; the visitor gets an apology, not a stack trace."""
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem(request, 500, "internal", "Something went wrong on our side. Please retry.")


_CODES = {
    400: "bad_request",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "in_progress",
    410: "gone",
    413: "too_large",
    429: "rate_limited",
}


def _code(status: int) -> str:
    return _CODES.get(status, f"http_{status}")
