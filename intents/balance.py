"""`balance`: what the customer owes and when, or their prepaid credit."""

from __future__ import annotations

from billing_client import Balance
from bot.flow import Intent, TurnContext
from bot.types import Option, Reply
from intents.common import TRAINING

PREPAID = {
    "en": "Your prepaid balance is {balance}.",
    "es": "Tu saldo de prepago es de {balance}.",
}
NOTHING_DUE = {
    "en": "You have nothing to pay right now. Thanks!",
    "es": "No tienes nada pendiente de pago. ¡Gracias!",
}
DUE = {
    "en": "You owe {amount}, due {due}.",
    "es": "Debes {amount}, con vencimiento el {due}.",
}
OVERDUE = {
    "en": "You owe {amount}. It was due {due} and is {days} overdue.",
    "es": "Debes {amount}. Vencía el {due} y lleva {days} de retraso.",
}
DAYS = {
    "en": {"one": "{count} day", "other": "{count} days"},
    "es": {"one": "{count} día", "other": "{count} días"},
}
UNBILLED = {
    "en": "Charges so far this cycle, not yet billed: {amount}.",
    "es": "Cargos de este ciclo aún no facturados: {amount}.",
}
PAY_NOW = {"en": "Pay now", "es": "Pagar ahora"}

MENU_LABEL = {"en": "Balance and due date", "es": "Saldo y vencimiento"}


class BalanceIntent(Intent):
    name = "balance"
    menu_label = MENU_LABEL
    training_file = TRAINING / "balance.yml"

    async def start(self, ctx: TurnContext) -> list[Reply]:
        assert ctx.account is not None
        balance = await ctx.billing.get_balance(ctx.account.id, now=ctx.now)
        if balance.prepaid_balance is not None:
            text = ctx.say(PREPAID, balance=ctx.money(balance.prepaid_balance))
            return [ctx.reply(text)]
        return [_postpaid_reply(ctx, balance)]


def _postpaid_reply(ctx: TurnContext, balance: Balance) -> Reply:
    parts = [_amount_due_text(ctx, balance)]
    if balance.unbilled.minor > 0:
        parts.append(ctx.say(UNBILLED, amount=ctx.money(balance.unbilled)))
    if balance.amount_due.minor <= 0:
        return ctx.reply(" ".join(parts))
    return ctx.reply(" ".join(parts), Option(ctx.say(PAY_NOW), "intent:pay_bill"))


def _amount_due_text(ctx: TurnContext, balance: Balance) -> str:
    if balance.amount_due.minor <= 0 or balance.next_due_on is None:
        return ctx.say(NOTHING_DUE)
    amount, due = ctx.money(balance.amount_due), ctx.date(balance.next_due_on)
    if not balance.overdue:
        return ctx.say(DUE, amount=amount, due=due)
    days = ctx.plural(DAYS, (ctx.today - balance.next_due_on).days)
    return ctx.say(OVERDUE, amount=amount, due=due, days=days)
