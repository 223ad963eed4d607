"""What the pay page shows for a link, and the receipt sent once a payment lands."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from billing_client import Account, InvoiceDetail, Money, Payment, PaymentLink
from bot.pay_confirm import RECEIPT as RECEIPT  # the receipt's text and builder live there
from bot.pay_confirm import confirm_payment
from bot.pay_confirm import receipt as receipt
from bot.services import Services

PayState = Literal["due", "paid", "expired", "settled"]
SANDBOX = "sandbox"


@dataclass(frozen=True, slots=True)
class PayView:
    """A payment link, its invoice (None: a prepaid top-up), its account and where it stands."""

    link: PaymentLink
    invoice: InvoiceDetail | None
    state: PayState
    account: Account

    @property
    def locale(self) -> str:
        """The account's locale: amounts and dates read the way the customer writes them."""
        return self.account.locale

    @property
    def due(self) -> Money:
        """What the page asks for: the invoice's amount due, or the top-up's fixed amount."""
        return self.invoice.summary.amount_due if self.invoice else self.link.amount

    @property
    def number(self) -> str:
        """The invoice number, or "" for a top-up."""
        return self.invoice.summary.number if self.invoice else ""

    @property
    def reference(self) -> str:
        """The payment reference this link gets (or got) in the sandbox."""
        return sandbox_reference(self.link.id)


def sandbox_reference(link_id: str) -> str:
    """The provider reference of a sandbox payment: one per link, so replays pay once."""
    return f"{SANDBOX}:{link_id}"


async def load(services: Services, link_id: str, *, now: datetime) -> PayView:
    """The link and its invoice (a top-up link has none); NotFoundError (→ 404) when the link
    is unknown."""
    link = await services.billing.get_payment_link(link_id, now=now)
    if link.invoice_id is None:
        account = await services.billing.get_account(link.account_id)
        return PayView(link, None, state_of(link, None, now=now), account)
    invoice = await services.billing.get_invoice(link.invoice_id, now=now)
    return PayView(link, invoice, state_of(link, invoice, now=now), invoice.account)


def state_of(link: PaymentLink, invoice: InvoiceDetail | None, *, now: datetime) -> PayState:
    """Paid beats expired: a customer who paid must see the receipt, not 'expired'."""
    if link.status == "paid":
        return "paid"
    if link.status == "expired" or _as_utc(link.expires_at) <= now:
        return "expired"
    if invoice is not None and invoice.summary.amount_due.minor <= 0:
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
    top_up = None
    if view.invoice is None:  # a top-up: the receipt says the balance it left
        balance = await services.billing.get_balance(view.account.id, now=payment.received_at)
        top_up = balance.prepaid_balance
    await confirm_payment(
        services,
        link_id=view.link.id,
        payment=payment,
        invoice_number=view.number,
        locale=view.locale,
        top_up_balance=top_up,
    )
