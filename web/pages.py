"""Jinja2 templates, their filters, and the one way routes render an HTML page."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel import negotiate_locale
from babel.dates import format_date, format_time
from babel.numbers import format_decimal, format_percent
from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import Response

from billing_client import Money
from bot.i18n import language
from bot.phones import display
from web.auth import csrf_token
from web.texts import TEXTS, text

HERE = Path(__file__).parent
TEMPLATES_DIR = HERE / "templates"
STATIC_DIR = HERE / "static"


def make_templates() -> Jinja2Templates:
    """Templates with autoescaping (Starlette's default) and our formatting filters."""
    templates = Jinja2Templates(directory=TEMPLATES_DIR)
    templates.env.filters["money"] = money
    templates.env.filters["day"] = day
    templates.env.filters["quantity"] = quantity
    templates.env.filters["phone"] = display
    templates.env.filters["moment"] = moment
    templates.env.filters["percent"] = percent
    templates.env.filters["method"] = method
    templates.env.globals["static"] = static
    return templates


LOCALES = {"en": "en_US", "es": "es_ES"}


def render_page(
    request: Request, name: str, context: dict[str, Any], *, status_code: int = 200
) -> Response:
    """Render `name` in the page's locale, with the operator's branding, the CSRF token for
    its forms (setting the cookie it is checked against) and the demo flag."""
    templates: Jinja2Templates = request.app.state.templates
    locale = str(context.get("locale") or page_locale(request))
    full = {
        "demo": bool(request.app.state.settings.demo),
        "locale": locale,
        "lang": language(locale),
        "operator": _operator(request),
        "signed_in": getattr(request.state, "account_id", None) is not None,
        "path": request.url.path,
        "t": lambda key, **values: text(key, locale, **values),
        "has_t": lambda key: key in TEXTS,
        **context,
    }
    full["csrf"] = csrf_token(request)
    response = templates.TemplateResponse(request, name, full, status_code=status_code)
    csrf_token(request, response)  # the cookie the token is checked against
    return response


def page_locale(request: Request) -> str:
    """The signed-in customer's locale, else the browser's preferred one we speak, else en."""
    known = getattr(request.state, "locale", None)
    if known:
        return str(known)
    wanted = [
        part.split(";")[0].strip().replace("-", "_")
        for part in request.headers.get("accept-language", "").split(",")
        if part.strip()
    ]
    chosen = negotiate_locale([w.split("_")[0] for w in wanted], list(LOCALES))
    return LOCALES.get(chosen or "en", "en_US")


def _operator(request: Request) -> Any:
    services = getattr(request.app.state, "services", None)
    return getattr(services, "operator", None)


def money(amount: Money, locale: str = "en_US") -> str:
    """'$64.20' (en_US) or '12,50 US$' (es_ES)."""
    return amount.format(locale)


def day(value: date, locale: str = "en_US") -> str:
    """'Jul 14, 2025' in the account's locale."""
    return format_date(value, format="medium", locale=locale)


def quantity(value: Decimal, locale: str = "en_US") -> str:
    """'38' rather than '38.000'; fractions kept ('1.5')."""
    return format_decimal(value.normalize(), locale=locale)


def static(path: str) -> str:
    """Site-relative URL of a static file (relative, so it works behind a TLS proxy)."""
    return f"/static/{path}"


def moment(value: datetime, locale: str = "en_US", timezone: str = "UTC") -> str:
    """'Jul 14, 2025, 3:04 PM' in the customer's own time zone (no seconds)."""
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    local = aware.astimezone(ZoneInfo(timezone))
    day_part = format_date(local, "medium", locale=locale)
    return f"{day_part}, {format_time(local, 'short', locale=locale)}"


def method(provider: str, locale: str = "en_US") -> str:
    """How a payment was made, in words ('Card', 'Sandbox (test)'); unknown ones as they are."""
    key = f"method_{provider}"
    return text(key, locale) if key in TEXTS else provider


def percent(value: Decimal, locale: str = "en_US") -> str:
    """'8.25 %' for Decimal('0.0825')."""
    return format_percent(value, format="#,##0.##%", locale=locale)
