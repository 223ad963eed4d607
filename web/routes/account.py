"""GET /account: the signed-in customer's overview — what is due, usage, charges so far, alerts."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from billing_client import Account, Balance, UsageCounter
from bot.services import Services
from web.auth import CustomerDep
from web.charts import Meter, meter_svg
from web.deps import ServicesDep
from web.pages import quantity, render_page
from web.texts import text

router = APIRouter(prefix="/account", tags=["pages"])
MB_PER_GB = 1024
UNITS = {"sms": "SMS"}


@dataclass(frozen=True, slots=True)
class UsageRow:
    line: str
    kind: str
    words: str  # "Data: 41.5 GB / 50 GB"
    percent: int | None
    chart: str  # empty for an unlimited allowance


@router.get("/pay", include_in_schema=False)
async def pay_oldest(request: Request, account: CustomerDep, services: ServicesDep) -> Response:
    """To the pay page of the oldest open invoice (or the overview when nothing is due)."""
    balance = await services.billing.get_balance(account.id, now=services.clock.now())
    due = [invoice for invoice in balance.open_invoices if invoice.amount_due.minor > 0]
    if not due:
        return RedirectResponse("/account", status_code=303)
    return await pay_redirect(services, account.id, due[0].id)


async def pay_redirect(services: Services, account_id: int, invoice_id: int) -> Response:
    """A fresh pay link for the invoice (made on demand, not on every page view)."""
    link = await services.billing.create_payment_link(
        account_id,
        invoice_id,
        now=services.clock.now(),
        ttl_seconds=services.settings.pay_link_ttl_seconds,
    )
    return RedirectResponse(services.links.pay_url(link.id), status_code=303)


@router.get("", include_in_schema=False)
async def dashboard(request: Request, account: CustomerDep, services: ServicesDep) -> Response:
    now = services.clock.now()
    balance = await services.billing.get_balance(account.id, now=now)
    usage = []
    if services.operator.features.usage:
        usage = [_row(c, account) for c in await services.billing.get_usage(account.id, now=now)]
    context = {
        "account": account,
        "balance": balance,
        "usage": usage,
        "alerts": await _alerts(services, account, balance, now_usage=usage),
    }
    return render_page(request, "account/dashboard.html", context)


def _row(counter: UsageCounter, account: Account) -> UsageRow:
    kind = (
        text(f"kind_{counter.kind}", account.locale)
        if counter.kind in ("data", "voice", "sms")
        else counter.kind
    )
    words = f"{kind}: {_words(counter.used, counter.unit, account.locale)}"
    if counter.allowance:
        words += f" / {_words(counter.allowance, counter.unit, account.locale)}"
    else:
        words += f" ({text('unlimited', account.locale)})"
    meter = Meter(
        f"{counter.line_msisdn[1:]}-{counter.kind}", words, counter.used, counter.allowance
    )
    chart = str(meter_svg(meter)) if counter.allowance else ""
    return UsageRow(counter.line_msisdn, kind, words, counter.percent_used, chart)


def _words(value: int, unit: str, locale: str) -> str:
    if unit == "MB" and value >= MB_PER_GB:
        return f"{quantity(Decimal(value) / MB_PER_GB, locale)} GB"
    return f"{quantity(Decimal(value), locale)} {UNITS.get(unit, unit)}"


async def _alerts(
    services: Services, account: Account, balance: Balance, *, now_usage: list[UsageRow]
) -> list[str]:
    """The conditions worth a customer's attention right now, in words."""
    locale = account.locale
    found = []
    if balance.overdue:
        found.append(text("overdue", locale))
    for row in now_usage:
        if row.percent is not None and row.percent >= 80:
            found.append(f"{row.kind} {row.percent} %")
    if balance.bill_limit is not None and balance.bill_limit.minor:
        percent = balance.unbilled.minor * 100 // balance.bill_limit.minor
        if percent >= 80:
            found.append(
                text(
                    "bill_limit", locale, limit=balance.bill_limit.format(locale), percent=percent
                )
            )
    lines = await services.billing.list_lines(account.id)
    found += [
        f"{line.msisdn}: {line.barred_reason or line.status}"
        for line in lines
        if line.status != "active"
    ]
    return found
