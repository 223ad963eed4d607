"""`pay_bill`: a signed, expiring link to pay an open invoice. Card details never enter chat.

Each pay link's conversation is recorded (`bot.store.pay_origins`), so the payment is
confirmed in the chat that asked for it (`bot.pay_confirm`). An operator who does not allow
paying without signing in (`features.pay_without_sign_in` off) gets a sign-in link to the
web view's pay page instead.
"""

from __future__ import annotations

from billing_client import InvoiceSummary
from bot.flow import Intent, TurnContext
from bot.store.pay_origins import Origin
from bot.types import Option, Reply
from intents.common import TRAINING
from intents.web_login import once_note, sign_in_url

PREPAID = {
    "en": "You're on prepaid, so there's no bill to pay. Your balance is {balance}.",
    "es": "Tienes prepago, así que no hay factura que pagar. Tu saldo es de {balance}.",
}
NOTHING_DUE = {
    "en": "You have nothing to pay right now.",
    "es": "No tienes nada pendiente de pago.",
}
WHICH = {
    "en": "You have {bills}. Which one do you want to pay?",
    "es": "Tienes {bills}. ¿Cuál quieres pagar?",
}
OPEN_BILLS = {
    "en": {"one": "{count} open bill", "other": "{count} open bills"},
    "es": {"one": "{count} factura pendiente", "other": "{count} facturas pendientes"},
}
LINK = {
    "en": (
        "Invoice {number}: {amount} due {due}. Pay securely here: {url}\n"
        "The link works until {expires}. We will never ask for card details in chat."
    ),
    "es": (
        "Factura {number}: {amount}, vence el {due}. Paga de forma segura aquí: {url}\n"
        "El enlace es válido hasta el {expires}. Nunca te pediremos datos de tarjeta por chat."
    ),
}
LINK_LABEL = {"en": "Pay {amount}", "es": "Pagar {amount}"}
SIGN_IN_TO_PAY = {
    "en": "Invoice {number}: {amount} due {due}. Sign in to pay it securely: {url}",
    "es": "Factura {number}: {amount}, vence el {due}. Entra para pagarla de forma segura: {url}",
}
NO_CARDS = {
    "en": "We will never ask for card details in chat.",
    "es": "Nunca te pediremos datos de tarjeta por chat.",
}
PAY_PATH = "/account/pay"
NOT_UNDERSTOOD = {
    "en": "Please pick one of the bills by its number.",
    "es": "Elige una de las facturas por su número.",
}

MENU_LABEL = {"en": "Pay my bill", "es": "Pagar mi factura"}


class PayBillIntent(Intent):
    name = "pay_bill"
    menu_label = MENU_LABEL
    training_file = TRAINING / "pay_bill.yml"

    async def start(self, ctx: TurnContext) -> list[Reply]:
        assert ctx.account is not None
        balance = await ctx.billing.get_balance(ctx.account.id, now=ctx.now)
        if balance.prepaid_balance is not None:
            return [ctx.reply(ctx.say(PREPAID, balance=ctx.money(balance.prepaid_balance)))]
        invoices = [inv for inv in balance.open_invoices if inv.amount_due.minor > 0]
        if not invoices:
            return [ctx.reply(ctx.say(NOTHING_DUE))]
        if len(invoices) == 1:
            return [await _link_reply(ctx, invoices[0])]
        ctx.state.begin(self.name, "choose_invoice")
        return [_choose(ctx, invoices)]

    async def resume(self, ctx: TurnContext) -> list[Reply]:
        assert ctx.account is not None
        balance = await ctx.billing.get_balance(ctx.account.id, now=ctx.now)
        chosen = [inv for inv in balance.open_invoices if f"invoice:{inv.id}" == ctx.text]
        if not chosen:
            return [_choose(ctx, list(balance.open_invoices), ctx.say(NOT_UNDERSTOOD))]
        ctx.state.finish()
        return [await _link_reply(ctx, chosen[0])]

    async def prompt(self, ctx: TurnContext) -> list[Reply]:
        ctx.state.finish()
        return await self.start(ctx)


def _choose(ctx: TurnContext, invoices: list[InvoiceSummary], text: str | None = None) -> Reply:
    options = [
        Option(f"{inv.number} — {ctx.money(inv.amount_due)}", f"invoice:{inv.id}")
        for inv in invoices
    ]
    bills = ctx.plural(OPEN_BILLS, len(invoices))
    return ctx.reply(text or ctx.say(WHICH, bills=bills), *options)


async def _link_reply(ctx: TurnContext, invoice: InvoiceSummary) -> Reply:
    if not ctx.operator.features.pay_without_sign_in:
        return _sign_in_reply(ctx, invoice)
    assert ctx.account is not None
    link = await ctx.billing.create_payment_link(
        ctx.account.id, invoice.id, now=ctx.now, ttl_seconds=ctx.settings.pay_link_ttl_seconds
    )
    await _remember_origin(ctx, link.id)
    url = ctx.links.pay_url(link.id)
    amount = ctx.money(link.amount)
    text = ctx.say(
        LINK,
        number=invoice.number,
        amount=amount,
        due=ctx.date(invoice.due_on),
        url=url,
        expires=ctx.datetime(link.expires_at),
    )
    return Reply(
        text=text,
        link=url,
        link_label=ctx.say(LINK_LABEL, amount=amount),
        image_url=f"{url}/qr.png",
    )


async def _remember_origin(ctx: TurnContext, link_id: str) -> None:
    """Where this link went, so its payment is confirmed here. A crash just before this only
    sends the confirmation where the account's alerts go instead."""
    if ctx.pay_origins is not None:
        origin = Origin(ctx.message.channel, ctx.message.sender)
        await ctx.pay_origins.record(link_id, origin, now=ctx.now)


def _sign_in_reply(ctx: TurnContext, invoice: InvoiceSummary) -> Reply:
    """The web view's pay page behind a sign-in link, for operators who want customers signed
    in before they pay."""
    url = sign_in_url(ctx, PAY_PATH)
    amount = ctx.money(invoice.amount_due)
    head = ctx.say(
        SIGN_IN_TO_PAY, number=invoice.number, amount=amount, due=ctx.date(invoice.due_on), url=url
    )
    text = "\n".join([head, f"{once_note(ctx)} {ctx.say(NO_CARDS)}"])
    return Reply(text=text, link=url, link_label=ctx.say(LINK_LABEL, amount=amount))
