"""Sign in to the web view by code or by a link from chat, and sign out (see web/signin.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

from bot.links import LinkError
from bot.services import Services
from bot.store.web_auth import SignInAttempts, link_spent, spend_link
from web.auth import (
    CsrfChecked,
    clear_session,
    safe_next,
    session_cookie,
    set_session,
    web_sessions,
)
from web.deps import ServicesDep
from web.pages import render_page
from web.signin import CODE_TTL, CodeSignIn, SignInRefused

router = APIRouter(tags=["pages"])
PENDING = "billbot_signin"  # a signed cookie: the code attempt's id and where to go next
STATUS = {"bad_number": 400, "locked": 429, "too_many_codes": 429, "codes_paused": 429}


@router.get("/signin", include_in_schema=False)
async def signin_page(request: Request, next: str | None = None, out: int = 0) -> Response:
    """The number form."""
    return render_page(request, "signin.html", {"next": safe_next(next), "out": bool(out)})


@router.post("/signin", include_in_schema=False, dependencies=[CsrfChecked])
async def send_code(
    request: Request,
    services: ServicesDep,
    phone: Annotated[str, Form(max_length=40)] = "",
    next: Annotated[str, Form(max_length=200)] = "/account",
) -> Response:
    """Text a code (when the number is a customer's) and go to the code form either way."""
    try:
        attempt = await _codes(services).request(
            phone, requester=_requester(request), now=services.clock.now()
        )
    except SignInRefused as refused:
        context = {"next": safe_next(next), "error": refused.reason, "phone": phone[:40]}
        return render_page(request, "signin.html", context, status_code=STATUS[refused.reason])
    response = RedirectResponse("/signin/code", status_code=303)
    response.set_cookie(
        PENDING,
        _pending(services).dumps([attempt, safe_next(next)]),
        max_age=int(CODE_TTL.total_seconds()),
        path="/signin",
        httponly=True,
        samesite="strict",
        secure=services.settings.public_url.startswith("https://"),
    )
    return response


@router.get("/signin/code", include_in_schema=False)
async def code_page(request: Request, services: ServicesDep) -> Response:
    if _pending_attempt(request, services) is None:
        return RedirectResponse("/signin", status_code=303)
    return render_page(request, "signin_code.html", {})


@router.post("/signin/code", include_in_schema=False, dependencies=[CsrfChecked])
async def check_code(
    request: Request, services: ServicesDep, code: Annotated[str, Form(max_length=20)] = ""
) -> Response:
    """Sign in on the right code; otherwise say why, with one try counted."""
    pending = _pending_attempt(request, services)
    if pending is None:
        return RedirectResponse("/signin", status_code=303)
    attempt, next_path = pending
    now = services.clock.now()
    try:
        account_id = await _codes(services).check(
            attempt, code, requester=_requester(request), now=now
        )
    except SignInRefused as refused:
        status = 429 if refused.reason == "locked" else 400
        return render_page(
            request, "signin_code.html", {"error": refused.reason}, status_code=status
        )
    response = await _signed_in(request, services, account_id, next_path)
    response.delete_cookie(PENDING, path="/signin")
    return response


@router.get("/signin/link/{token}", include_in_schema=False)
async def link_page(token: str, request: Request, services: ServicesDep) -> Response:
    """A button, not an instant sign-in: link previews in messaging apps fetch GETs, and must
    not spend a single-use link."""
    claim = services.links.login_claim(token)
    if await link_spent(services.sessions, claim.nonce):
        return _link_used(request)
    return render_page(request, "signin_link.html", {"token": token})


@router.post("/signin/link/{token}", include_in_schema=False, dependencies=[CsrfChecked])
async def use_link(token: str, request: Request, services: ServicesDep) -> Response:
    try:
        claim = services.links.login_claim(token)
    except LinkError:
        return _link_used(request)
    now = services.clock.now()
    first = await spend_link(
        services.sessions, claim.nonce, purpose="sign_in", account_id=claim.account_id, now=now
    )
    if not first:
        return _link_used(request)
    return await _signed_in(request, services, claim.account_id, safe_next(claim.value))


@router.post("/signout", include_in_schema=False, dependencies=[CsrfChecked])
async def sign_out(request: Request, services: ServicesDep) -> Response:
    token = request.cookies.get(session_cookie(services.settings))
    if token:
        await web_sessions(request).end(token, now=services.clock.now())
    response = RedirectResponse("/signin?out=1", status_code=303)
    clear_session(response, services.settings)
    return response


async def _signed_in(
    request: Request, services: Services, account_id: int, next_path: str
) -> Response:
    token = await web_sessions(request).start(account_id, now=services.clock.now())
    response = RedirectResponse(next_path, status_code=303)
    set_session(response, token, services.settings)
    return response


def _link_used(request: Request) -> Response:
    return render_page(request, "signin_link.html", {"used": True}, status_code=410)


def _codes(services: Services) -> CodeSignIn:
    return CodeSignIn(services, SignInAttempts(services.sessions))


def _pending(services: Services) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(services.settings.secret_key, salt="billbot.sign-in-code")


def _pending_attempt(request: Request, services: Services) -> tuple[str, str] | None:
    raw = request.cookies.get(PENDING)
    if not raw:
        return None
    try:
        value = _pending(services).loads(raw, max_age=int(CODE_TTL.total_seconds()))
    except BadSignature:
        return None
    if not (
        isinstance(value, list) and len(value) == 2 and all(isinstance(v, str) for v in value)
    ):
        return None
    return value[0], safe_next(value[1])


def _requester(request: Request) -> str:
    return f"web:{request.client.host if request.client else 'unknown'}"
