"""What the pay page shows for a link, and the receipt sent once a payment lands."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from billing_client import InvoiceDetail, Payment, PaymentLink
from bot.pay_confirm import RECEIPT as RECEIPT  # the receipt's text and builder live there
from bot.pay_confirm import confirm_payment
from bot.pay_confirm import receipt as receipt
from bot.services import Services

PayState = Literal["due", "paid", "expired", "settled"]
SANDBOX = "sandbox"


@dataclass(frozen=True, slots=True)
class PayView:
    """A payment link, its invoice and where the link stands."""

    link: PaymentLink
    invoice: InvoiceDetail
    state: PayState

    @property
    def locale(self) -> str:
        """The account's locale: amounts and dates read the way the customer writes them."""
        return self.invoice.account.locale

    @property
    def reference(self) -> str:
        """The payment reference this link gets (or got) in the sandbox."""
        return sandbox_reference(self.link.id)


def sandbox_reference(link_id: str) -> str:
    """The provider reference of a sandbox payment: one per link, so replays pay once."""
    return f"{SANDBOX}:{link_id}"


async def load(services: Services, link_id: str, *, now: datetime) -> PayView:
    """The link and its invoice; NotFoundError (→ 404) when the link is unknown."""
    link = await services.billing.get_payment_link(link_id, now=now)
    invoice = await services.billing.get_invoice(link.invoice_id, now=now)
    return PayView(link=link, invoice=invoice, state=state_of(link, invoice, now=now))


def state_of(link: PaymentLink, invoice: InvoiceDetail, *, now: datetime) -> PayState:
    """Paid beats expired: a customer who paid must see the receipt, not 'expired'."""
    if link.status == "paid":
        return "paid"
    if link.status == "expired" or _as_utc(link.expires_at) <= now:
        return "expired"
    if invoice.summary.amount_due.minor <= 0:
        return "settled"
    return "due"


def _as_utc(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; billbot stores UTC everywhere.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def pay(services: Services, view: PayView, *, now: datetime) -> Payment:
    """Record the sandbox payment once and, the first time only, queue the receipt SMS."""
    payment = await services.billing.pay_link(
        view.link.id, provider=SANDBOX, provider_reference=view.reference, now=now
    )
    if payment.created:
        await send_receipt(services, view, payment)
    return payment


async def send_receipt(services: Services, view: PayView, payment: Payment) -> None:
    """'Payment received' in the chat the link came from, else where the account's alerts
    go, through the outbox (once per payment: `bot.pay_confirm`)."""
    await confirm_payment(
        services,
        link_id=view.link.id,
        payment=payment,
        invoice_number=view.invoice.summary.number,
        locale=view.locale,
    )
