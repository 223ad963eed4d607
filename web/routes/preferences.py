"""/account/preferences: alert kinds and channel, quiet hours, usage levels, the spending
limit, paperless billing and language — the same settings the chat changes, in one form.

A bad value re-shows the form with the reason (400) and changes nothing; a good form saves
every part and redirects (303), so a reload never re-posts.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import time

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from billing_client import Account, ContactChange, InvalidRequestError, LimitChange, Money
from bot.alerts.preferences import AlertPreferences, AlertSettingsStore, choosable
from bot.services import Services
from bot.store.customer_settings import CustomerSettingsStore
from bot.store.links import SqlAddressBook
from web.auth import CsrfChecked, CustomerDep
from web.deps import ServicesDep
from web.pages import render_page

router = APIRouter(prefix="/account/preferences", tags=["pages"])
LANGUAGES = {"en_US": "English", "es_ES": "Español"}


class FormProblem(ValueError):
    """A value the form cannot take; its text is shown next to the form."""


@dataclass(frozen=True, slots=True)
class Choices:
    alerts: AlertPreferences
    limit: Money | None
    limit_bar: bool
    paperless: bool
    locale: str


@router.get("", include_in_schema=False)
async def preferences_page(
    request: Request, account: CustomerDep, services: ServicesDep, saved: int = 0
) -> Response:
    return render_page(
        request, "account/preferences.html", await _context(services, account, saved=bool(saved))
    )


@router.post("", include_in_schema=False, dependencies=[CsrfChecked])
async def save_preferences(
    request: Request, account: CustomerDep, services: ServicesDep
) -> Response:
    form = await request.form()
    current = await _context(services, account)
    alerts = await AlertSettingsStore(services.sessions).get(account.id)
    try:
        choices = _read(form, account, alerts)
        await _save(services, account, choices, current)
    except FormProblem as problem:
        current["error"] = str(problem)
        return render_page(request, "account/preferences.html", current, status_code=400)
    return RedirectResponse("/account/preferences?saved=1", status_code=303)


async def _context(
    services: Services, account: Account, *, saved: bool = False
) -> dict[str, object]:
    now = services.clock.now()
    alerts = await AlertSettingsStore(services.sessions).get(account.id)
    limit = None
    if account.billing_type == "postpaid":
        limit = await services.billing.get_bill_limit(account.id, now=now)
    return {
        "account": account,
        "alerts": alerts,
        "limit": limit,
        "saved": saved,
        "kinds": choosable(account.billing_type),
        "channels": await _channels(services, account),
        "paperless": await CustomerSettingsStore(services.sessions).paperless(account.id),
        "languages": LANGUAGES,
    }


async def _channels(services: Services, account: Account) -> list[str]:
    """The channels alerts can go to: SMS and email always, chats once linked to a number."""
    book = SqlAddressBook(services.sessions, services.transactions)
    linked = set()
    for line in await services.billing.list_lines(account.id):
        linked |= {channel for channel, _ in await book.addresses_of(line.msisdn)}
    return ["sms", *[c for c in ("whatsapp", "telegram") if c in linked], "email"]


def _read(form: FormData, account: Account, alerts: AlertPreferences) -> Choices:
    kinds = choosable(account.billing_type)
    wanted = set(form.getlist("alert"))
    disabled = (alerts.disabled - set(kinds)) | {k for k in kinds if k not in wanted}
    channel = str(form.get("channel") or "auto")
    if channel not in ("auto", "sms", "whatsapp", "telegram", "email"):
        raise FormProblem("Choose a channel from the list.")
    start, end = _quiet(form)
    chosen = replace(
        alerts,
        disabled=frozenset(disabled),
        channel=None if channel == "auto" else channel,
        quiet_start=start,
        quiet_end=end,
        usage_levels=_levels(form),
    )
    locale = str(form.get("locale") or account.locale)
    if locale not in LANGUAGES:
        raise FormProblem("Choose a language from the list.")
    return Choices(
        chosen,
        _limit(form, account),
        form.get("limit_bar") == "on",
        form.get("paperless") == "on",
        locale,
    )


def _quiet(form: FormData) -> tuple[time, time]:
    if form.get("quiet_none") == "on":
        return time(0, 0), time(0, 0)
    try:
        return (
            time.fromisoformat(str(form.get("quiet_start") or "21:00")),
            time.fromisoformat(str(form.get("quiet_end") or "08:00")),
        )
    except ValueError:
        raise FormProblem("Quiet hours need two times like 21:00 and 08:00.") from None


def _levels(form: FormData) -> tuple[int, ...]:
    raw = str(form.get("usage_levels") or "80, 100").replace("%", "")
    try:
        levels = tuple(
            sorted({int(part) for part in raw.replace(";", ",").split(",") if part.strip()})
        )
    except ValueError:
        raise FormProblem("Usage levels are whole percents, like 50, 80, 100.") from None
    if not levels or not all(1 <= level <= 100 for level in levels) or len(levels) > 5:
        raise FormProblem("Give one to five usage levels between 1 and 100.")
    return levels


def _limit(form: FormData, account: Account) -> Money | None:
    raw = str(form.get("limit") or "").strip().replace(",", ".").lstrip("$€")
    if not raw or account.billing_type == "prepaid":
        return None
    try:
        limit = Money.from_decimal(raw, account.currency)
    except (ValueError, ArithmeticError):
        raise FormProblem("The spending limit is an amount like 150 or 150.00.") from None
    if not 0 < limit.minor <= 10_000_000:
        raise FormProblem("The spending limit must be more than zero.")
    return limit


async def _save(
    services: Services, account: Account, choices: Choices, current: dict[str, object]
) -> None:
    now = services.clock.now()
    actor = f"web:{account.id}"
    await AlertSettingsStore(services.sessions).save(account.id, choices.alerts, now=now)
    await CustomerSettingsStore(services.sessions).set_paperless(
        account.id, choices.paperless, now=now
    )
    if account.billing_type == "postpaid":
        await _save_limit(services, account.id, choices, current, actor)
    if choices.locale != account.locale:
        await services.billing.update_contact(
            account.id, ContactChange(locale=choices.locale), actor=actor, now=now
        )


async def _save_limit(
    services: Services, account_id: int, choices: Choices, current: dict[str, object], actor: str
) -> None:
    before = current["limit"]
    had = getattr(before, "limit", None)
    if choices.limit is None and had is None:
        return
    change = (
        LimitChange(remove=True)
        if choices.limit is None
        else LimitChange(limit=choices.limit, action="bar" if choices.limit_bar else "notice")
    )
    try:
        await services.billing.set_bill_limit(
            account_id, change, actor=actor, now=services.clock.now()
        )
    except InvalidRequestError as error:
        raise FormProblem(str(error)) from None
