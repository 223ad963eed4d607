"""Autopay: enrol (a saved payment method, by reference only), cancel, and charge each open
invoice on its due date.

`charge_due` runs in the scheduler (under its lease). Each charge is keyed by the invoice and
its due date (`autopay:<invoice id>:<due date>`), inserted as pending before the provider is
called and sent to the provider with the same key as its idempotency key — so two schedulers,
a crash and a retry all make one charge. A decline is recorded and told to the customer with
a pay link; it is not retried automatically (the customer chooses how to pay).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime

from billing_client import BillingError, InvoiceSummary, Money
from bot.clock import local_today
from bot.i18n import say
from bot.payments import ChargeOutcome, PaymentError, SavedMethod
from bot.services import Services
from bot.store.autopay import AutopayStore, ChargeRecord
from bot.types import OutboundMessage, Reply

log = logging.getLogger(__name__)
DECLINED = {
    "en": "{operator}: we could not take the autopay payment of {amount} for invoice "
    "{number}: {reason} Pay here: {url}",
    "es": "{operator}: no hemos podido cobrar el pago automático de {amount} de la factura "
    "{number}: {reason} Paga aquí: {url}",
}


@dataclass(frozen=True, slots=True)
class ScheduledCharge:
    """The next charge autopay will make for an account."""

    invoice: InvoiceSummary
    amount: Money
    on: date


def charge_key(invoice: InvoiceSummary) -> str:
    return f"autopay:{invoice.id}:{invoice.due_on.isoformat()}"


async def enrol(services: Services, method: SavedMethod, *, now: datetime) -> None:
    await AutopayStore(services.sessions).enrol(method, provider=services.payments.name, now=now)


async def next_charge(
    services: Services, account_id: int, *, now: datetime
) -> ScheduledCharge | None:
    """The oldest open invoice autopay has not charged yet (on its due date, or today if
    that has passed)."""
    balance = await services.billing.get_balance(account_id, now=now)
    store = AutopayStore(services.sessions)
    today = local_today(balance.account.timezone, now)
    for invoice in balance.open_invoices:
        if invoice.amount_due.minor > 0 and not await store.charged(charge_key(invoice)):
            return ScheduledCharge(invoice, invoice.amount_due, max(invoice.due_on, today))
    return None


async def charge_due(services: Services, *, now: datetime) -> list[ChargeRecord]:
    """Charge every enrolled account's invoices that are due (in the customer's own day)."""
    store = AutopayStore(services.sessions)
    made: list[ChargeRecord] = []
    for mandate in await store.active():
        try:
            made += await _charge_account(services, store, mandate, now)
        except (BillingError, PaymentError):
            log.exception("autopay for account %s: will retry on the next run", mandate.account_id)
    return made


async def _charge_account(
    services: Services, store: AutopayStore, method: SavedMethod, now: datetime
) -> list[ChargeRecord]:
    balance = await services.billing.get_balance(method.account_id, now=now)
    today = local_today(balance.account.timezone, now)
    made = []
    for invoice in balance.open_invoices:
        if invoice.due_on <= today and invoice.amount_due.minor > 0:
            record = await _charge_invoice(services, store, method, invoice, now)
            if record is not None:
                made.append(record)
    return made


async def _charge_invoice(
    services: Services,
    store: AutopayStore,
    method: SavedMethod,
    invoice: InvoiceSummary,
    now: datetime,
) -> ChargeRecord | None:
    key = charge_key(invoice)
    if not await store.begin(key, method.account_id, invoice.id, invoice.amount_due, now=now):
        return None  # charged (or being charged) already
    outcome = await services.payments.charge(
        method,
        invoice.amount_due,
        idempotency_key=key,
        description=f"Invoice {invoice.number} (autopay)",
    )
    if outcome.succeeded:
        await _record(services, method, invoice, outcome, now)
    else:
        await _declined(services, method, invoice, outcome, now)
    return await store.finish(key, outcome)


async def _record(
    services: Services,
    method: SavedMethod,
    invoice: InvoiceSummary,
    outcome: ChargeOutcome,
    now: datetime,
) -> None:
    payment = await services.billing.record_payment(
        method.account_id,
        invoice.id,
        invoice.amount_due,
        provider=services.payments.name,
        provider_reference=outcome.payment_reference,
        now=now,
    )
    if payment.created:
        from bot.pay_confirm import confirm_payment

        account = await services.billing.get_account(method.account_id)
        await confirm_payment(
            services,
            link_id=None,
            payment=payment,
            invoice_number=invoice.number,
            locale=account.locale,
        )


async def _declined(
    services: Services,
    method: SavedMethod,
    invoice: InvoiceSummary,
    outcome: ChargeOutcome,
    now: datetime,
) -> None:
    account = await services.billing.get_account(method.account_id)
    lines = await services.billing.list_lines(method.account_id)
    link = await services.billing.create_payment_link(
        method.account_id, invoice.id, now=now, ttl_seconds=services.settings.pay_link_ttl_seconds
    )
    text = say(
        DECLINED,
        account.locale,
        operator=services.operator.name,
        amount=invoice.amount_due.format(account.locale),
        number=invoice.number,
        reason=outcome.reason or "declined.",
        url=services.links.pay_url(link.id),
    )
    address = lines[0].msisdn if lines else account.email
    await services.outbox.enqueue(
        OutboundMessage(
            channel="sms" if lines else "email",
            address=address,
            replies=(Reply(text=text),),
            kind="autopay_failed",
            dedupe_key=f"autopay_failed:{charge_key(invoice)}",
            account_id=account.id,
        )
    )
