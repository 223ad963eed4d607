"""Counts in replies use the language's plural forms: "1 day", "5 days", "1 día", "5 días"."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta

import pytest

from bot.flow import FlowState, TurnContext
from bot.i18n import PluralMessages
from bot.links import LinkSigner
from bot.settings import Settings
from bot.types import InboundMessage
from intents.balance import DAYS
from intents.pay_bill import OPEN_BILLS
from intents.registry import default_registry
from tests.fakes import NOW, FakeBillingClient, parse

SETTINGS = Settings(demo=True, secret_key="unit-test-secret-key-0123")
REGISTRY = default_registry()
DUE_ON = date(2026, 11, 16)  # the fake's open invoice (INV-100) for Sam, in Chicago


def _context(billing: FakeBillingClient, intent: str, now: datetime) -> TurnContext:
    return TurnContext(
        message=InboundMessage("web", "s1", intent, "x", now),
        text=intent,
        parse=parse(intent, intent),
        account=billing.accounts[1],
        state=FlowState(),
        billing=billing,
        links=LinkSigner(SETTINGS.secret_key, SETTINGS.public_url),
        registry=REGISTRY,
        settings=SETTINGS,
        now=now,
    )


async def _reply(billing: FakeBillingClient, intent: str, now: datetime = NOW) -> str:
    ctx = _context(billing, intent, now)
    replies = await REGISTRY.get(intent).start(ctx)
    return "\n".join(reply.text for reply in replies)


def _spanish(billing: FakeBillingClient) -> FakeBillingClient:
    billing.accounts[1] = replace(billing.accounts[1], locale="es_ES")
    return billing


def _days_after_due(days: int) -> datetime:
    """Mid-afternoon in Chicago, `days` after the invoice was due."""
    return datetime.combine(DUE_ON + timedelta(days=days), NOW.timetz())


@pytest.mark.parametrize(("days", "text"), [(1, "is 1 day overdue"), (5, "is 5 days overdue")])
async def test_balance_counts_overdue_days_in_english(days: int, text: str) -> None:
    reply = await _reply(FakeBillingClient(), "balance", _days_after_due(days))
    assert text in reply
    assert "(s)" not in reply


@pytest.mark.parametrize(
    ("days", "text"), [(1, "lleva 1 día de retraso"), (5, "lleva 5 días de retraso")]
)
async def test_balance_counts_overdue_days_in_spanish(days: int, text: str) -> None:
    reply = await _reply(_spanish(FakeBillingClient()), "balance", _days_after_due(days))
    assert text in reply
    assert "(s)" not in reply


@pytest.mark.parametrize(
    ("locale", "messages", "count", "text"),
    [
        ("en_US", DAYS, 1, "1 day"),
        ("en_US", DAYS, 5, "5 days"),
        ("es_ES", DAYS, 1, "1 día"),
        ("es_ES", DAYS, 5, "5 días"),
        ("en_US", OPEN_BILLS, 1, "1 open bill"),
        ("en_US", OPEN_BILLS, 5, "5 open bills"),
        ("es_ES", OPEN_BILLS, 1, "1 factura pendiente"),
        ("es_ES", OPEN_BILLS, 5, "5 facturas pendientes"),
    ],
)
def test_plural_messages_have_the_one_and_other_forms(
    locale: str, messages: PluralMessages, count: int, text: str
) -> None:
    billing = FakeBillingClient()
    billing.accounts[1] = replace(billing.accounts[1], locale=locale)
    assert _context(billing, "balance", NOW).plural(messages, count) == text


def _open_bills(billing: FakeBillingClient, count: int) -> FakeBillingClient:
    first = billing.invoices[100]
    billing.invoices = {
        100 + n: replace(first, id=100 + n, number=f"INV-{100 + n}") for n in range(count)
    }
    return billing


@pytest.mark.parametrize(("count", "text"), [(2, "You have 2 open bills."), (5, "5 open bills")])
async def test_pay_bill_counts_open_bills(count: int, text: str) -> None:
    reply = await _reply(_open_bills(FakeBillingClient(), count), "pay_bill")
    assert text in reply


async def test_pay_bill_counts_open_bills_in_spanish() -> None:
    reply = await _reply(_spanish(_open_bills(FakeBillingClient(), 5)), "pay_bill")
    assert "Tienes 5 facturas pendientes." in reply
