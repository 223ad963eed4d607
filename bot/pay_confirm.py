"""'Payment received', told in the conversation that asked for the pay link.

A customer who typed "pay my bill" on WhatsApp expects the thank-you on WhatsApp, not by SMS
to a number they may not be holding. The pay link's origin (`bot.store.pay_origins`) says
where it was handed out; without one (a link from the web view, an older link, a console
session that is gone) the confirmation goes where the account's alerts go (`AlertReach`).

Whoever fulfils a payment (the sandbox pay page, a provider's webhook) calls
`confirm_payment` once the payment is recorded; calling it again for the same payment queues
nothing more, because the outbox stores each dedupe key once.
"""

from __future__ import annotations

import logging

from billing_client import Money, Payment
from bot.alerts.preferences import AlertSettingsStore
from bot.alerts.reach import AlertReach
from bot.i18n import say
from bot.services import Services
from bot.store.links import SqlAddressBook
from bot.store.pay_origins import Origin, origin_of
from bot.types import OutboundMessage, Reply

log = logging.getLogger(__name__)

KIND = "payment_received"
RECEIPT = {
    "en": "{operator}: thank you! We received {amount} for invoice {number}. Reference: "
    "{reference}.",
    "es": "{operator}: ¡gracias! Hemos recibido {amount} para la factura {number}. "
    "Referencia: {reference}.",
}
RECEIPT_NO_INVOICE = {
    "en": "{operator}: thank you! We received {amount}. Reference: {reference}.",
    "es": "{operator}: ¡gracias! Hemos recibido {amount}. Referencia: {reference}.",
}
RECEIPT_TOP_UP = {
    "en": "{operator}: thank you! Your top-up of {amount} is on your balance, which is now "
    "{balance}. Reference: {reference}.",
    "es": "{operator}: ¡gracias! Tu recarga de {amount} ya está en tu saldo, que ahora es de "
    "{balance}. Referencia: {reference}.",
}
# Channels where a message can still reach the conversation later; a console session ends.
LATER_REACHABLE = frozenset({"sms", "whatsapp", "telegram", "web"})


async def confirm_payment(
    services: Services,
    *,
    link_id: str | None,
    payment: Payment,
    invoice_number: str,
    locale: str,
    top_up_balance: Money | None = None,
) -> None:
    """Queue the 'payment received' message once per payment: to the chat the pay link
    `link_id` was sent to when known, else to the account's usual alert channel. A top-up
    link's payment says the balance it left (`top_up_balance`)."""
    where = await _origin(services, link_id) or await _alert_channel(services, payment)
    if where is None:
        log.info("payment %s: no channel reaches account %s", payment.id, payment.account_id)
        return
    message = receipt(
        payment,
        invoice_number=invoice_number,
        locale=locale,
        to=where,
        operator=services.operator.name,
        top_up_balance=top_up_balance,
    )
    await services.outbox.enqueue(message)


def receipt(
    payment: Payment,
    *,
    invoice_number: str,
    locale: str,
    to: Origin,
    operator: str = "billbot",
    top_up_balance: Money | None = None,
) -> OutboundMessage:
    """The confirmation as a channel-neutral message; one per payment (its dedupe key),
    whatever retries the page or the webhook."""
    template = RECEIPT if invoice_number else RECEIPT_NO_INVOICE
    text = say(
        RECEIPT_TOP_UP if top_up_balance is not None else template,
        locale,
        operator=operator,
        amount=payment.amount.format(locale),
        number=invoice_number,
        reference=payment.provider_reference,
        balance=top_up_balance.format(locale) if top_up_balance is not None else "",
    )
    return OutboundMessage(
        channel=to.channel,
        address=to.address,
        replies=(Reply(text=text),),
        kind=KIND,
        dedupe_key=f"{KIND}:{payment.id}",
        account_id=payment.account_id,
    )


async def _origin(services: Services, link_id: str | None) -> Origin | None:
    if link_id is None:
        return None
    origin = await origin_of(services.sessions, link_id)
    return origin if origin is not None and origin.channel in LATER_REACHABLE else None


async def _alert_channel(services: Services, payment: Payment) -> Origin | None:
    """Where the account's alerts go, unless the customer turned receipts off."""
    reach = AlertReach(
        billing=services.billing,
        settings=AlertSettingsStore(services.sessions),
        addresses=SqlAddressBook(services.sessions, services.transactions),
    )
    if not await reach.wants(payment.account_id, KIND):
        return None
    found = await reach.reach_of(payment.account_id)
    return None if found is None else Origin(*found)
