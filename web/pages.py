"""Jinja2 templates, their filters, and the one way routes render an HTML page."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from babel.dates import format_date
from babel.numbers import format_decimal
from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import Response

from billing_client import Money
from bot.phones import display

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
    templates.env.globals["static"] = static
    return templates


def render_page(
    request: Request, name: str, context: dict[str, Any], *, status_code: int = 200
) -> Response:
    """Render `name`; every page knows whether the app runs in demo mode."""
    templates: Jinja2Templates = request.app.state.templates
    demo = bool(request.app.state.settings.demo)
    full = {"demo": demo, "lang": "en", **context}
    return templates.TemplateResponse(request, name, full, status_code=status_code)


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
