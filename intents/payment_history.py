"""`payment_history`: the latest payments (date where the customer lives, amount, how it was
paid, the invoice it paid) and sign-in links to their receipts on the web view.

The links are the web view's own pages behind a single-use sign-in (`intents.web_login`): the
latest payment's receipt, and the whole list when there is more than one payment.
"""

from __future__ import annotations

from contextlib import suppress
from zoneinfo import ZoneInfo

from billing_client import InvoiceSummary, NotFoundError, Payment
from bot.flow import Intent, TurnContext
from bot.types import Option, Reply
from intents.common import TRAINING
from intents.web_login import once_note, sign_in_url

HEADER = {"en": "Your latest payments:", "es": "Tus últimos pagos:"}
ROW = {
    "en": "• {date}: {amount} by {method} — {paid_for}",
    "es": "• {date}: {amount} con {method} — {paid_for}",
}
FOR_INVOICE = {"en": "invoice {number}", "es": "factura {number}"}
AN_INVOICE = {"en": "an invoice", "es": "una factura"}
TOP_UP = {"en": "top-up", "es": "recarga"}
ON_ACCOUNT = {"en": "credit on your account", "es": "saldo a cuenta"}
NONE = {
    "en": "I don't see any payments on your account yet.",
    "es": "Todavía no veo ningún pago en tu cuenta.",
}
RECEIPT = {
    "en": "Receipt for the latest one: {url}",
    "es": "Recibo del último: {url}",
}
ALL = {
    "en": "All your payments and receipts: {url}",
    "es": "Todos tus pagos y recibos: {url}",
}
LINK_LABEL = {"en": "Latest receipt", "es": "Último recibo"}
PAY_LABEL = {"en": "Pay my bill", "es": "Pagar mi factura"}
# How a payment was made, by the provider that recorded it (the web view says the same).
METHOD = {
    "stripe": {"en": "card", "es": "tarjeta"},
    "card": {"en": "card", "es": "tarjeta"},
    "sandbox": {"en": "test payment (sandbox)", "es": "pago de prueba (sandbox)"},
    "demo": {"en": "demo payment", "es": "pago de demostración"},
    "cash": {"en": "cash", "es": "efectivo"},
    "bank": {"en": "bank transfer", "es": "transferencia"},
    "events": {"en": "payment recorded by billing", "es": "pago registrado por facturación"},
}
OTHER_METHOD = {"en": "other payment method", "es": "otro medio de pago"}
SHOWN = 5
RECENT = 24  # invoices read at once to name what the payments paid
LIST_PATH = "/account/payments"

MENU_LABEL = {"en": "Payment history and receipts", "es": "Pagos y recibos"}


class PaymentHistoryIntent(Intent):
    name = "payment_history"
    menu_label = MENU_LABEL
    training_file = TRAINING / "payment_history.yml"

    async def start(self, ctx: TurnContext) -> list[Reply]:
        assert ctx.account is not None  # the router gives strangers the fallback instead
        payments = await ctx.billing.list_payments(ctx.account.id, limit=SHOWN)
        if not payments:
            return [_none(ctx)]
        invoices = await _invoices_paid(ctx, payments)
        rows = [ctx.say(HEADER), *(_row(ctx, p, invoices) for p in payments)]
        latest = sign_in_url(ctx, f"{LIST_PATH}/{payments[0].id}")
        links = [ctx.say(RECEIPT, url=latest)]
        if len(payments) > 1:
            links.append(ctx.say(ALL, url=sign_in_url(ctx, LIST_PATH)))
        text = "\n".join([*rows, *links, once_note(ctx)])
        return [Reply(text=text, link=latest, link_label=ctx.say(LINK_LABEL))]


def _none(ctx: TurnContext) -> Reply:
    assert ctx.account is not None
    if ctx.account.billing_type == "prepaid":
        return ctx.reply(ctx.say(NONE))
    return ctx.reply(ctx.say(NONE), Option(ctx.say(PAY_LABEL), "intent:pay_bill"))


async def _invoices_paid(ctx: TurnContext, payments: list[Payment]) -> dict[int, InvoiceSummary]:
    """The invoices the payments paid, by id: the account's recent ones in one read, any
    older one on its own."""
    assert ctx.account is not None
    wanted = {payment.invoice_id for payment in payments if payment.invoice_id is not None}
    if not wanted:
        return {}
    recent = await ctx.billing.list_invoices(ctx.account.id, now=ctx.now, limit=RECENT)
    found = {invoice.id: invoice for invoice in recent if invoice.id in wanted}
    for invoice_id in wanted - found.keys():
        with suppress(NotFoundError):
            found[invoice_id] = (await ctx.billing.get_invoice(invoice_id, now=ctx.now)).summary
    return found


def _row(ctx: TurnContext, payment: Payment, invoices: dict[int, InvoiceSummary]) -> str:
    assert ctx.account is not None
    local = payment.received_at.astimezone(ZoneInfo(ctx.account.timezone))
    return ctx.say(
        ROW,
        date=ctx.date(local.date()),
        amount=ctx.money(payment.amount),
        method=ctx.say(METHOD.get(payment.provider, OTHER_METHOD)),
        paid_for=_paid_for(ctx, payment, invoices),
    )


def _paid_for(ctx: TurnContext, payment: Payment, invoices: dict[int, InvoiceSummary]) -> str:
    assert ctx.account is not None
    if payment.invoice_id is not None:
        invoice = invoices.get(payment.invoice_id)
        return ctx.say(FOR_INVOICE, number=invoice.number) if invoice else ctx.say(AN_INVOICE)
    if ctx.account.billing_type == "prepaid":
        return ctx.say(TOP_UP)
    return ctx.say(ON_ACCOUNT)
