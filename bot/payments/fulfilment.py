"""Turning a provider's "paid" into a recorded payment, once, whoever reports it first.

The customer's return to the pay page and the provider's webhook both call `settle`; the
billing core is idempotent on (provider, payment reference), so the second finds the first's
payment. A payment that arrives after the customer left — or after the link expired — is
still recorded against the invoice (or, for a top-up link, on the prepaid balance): money the
provider collected is never ignored. Whatever was collected beyond what the invoice still
owes (it was paid another way meanwhile) is refunded through the provider at once, keyed by
the payment, so the core never holds credit.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from billing_client import InvalidRequestError, Money, Payment, PaymentLink
from bot.payments import CheckoutRequest, PaymentError, Redirect, Settled
from bot.services import Services
from bot.store.checkouts import Checkouts

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What `settle` did: the payment recorded (None when nothing was owed any more) and
    the part given back."""

    payment: Payment | None
    refunded: Money | None = None


async def start_checkout(
    services: Services,
    link: PaymentLink,
    amount: Money,
    *,
    description: str,
    locale: str,
    email: str | None,
    success_url: str,
    cancel_url: str,
) -> Redirect:
    """A hosted checkout for `amount` of the link's invoice, remembered by its reference."""
    request = CheckoutRequest(
        reference=link.id,
        amount=amount,
        description=description,
        locale=locale,
        success_url=success_url,
        cancel_url=cancel_url,
        customer_email=email,
        whole=amount == link.amount,
    )
    redirect = await services.payments.checkout(request)
    await Checkouts(services.sessions).remember(
        redirect.provider_reference,
        provider=services.payments.name,
        link_id=link.id,
        amount=amount,
        now=services.clock.now(),
    )
    return redirect


async def settle(services: Services, settled: Settled, *, now: datetime) -> Outcome:
    """Record a confirmed payment for its pay link (see the module docstring)."""
    provider = services.payments.name
    link = await services.billing.get_payment_link(settled.reference, now=now)
    if settled.amount == link.amount and link.status == "active":
        try:
            payment = await services.billing.pay_link(
                link.id, provider=provider, provider_reference=settled.payment_reference, now=now
            )
            return await _after(services, link, payment)
        except InvalidRequestError:  # expired, or the balance dropped: record what is owed
            pass
    return await _record_owed(services, link, settled, now)


async def _record_owed(
    services: Services, link: PaymentLink, settled: Settled, now: datetime
) -> Outcome:
    if link.invoice_id is None:  # a top-up: whatever was collected goes on the balance
        topped_up = await services.billing.record_payment(
            link.account_id,
            None,
            settled.amount,
            provider=services.payments.name,
            provider_reference=settled.payment_reference,
            now=now,
        )
        return await _after(services, link, topped_up)
    invoice = await services.billing.get_invoice(link.invoice_id, now=now)
    owed = invoice.summary.amount_due
    applied = min(settled.amount.minor, max(owed.minor, 0))
    payment = None
    if applied > 0:
        payment = await services.billing.record_payment(
            link.account_id,
            link.invoice_id,
            Money(applied, owed.currency),
            provider=services.payments.name,
            provider_reference=settled.payment_reference,
            now=now,
        )
    excess = Money(settled.amount.minor - applied, settled.amount.currency)
    refunded = await _refund(services, settled, excess) if excess.minor > 0 else None
    outcome = await _after(services, link, payment) if payment is not None else Outcome(None)
    return Outcome(outcome.payment, refunded)


async def _refund(services: Services, settled: Settled, excess: Money) -> Money | None:
    try:
        await services.payments.refund(
            settled.payment_reference,
            excess,
            idempotency_key=f"billbot-refund:{settled.payment_reference}",
        )
    except PaymentError:
        log.exception(
            "refund of %s on %s failed: retry from the provider's dashboard",
            excess.minor,
            settled.payment_reference,
        )
        return None
    return excess


async def _after(services: Services, link: PaymentLink, payment: Payment) -> Outcome:
    """The first time a payment is recorded: confirm it to the customer (once)."""
    if payment.created:
        from bot.pay_confirm import confirm_payment  # the chat side of a payment

        now = services.clock.now()
        if link.invoice_id is None:  # a top-up: the receipt says the balance it left
            balance = await services.billing.get_balance(link.account_id, now=now)
            await confirm_payment(
                services,
                link_id=link.id,
                payment=payment,
                invoice_number="",
                locale=balance.account.locale,
                top_up_balance=balance.prepaid_balance or payment.amount,
            )
            return Outcome(payment)
        invoice = await services.billing.get_invoice(link.invoice_id, now=now)
        await confirm_payment(
            services,
            link_id=link.id,
            payment=payment,
            invoice_number=invoice.summary.number,
            locale=invoice.account.locale,
        )
    return Outcome(payment)
