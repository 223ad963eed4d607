"""`top_up`: add credit to a prepaid balance — choose an amount (10/20/30 or any amount within
the limits) and get a signed, expiring pay link; paying it raises the balance once. In the same
conversation the customer can set the low-balance warning ("warn me when I'm under 5"),
confirmed first. Postpaid customers are pointed to paying their bill. See docs/flows/top_up.md.

The link is not a side effect that needs a yes: nothing is charged until the customer pays on
the pay page, which shows the amount again.
"""

from __future__ import annotations

import re
from decimal import Decimal

from billing_client import InvalidRequestError, Money
from bot.flow import Intent, TurnContext
from bot.menu import menu
from bot.nlu.amounts import to_decimal
from bot.store.pay_origins import Origin
from bot.types import Option, Reply
from intents.common import TRAINING, answer_is_yes, yes_no
from intents.plan_common import fold

POSTPAID = {
    "en": "You're on a monthly bill, so there's no balance to top up. To pay your bill, "
    'say "pay my bill".',
    "es": "Tienes factura mensual, así que no hay saldo que recargar. Para pagar tu factura, "
    'escribe "pagar mi factura".',
}
PAY_BILL = {"en": "Pay my bill", "es": "Pagar mi factura"}
ASK = {
    "en": "Your balance is {balance}. How much would you like to top up? Pick an amount or "
    "send one from {low} to {high}.",
    "es": "Tu saldo es de {balance}. ¿Cuánto quieres recargar? Elige un importe o envía uno "
    "de {low} a {high}.",
}
BAD_AMOUNT = {
    "en": "Please send an amount from {low} to {high}, e.g. 15.",
    "es": "Envía un importe de {low} a {high}, por ejemplo 15.",
}
GIVE_UP = {
    "en": "I still didn't get an amount, so I've stopped there. Nothing was charged.",
    "es": "Sigo sin entender el importe, así que lo dejo aquí. No se ha cobrado nada.",
}
LINK = {
    "en": "Top-up of {amount}: pay securely here: {url}\nThe link works until {expires}. Your "
    "balance goes up as soon as you've paid. We will never ask for card details in chat.",
    "es": "Recarga de {amount}: paga de forma segura aquí: {url}\nEl enlace es válido hasta el "
    "{expires}. Tu saldo sube en cuanto pagues. Nunca te pediremos datos de tarjeta por chat.",
}
LINK_LABEL = {"en": "Pay {amount}", "es": "Pagar {amount}"}
TIP = {
    "en": 'Tip: say "warn me under 5" and I\'ll tell you when your balance runs low.',
    "es": 'Consejo: escribe "avísame por debajo de 5" y te aviso cuando te quede poco saldo.',
}
WARNED_AT = {
    "en": "I'll warn you when your balance drops under {level}.",
    "es": "Te avisaré cuando tu saldo baje de {level}.",
}
ASK_LEVEL = {
    "en": "Under what balance should I warn you? Send an amount, e.g. 5.",
    "es": "¿Por debajo de qué saldo te aviso? Envía un importe, por ejemplo 5.",
}
CONFIRM_LEVEL = {
    "en": "Warn you when your balance drops under {level}? (Your balance is {balance}; {now}.)",
    "es": "¿Te aviso cuando tu saldo baje de {level}? (Tu saldo es de {balance}; {now}.)",
}
CONFIRM_OFF = {
    "en": "Stop the low-balance warning (now at {level})? You won't be told when it runs low.",
    "es": "¿Quito el aviso de saldo bajo (ahora en {level})? Ya no te avisaré cuando te quede "
    "poco.",
}
NOW_LEVEL = {"en": "now I warn you under {level}", "es": "ahora te aviso por debajo de {level}"}
NOW_OFF = {"en": "the warning is off now", "es": "ahora el aviso está desactivado"}
LEVEL_SET = {
    "en": "Done: I'll warn you when your balance drops under {level}.",
    "es": "Hecho: te avisaré cuando tu saldo baje de {level}.",
}
LEVEL_OFF = {
    "en": "Done: no more low-balance warnings.",
    "es": "Hecho: ya no recibirás avisos de saldo bajo.",
}
ALREADY_OFF = {
    "en": "The low-balance warning is already off.",
    "es": "El aviso de saldo bajo ya está desactivado.",
}
UNCHANGED = {"en": "OK, nothing changed.", "es": "De acuerdo, no he cambiado nada."}
YES_OR_NO = {"en": "Please answer yes or no.", "es": "Responde sí o no."}
REFUSED = {"en": "I couldn't do that: {why}.", "es": "No he podido hacerlo: {why}."}
OTHER = {"en": "Other amount", "es": "Otro importe"}
MENU_LABEL = {"en": "Top up my balance", "es": "Recargar saldo"}

CHOICES = (Decimal(10), Decimal(20), Decimal(30))
LOW, HIGH = Decimal(5), Decimal(100)  # the billing core's limits (billing_client/sql/topups.py)
_WARN = re.compile(
    r"\b(warn|notify|tell me|let me know|text me|remind|heads up|low balance|"
    r"avis\w*|alert\w*|notific\w*|saldo bajo)\b"
)
_OFF = re.compile(
    r"\b(stop|don'?t|do not|no more|turn off|switch off|cancel|remove|no me avises|quita\w*|"
    r"desactiv\w*|ya no)\b"
)
_NUMBER = re.compile(r"(?<![\d.,])(\d{1,4}(?:[.,]\d{1,2})?)(?![\d%])")


class TopUpIntent(Intent):
    name = "top_up"
    billing_types = frozenset({"prepaid"})
    menu_label = MENU_LABEL
    training_file = TRAINING / "top_up.yml"

    async def start(self, ctx: TurnContext) -> list[Reply]:
        assert ctx.account is not None
        if ctx.account.billing_type != "prepaid":
            return [ctx.reply(ctx.say(POSTPAID), Option(ctx.say(PAY_BILL), "intent:pay_bill"))]
        ctx.state.begin(self.name, "amount", tries=0)
        if _WARN.search(fold(ctx.text)):
            return await _level_asked(ctx)
        amount = _amount(ctx)
        if amount is not None and _within(amount):
            return [await _link(ctx, amount)]
        return [await _ask_amount(ctx)]

    async def resume(self, ctx: TurnContext) -> list[Reply]:
        step = ctx.state.step
        if step == "confirm_level":
            return await _on_confirm_level(ctx)
        if step == "level":
            return await _on_level(ctx)
        return await _on_amount(ctx)

    async def prompt(self, ctx: TurnContext) -> list[Reply]:
        if ctx.state.step == "level":
            return [ctx.reply(ctx.say(ASK_LEVEL))]
        ctx.state.goto("amount")
        return [await _ask_amount(ctx)]


# --- the amount and the link ------------------------------------------------------------------
async def _ask_amount(ctx: TurnContext, text: str | None = None) -> Reply:
    assert ctx.account is not None
    balance = await ctx.billing.get_balance(ctx.account.id, now=ctx.now)
    currency = ctx.account.currency
    low, high = _money(LOW, currency), _money(HIGH, currency)
    ask = text or ctx.say(
        ASK,
        balance=ctx.money(balance.prepaid_balance or Money(0, currency)),
        low=ctx.money(low),
        high=ctx.money(high),
    )
    options = [Option(ctx.money(_money(v, currency)), f"amount:{v}") for v in CHOICES]
    return ctx.reply(ask, *options)


async def _on_amount(ctx: TurnContext) -> list[Reply]:
    if _WARN.search(fold(ctx.text)) and not ctx.picked_option:
        return await _level_asked(ctx)
    amount = _amount(ctx)
    if amount is not None and _within(amount):
        return [await _link(ctx, amount)]
    return await _again(ctx, BAD_AMOUNT)


async def _again(ctx: TurnContext, messages: dict[str, str]) -> list[Reply]:
    """One re-prompt with the limits; the second miss stops and shows the menu."""
    assert ctx.account is not None
    tries = int(ctx.state.slots.get("tries", 0)) + 1
    if tries > 1:
        ctx.state.finish()
        return [ctx.reply(ctx.say(GIVE_UP)), menu(ctx)]
    ctx.state.slots["tries"] = tries
    currency = ctx.account.currency
    low, high = ctx.money(_money(LOW, currency)), ctx.money(_money(HIGH, currency))
    return [await _ask_amount(ctx, ctx.say(messages, low=low, high=high))]


async def _link(ctx: TurnContext, amount: Decimal) -> Reply:
    assert ctx.account is not None
    money = _money(amount, ctx.account.currency)
    link = await ctx.billing.create_top_up_link(
        ctx.account.id, money, now=ctx.now, ttl_seconds=ctx.settings.pay_link_ttl_seconds
    )
    if ctx.pay_origins is not None:  # the payment is confirmed in this chat
        origin = Origin(ctx.message.channel, ctx.message.sender)
        await ctx.pay_origins.record(link.id, origin, now=ctx.now)
    ctx.state.finish()
    url = ctx.links.pay_url(link.id)
    shown = ctx.money(link.amount)
    text = ctx.say(LINK, amount=shown, url=url, expires=ctx.datetime(link.expires_at))
    try:
        level = await ctx.billing.get_low_balance_alert(ctx.account.id)
        tip = ctx.say(TIP) if level is None else ctx.say(WARNED_AT, level=ctx.money(level))
    except InvalidRequestError:  # a billing system without low-balance warnings
        tip = ""
    return Reply(
        text=f"{text}\n{tip}".strip(),
        link=url,
        link_label=ctx.say(LINK_LABEL, amount=shown),
        image_url=f"{url}/qr.png",
    )


# --- the low-balance warning ------------------------------------------------------------------
async def _level_asked(ctx: TurnContext) -> list[Reply]:
    """ "warn me when I'm under 5" → confirm; "stop warning me" → confirm off; else ask."""
    if _OFF.search(fold(ctx.text)):
        return await _confirm_level(ctx, None)
    amount = _amount(ctx)
    if amount is None:
        ctx.state.goto("level")
        return [ctx.reply(ctx.say(ASK_LEVEL))]
    return await _confirm_level(ctx, amount)


async def _on_level(ctx: TurnContext) -> list[Reply]:
    amount = _amount(ctx)
    if amount is None or not 0 < amount <= HIGH:
        ctx.state.goto("level")
        tries = int(ctx.state.slots.get("tries", 0)) + 1
        if tries > 1:
            ctx.state.finish()
            return [ctx.reply(ctx.say(GIVE_UP)), menu(ctx)]
        ctx.state.slots["tries"] = tries
        return [ctx.reply(ctx.say(ASK_LEVEL))]
    return await _confirm_level(ctx, amount)


async def _confirm_level(
    ctx: TurnContext, amount: Decimal | None, prefix: str = ""
) -> list[Reply]:
    assert ctx.account is not None
    current = await ctx.billing.get_low_balance_alert(ctx.account.id)
    if amount is None and current is None:
        ctx.state.finish()
        return [ctx.reply(ctx.say(ALREADY_OFF))]
    ctx.state.slots["level"] = None if amount is None else str(amount)
    ctx.state.goto("confirm_level")
    if amount is None:
        assert current is not None
        question = ctx.say(CONFIRM_OFF, level=ctx.money(current))
    else:
        balance = await ctx.billing.get_balance(ctx.account.id, now=ctx.now)
        now = ctx.say(NOW_OFF) if current is None else ctx.say(NOW_LEVEL, level=ctx.money(current))
        question = ctx.say(
            CONFIRM_LEVEL,
            level=ctx.money(_money(amount, ctx.account.currency)),
            balance=ctx.money(balance.prepaid_balance or Money(0, ctx.account.currency)),
            now=now,
        )
    return [ctx.reply(" ".join(p for p in (prefix, question) if p), *yes_no(ctx))]


async def _on_confirm_level(ctx: TurnContext) -> list[Reply]:
    assert ctx.account is not None
    stored = ctx.state.slots.get("level")
    amount = None if stored is None else Decimal(str(stored))
    answer = answer_is_yes(ctx)
    if answer is None:
        return await _confirm_level(ctx, amount, ctx.say(YES_OR_NO))
    ctx.state.finish()
    if not answer:
        return [ctx.reply(ctx.say(UNCHANGED))]
    level = None if amount is None else _money(amount, ctx.account.currency)
    actor = f"customer:{ctx.message.channel}"
    try:
        now_set = await ctx.billing.set_low_balance_alert(
            ctx.account.id, level, actor=actor, now=ctx.now
        )
    except InvalidRequestError as refused:
        return [ctx.reply(ctx.say(REFUSED, why=str(refused)))]
    if now_set is None:
        return [ctx.reply(ctx.say(LEVEL_OFF))]
    return [ctx.reply(ctx.say(LEVEL_SET, level=ctx.money(now_set)))]


# --- amounts ----------------------------------------------------------------------------------
def _amount(ctx: TurnContext) -> Decimal | None:
    """The amount picked ("amount:20") or typed ("20", "$20", "12,50 €"), else None."""
    if ctx.text.startswith("amount:"):
        return to_decimal(ctx.text.removeprefix("amount:"))
    entity = ctx.parse.entity("amount")
    if entity is not None:
        return Decimal(str(entity.value))
    match = _NUMBER.search(ctx.text)
    return to_decimal(match.group(1)) if match else None


def _within(amount: Decimal) -> bool:
    return LOW <= amount <= HIGH


def _money(amount: Decimal, currency: str) -> Money:
    return Money.from_decimal(amount.quantize(Decimal("0.01")), currency)
