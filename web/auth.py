"""Who is signed in, and the CSRF check every form post passes.

Sessions: an HttpOnly, SameSite=Lax cookie (Secure, with the `__Host-` prefix, when the public
URL is HTTPS) carrying a random token; the database keeps only its hash (`bot.store.web_auth`)
and ends it after `BILLBOT_WEB_SESSION_IDLE_SECONDS` idle or `…_MAX_SECONDS` in all.

CSRF: a signed double-submit token. The first page sets a random, HttpOnly, SameSite=Strict
`csrf` cookie; every form carries HMAC(secret, cookie) in a hidden field; a post whose field
does not match its cookie is refused with 403 before anything happens. Pages a stranger may
post (sign-in, pay links) are covered the same way.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, HTTPException, Request
from starlette.responses import Response

from billing_client import Account
from bot.settings import Settings
from bot.store.web_auth import SessionLimits, WebSessions
from web.deps import ServicesDep, SettingsDep

CSRF_FIELD = "csrf"
CSRF_REFUSED = "This form has expired or did not come from this site. Reload the page and retry."
SAFE_NEXT = ("/account", "/help")


class SignInRequired(Exception):
    """Raised by `CustomerDep` without a live session: the error mapping redirects to sign-in."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


def secure(settings: Settings) -> bool:
    return settings.public_url.startswith("https://")


def session_cookie(settings: Settings) -> str:
    return "__Host-billbot_session" if secure(settings) else "billbot_session"


def csrf_cookie(settings: Settings) -> str:
    return "__Host-billbot_csrf" if secure(settings) else "billbot_csrf"


def set_session(response: Response, token: str, settings: Settings) -> None:
    response.set_cookie(
        session_cookie(settings),
        token,
        max_age=settings.web_session_max_seconds,
        path="/",
        secure=secure(settings),
        httponly=True,
        samesite="lax",
    )


def clear_session(response: Response, settings: Settings) -> None:
    response.delete_cookie(
        session_cookie(settings),
        path="/",
        secure=secure(settings),
        httponly=True,
        samesite="lax",
    )


def csrf_token(request: Request, response: Response | None = None) -> str:
    """The form token for this browser; sets the cookie on `response` when there is none."""
    settings: Settings = request.app.state.settings
    name = csrf_cookie(settings)
    seed = request.cookies.get(name) or getattr(request.state, "csrf_seed", None)
    if not seed:
        seed = secrets.token_urlsafe(24)
        request.state.csrf_seed = seed
    if response is not None and request.cookies.get(name) != seed:
        response.set_cookie(
            name, seed, path="/", secure=secure(settings), httponly=True, samesite="strict"
        )
    return _sign(settings, seed)


def _sign(settings: Settings, seed: str) -> str:
    key = hashlib.sha256(b"billbot csrf\0" + settings.secret_key.encode()).digest()
    return hmac.new(key, seed.encode(), hashlib.sha256).hexdigest()


async def require_csrf(request: Request, settings: SettingsDep) -> None:
    """403 unless the posted form's token matches this browser's cookie."""
    seed = request.cookies.get(csrf_cookie(settings))
    form = await request.form()
    sent = form.get(CSRF_FIELD)
    if not seed or not isinstance(sent, str):
        raise HTTPException(403, CSRF_REFUSED)
    if not hmac.compare_digest(sent.encode(), _sign(settings, seed).encode()):
        raise HTTPException(403, CSRF_REFUSED)


async def signed_in_account(request: Request, services: ServicesDep) -> int | None:
    """The account of this browser's live session, or None."""
    token = request.cookies.get(session_cookie(services.settings))
    if not token:
        return None
    return await web_sessions(request).account_of(token, now=services.clock.now())


def web_sessions(request: Request) -> WebSessions:
    """The app's session store (built on first use from its Services and Settings)."""
    state = request.app.state
    if getattr(state, "web_sessions", None) is None:
        settings: Settings = state.settings
        limits = SessionLimits(
            idle=timedelta(seconds=settings.web_session_idle_seconds),
            absolute=timedelta(seconds=settings.web_session_max_seconds),
        )
        state.web_sessions = WebSessions(state.services.sessions, limits)
    store: WebSessions = state.web_sessions
    return store


async def current_customer(
    request: Request,
    services: ServicesDep,
    account_id: Annotated[int | None, Depends(signed_in_account)],
) -> Account:
    """The signed-in customer's account; SignInRequired (→ the sign-in page) otherwise."""
    if account_id is None:
        raise SignInRequired(request.url.path)
    request.state.account_id = account_id
    account = await services.billing.get_account(account_id)
    request.state.locale = account.locale
    return account


def safe_next(path: str | None) -> str:
    """Only our own account pages may follow a sign-in (no open redirect)."""
    if path and path.startswith(SAFE_NEXT) and "//" not in path and "\\" not in path:
        return path
    return "/account"


def sign_in_url(next_path: str) -> str:
    return f"/signin?next={quote(safe_next(next_path))}"


CsrfChecked = Depends(require_csrf)
CustomerDep = Annotated[Account, Depends(current_customer)]
