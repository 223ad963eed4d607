"""Browser hardening: response headers, a request body cap, and a same-origin check for forms."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from urllib.parse import urlsplit

from fastapi import HTTPException, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_BODY_BYTES = 512 * 1024  # 20,000 chars of escaped emoji is ~240 KB of JSON
# Pages use only our own scripts, styles and images; nobody may frame the pay button.
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
STRIPE_CHECKOUT = "https://checkout.stripe.com"


def csp(form_targets: Sequence[str] = ()) -> str:
    """The pages' policy; `form_targets` are the other origins a form may end up at (Chromium
    checks a form post's redirects against form-action: the provider's hosted checkout)."""
    if not form_targets:
        return CSP
    return CSP.replace("form-action 'self'", "form-action 'self' " + " ".join(form_targets))


_BASE_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    # Pay and invoice URLs carry a capability token: never send it to another site. Not
    # "no-referrer": with it, browsers send "Origin: null" on our own form posts.
    (b"referrer-policy", b"same-origin"),
]
_FRAME = (b"x-frame-options", b"DENY")
CROSS_SITE = "This form can only be sent from billbot's own page."
_PRIVATE_PREFIXES = ("/pay/", "/invoices/", "/api/", "/account", "/signin")
_OWN_CSP_PREFIXES = ("/docs", "/redoc")  # Swagger UI brings its own assets


class SecurityHeadersMiddleware:
    """Adds the headers above to every HTTP response (pure ASGI: no per-request task)."""

    def __init__(self, app: ASGIApp, form_targets: Sequence[str] = ()) -> None:
        self.app = app
        self.page_headers = [(b"content-security-policy", csp(form_targets).encode()), _FRAME]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = headers_for(scope["path"], self.page_headers)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def headers_for(
    path: str, page_headers: Sequence[tuple[bytes, bytes]] | None = None
) -> list[tuple[bytes, bytes]]:
    """The security headers for one path."""
    headers = list(_BASE_HEADERS)
    if not path.startswith(_OWN_CSP_PREFIXES):
        headers += (
            page_headers
            if page_headers is not None
            else [(b"content-security-policy", CSP.encode()), _FRAME]
        )
    if path.startswith(_PRIVATE_PREFIXES):
        headers.append((b"cache-control", b"no-store"))
    return headers


class BodySizeLimitMiddleware:
    """Refuses bodies over `limit` bytes, by Content-Length or while streaming (chunked).

    `per_path` gives some exact paths their own limit (the billing events' 1 MB).
    """

    def __init__(
        self, app: ASGIApp, limit: int = MAX_BODY_BYTES, per_path: Mapping[str, int] | None = None
    ) -> None:
        self.app = app
        self.limit = limit
        self.per_path = dict(per_path or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        received = 0
        limit = self.per_path.get(scope["path"], self.limit)

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > limit:
                raise too_large(limit)
            return message

        if _declared_length(scope) > limit:
            await self.app(scope, _refuse(limit), send)
        else:
            await self.app(scope, counting_receive, send)


def too_large(limit: int) -> HTTPException:
    """Raised inside the route's body read, so the one error mapping answers 413."""
    return HTTPException(413, f"The request body is larger than {limit // 1024} KB.")


def _declared_length(scope: Scope) -> int:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            return int(value) if value.isdigit() else 0
    return 0


def _refuse(limit: int) -> Receive:
    async def receive() -> Message:
        raise too_large(limit)

    return receive


def require_same_origin(request: Request, public_url: str) -> None:
    """403 for a form post a browser says came from elsewhere (the token stays the key).

    Sec-Fetch-Site is the browser's own verdict and wins when present; older browsers are
    judged by Origin. Neither header at all (curl, privacy tools) passes: the token and the
    idempotent sandbox reference still hold.
    """
    site = request.headers.get("sec-fetch-site")
    if site is not None:
        if site not in ("same-origin", "none"):
            raise HTTPException(403, CROSS_SITE)
        return
    origin = request.headers.get("origin")
    allowed = {request.url.netloc, urlsplit(public_url).netloc}
    if origin is not None and urlsplit(origin).netloc not in allowed:
        raise HTTPException(403, CROSS_SITE)
