"""`add_on`: buy extra data or a roaming pass for a line — pick the line, pick the add-on, confirm
with the price and who pays it (the next bill, or the prepaid balance) in the question, buy.

Every add-on sold here is one-off: data lasts until the end of the cycle and shows in usage at
once (the allowance grows), roaming lasts its days from today. Postpaid: a one-off charge on the
next bill. Prepaid: taken from the balance; a balance that is too low is told the shortfall and
offered a top-up instead. Bought once per flow (its idempotency key), audited by the billing
core. "No, the other line" switches lines. See docs/flows/add_on.md.
"""

from __future__ import annotations

import re
import uuid
from datetime import date, timedelta

from billing_client import (
    AddOnOffer,
    AddOnOptions,
    AddOnPurchase,
    InsufficientBalanceError,
    Line,
    PriceChangedError,
)
from bot.flow import Intent, TurnContext
from bot.types import Option, Reply
from intents.common import TRAINING, answer_is_yes, yes_no
from intents.plan_common import (
    OTHER_LINE,
    OTHER_LINE_VALUE,
    choose_line,
    data_amount,
    fold,
    line_named,
    line_text,
    second_miss,
    short_of_money,
    switch_line,
    usable_lines,
    wants_other_line,
)

DATA_NAME = {"en": "{amount} of extra data", "es": "bono de {amount} de datos"}
ROAMING_NAME = {
    "en": {"one": "roaming pass for {count} day", "other": "roaming pass for {count} days"},
    "es": {"one": "bono de roaming de {count} día", "other": "bono de roaming de {count} días"},
}
LIST = {
    "en": "Add-ons for {line}, one-off (no renewal):",
    "es": "Bonos para {line}, de pago único (no se renuevan):",
}
DATA_ITEM = {
    "en": "• {name}: {price}, until {end} (end of this cycle)",
    "es": "• {name}: {price}, hasta el {end} (fin de este ciclo)",
}
ROAMING_ITEM = {"en": "• {name}: {price}, from today", "es": "• {name}: {price}, desde hoy"}
PAID_BY = {
    "postpaid": {
        "en": "Charged to your next bill.",
        "es": "Se cobra en tu próxima factura.",
    },
    "prepaid": {
        "en": "Paid from your balance ({balance}).",
        "es": "Se paga con tu saldo ({balance}).",
    },
}
WHICH = {"en": "Which one would you like?", "es": "¿Cuál quieres?"}
NOT_UNDERSTOOD = {"en": "Please pick one of the add-ons.", "es": "Elige uno de los bonos."}
NOTHING = {
    "en": "There are no add-ons {line} can buy here right now.",
    "es": "Ahora mismo no hay bonos que {line} pueda comprar aquí.",
}
NOT_ACTIVE = {
    "en": "{line} is {status}, so add-ons can't be added to it.",
    "es": "{line} no está activa, así que no se le pueden añadir bonos.",
}
CONFIRM = {
    "data": {
        "en": "Add {name} to {line} for {price}? {paid} The extra {amount} is yours until {end}.",
        "es": "¿Añado el {name} a {line} por {price}? {paid} Los {amount} extra son tuyos hasta "
        "el {end}.",
    },
    "roaming": {
        "en": "Add a {name} to {line} for {price}? {paid} It covers {start} to {end}.",
        "es": "¿Añado un {name} a {line} por {price}? {paid} Cubre del {start} al {end}.",
    },
}
CONFIRM_PAID = {
    "postpaid": {
        "en": "It's a one-off charge on your next bill (before tax).",
        "es": "Es un cargo único en tu próxima factura (sin impuestos).",
    },
    "prepaid": {
        "en": "It comes off your balance: {balance} → {after}.",
        "es": "Se descuenta de tu saldo: {balance} → {after}.",
    },
}
DONE = {
    "en": "Done: {name} added to {line}. Reference: {reference}.",
    "es": "Hecho: {name} añadido a {line}. Referencia: {reference}.",
}
DONE_DATA = {
    "en": "Your data allowance this cycle is now {allowance}.",
    "es": "Tu bono de datos de este ciclo es ahora de {allowance}.",
}
DONE_BILL = {
    "en": "{price} goes on your next bill.",
    "es": "{price} irán en tu próxima factura.",
}
DONE_BALANCE = {
    "en": "Your balance is now {balance}.",
    "es": "Tu saldo es ahora de {balance}.",
}
KEPT = {"en": "OK, I haven't added anything.", "es": "De acuerdo, no he añadido nada."}
YES_OR_NO = {"en": "Please answer yes or no.", "es": "Responde sí o no."}
PRICE_CHANGED = {
    "en": "Sorry, that add-on's price has just changed. Nothing was charged.",
    "es": "Lo siento, el precio de ese bono acaba de cambiar. No se ha cobrado nada.",
}
NO_LINES = {
    "en": "I can't find a line on your account to add to.",
    "es": "No encuentro ninguna línea en tu cuenta a la que añadirlo.",
}
MENU_LABEL = {"en": "Data and roaming add-ons", "es": "Bonos de datos y roaming"}

_ROAMING = re.compile(r"roam|abroad|travel|overseas|trip|viaj|extranjer|fuera del pais|vacacion")
_DATA = re.compile(r"\bdata\b|\bgb\b|\bgigs?\b|\bdatos\b|\bmegas\b|\binternet\b")


class AddOnIntent(Intent):
    name = "add_on"
    menu_label = MENU_LABEL
    training_file = TRAINING / "add_on.yml"

    async def start(self, ctx: TurnContext) -> list[Reply]:
        assert ctx.account is not None
        ctx.state.begin(self.name, "choose_line", flow_id=uuid.uuid4().hex, kind=_kind(ctx.text))
        lines = await _lines(ctx)
        if not lines:
            ctx.state.finish()
            return [ctx.reply(ctx.say(NO_LINES))]
        named = line_named(ctx, lines)
        if named is None and len(lines) > 1:
            return [choose_line(ctx, lines)]
        return await _line_chosen(ctx, named or lines[0])

    async def resume(self, ctx: TurnContext) -> list[Reply]:
        step = ctx.state.step
        if step == "confirm":
            return await _on_confirm(ctx)
        if step == "choose_add_on":
            return await _on_add_on(ctx)
        return await _on_line(ctx)

    async def prompt(self, ctx: TurnContext) -> list[Reply]:
        """The question of the current step again (after "back")."""
        return await _ask_again(ctx)


# --- steps ------------------------------------------------------------------------------------
async def _ask_again(ctx: TurnContext) -> list[Reply]:
    """The question of the current step again (after "back")."""
    if ctx.state.step == "choose_line":
        return [choose_line(ctx, await _lines(ctx))]
    options = await _options(ctx, int(ctx.state.slots["line_id"]))
    offer = _offer(options, ctx.state.slots.get("code"))
    if ctx.state.step == "confirm" and offer is not None:
        return [_confirm(ctx, options, offer)]
    ctx.state.goto("choose_add_on")
    return [_list(ctx, options)]


async def _on_line(ctx: TurnContext) -> list[Reply]:
    lines = await _lines(ctx)
    line = line_named(ctx, lines)
    if line is None:
        return second_miss(ctx) or [choose_line(ctx, lines)]
    return await _line_chosen(ctx, line)


async def _line_chosen(ctx: TurnContext, line: Line) -> list[Reply]:
    ctx.state.slots["line_id"] = line.id
    if line.status != "active":
        ctx.state.finish()
        return [ctx.reply(ctx.say(NOT_ACTIVE, line=line_text(line), status=line.status))]
    options = await _options(ctx, line.id)
    if not options.offers:
        ctx.state.finish()
        return [ctx.reply(ctx.say(NOTHING, line=line_text(line)))]
    chosen = _offer(options, ctx.state.slots.get("code"))  # kept across "the other line"
    if chosen is not None:
        return [_confirm(ctx, options, chosen)]
    ctx.state.goto("choose_add_on")
    return [_list(ctx, options)]


async def _on_add_on(ctx: TurnContext) -> list[Reply]:
    line_id = int(ctx.state.slots["line_id"])
    if wants_other_line(ctx):
        return await _switch_line(ctx, line_id)
    options = await _options(ctx, line_id)
    offer = _offer(options, ctx.text.removeprefix("add_on:")) or _named(ctx, options)
    if offer is None:
        return second_miss(ctx) or [_list(ctx, options, ctx.say(NOT_UNDERSTOOD))]
    return [_confirm(ctx, options, offer)]


async def _on_confirm(ctx: TurnContext) -> list[Reply]:
    line_id = int(ctx.state.slots["line_id"])
    if wants_other_line(ctx):
        return await _switch_line(ctx, line_id)
    options = await _options(ctx, line_id)
    offer = _offer(options, ctx.state.slots.get("code"))
    answer = answer_is_yes(ctx)
    if offer is None or answer is False:
        ctx.state.finish()
        return [ctx.reply(ctx.say(KEPT))]
    if answer is None:
        return [_confirm(ctx, options, offer, ctx.say(YES_OR_NO))]
    return await _buy(ctx, options, offer)


async def _switch_line(ctx: TurnContext, current: int) -> list[Reply]:
    return await switch_line(
        ctx, current, await _lines(ctx), ask_again=_ask_again, chosen=_line_chosen
    )


async def _buy(ctx: TurnContext, options: AddOnOptions, offer: AddOnOffer) -> list[Reply]:
    assert ctx.account is not None
    slots = ctx.state.slots
    try:
        purchase = await ctx.billing.buy_add_on(
            ctx.account.id,
            options.line.id,
            offer.code,
            expected_price=offer.price,
            idempotency_key=f"add_on:{slots['flow_id']}",
            actor=f"customer:{ctx.message.channel}",
            now=ctx.now,
        )
    except InsufficientBalanceError as short:
        ctx.state.finish()
        return [short_of_money(ctx, short)]
    except PriceChangedError:
        ctx.state.goto("choose_add_on")
        return [_list(ctx, await _options(ctx, options.line.id), ctx.say(PRICE_CHANGED))]
    ctx.state.finish()
    return [ctx.reply(_done(ctx, purchase))]


# --- replies ----------------------------------------------------------------------------------
def _list(ctx: TurnContext, options: AddOnOptions, prefix: str = "") -> Reply:
    offers = _wanted(ctx, options)
    kind = "prepaid" if options.prepaid_balance is not None else "postpaid"
    balance = ctx.money(options.prepaid_balance) if options.prepaid_balance else ""
    head = " ".join(p for p in (prefix, ctx.say(LIST, line=line_text(options.line))) if p)
    items = [_item(ctx, options, offer) for offer in offers]
    paid = ctx.say(PAID_BY[kind], balance=balance)
    text = "\n".join([head, *items, paid + " " + ctx.say(WHICH)])
    choices = [Option(_label(ctx, offer), f"add_on:{offer.code}") for offer in offers]
    if ctx.state.slots.get("lines", 1) > 1:
        choices.append(Option(ctx.say(OTHER_LINE), OTHER_LINE_VALUE))
    return ctx.reply(text, *choices)


def _item(ctx: TurnContext, options: AddOnOptions, offer: AddOnOffer) -> str:
    name, price = _name(ctx, offer), ctx.money(offer.price)
    if offer.kind == "data":
        return ctx.say(DATA_ITEM, name=_cap(name), price=price, end=ctx.date(options.cycle_end))
    return ctx.say(ROAMING_ITEM, name=_cap(name), price=price)


def _label(ctx: TurnContext, offer: AddOnOffer) -> str:
    return f"{_cap(_name(ctx, offer))} — {ctx.money(offer.price)}"


def _confirm(
    ctx: TurnContext, options: AddOnOptions, offer: AddOnOffer, prefix: str = ""
) -> Reply:
    """The question with the price and who pays it; a prepaid balance too low for it is told
    the shortfall and offered a top-up, or an add-on it can pay (nothing is bought)."""
    balance = options.prepaid_balance
    if balance is not None and offer.price > balance:
        ctx.state.goto("choose_add_on")
        cheaper = [o for o in _wanted(ctx, options) if o.price <= balance]
        choices = [Option(_label(ctx, o), f"add_on:{o.code}") for o in cheaper]
        return short_of_money(ctx, InsufficientBalanceError(balance, offer.price), *choices)
    ctx.state.slots["code"] = offer.code
    ctx.state.goto("confirm")
    if balance is None:
        paid = ctx.say(CONFIRM_PAID["postpaid"])
    else:
        after = ctx.money(balance - offer.price)
        paid = ctx.say(CONFIRM_PAID["prepaid"], balance=ctx.money(balance), after=after)
    start, end = ctx.today, _end(ctx, options, offer)
    question = ctx.say(
        CONFIRM[offer.kind],
        name=_name(ctx, offer),
        line=line_text(options.line),
        price=ctx.money(offer.price),
        paid=paid,
        amount=data_amount(ctx, offer.data_mb),
        start=ctx.date(start),
        end=ctx.date(end),
    )
    return ctx.reply(" ".join(p for p in (prefix, question) if p), *yes_no(ctx))


def _done(ctx: TurnContext, purchase: AddOnPurchase) -> str:
    name = _name(ctx, purchase.add_on)
    parts = [
        ctx.say(
            DONE,
            name=_cap(name),
            line=line_text(purchase.line),
            reference=purchase.reference,
        )
    ]
    if purchase.data_allowance_mb is not None:
        parts.append(ctx.say(DONE_DATA, allowance=data_amount(ctx, purchase.data_allowance_mb)))
    if purchase.prepaid_balance is not None:
        parts.append(ctx.say(DONE_BALANCE, balance=ctx.money(purchase.prepaid_balance)))
    else:
        parts.append(ctx.say(DONE_BILL, price=ctx.money(purchase.price)))
    return " ".join(parts)


def _name(ctx: TurnContext, offer: AddOnOffer) -> str:
    if offer.kind == "data":
        return ctx.say(DATA_NAME, amount=data_amount(ctx, offer.data_mb))
    return ctx.plural(ROAMING_NAME, offer.roaming_days or 1)


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _end(ctx: TurnContext, options: AddOnOptions, offer: AddOnOffer) -> date:
    """The add-on's last day: a roaming pass's days from today, data the cycle's end."""
    if offer.kind == "roaming":
        return ctx.today + timedelta(days=(offer.roaming_days or 1) - 1)
    return options.cycle_end


# --- lookups ----------------------------------------------------------------------------------
def _kind(text: str) -> str | None:
    """What the first message asked for: roaming, data, or either."""
    folded = fold(text)
    if _ROAMING.search(folded):
        return "roaming"
    return "data" if _DATA.search(folded) else None


def _wanted(ctx: TurnContext, options: AddOnOptions) -> list[AddOnOffer]:
    """The add-ons of the kind asked for (all of them when none was, or none is on offer)."""
    kind = ctx.state.slots.get("kind")
    wanted = [offer for offer in options.offers if offer.kind == kind]
    return wanted or list(options.offers)


async def _lines(ctx: TurnContext) -> list[Line]:
    assert ctx.account is not None
    lines = usable_lines(await ctx.billing.list_lines(ctx.account.id))
    ctx.state.slots["lines"] = len(lines)
    return lines


async def _options(ctx: TurnContext, line_id: int) -> AddOnOptions:
    assert ctx.account is not None
    return await ctx.billing.add_on_options(ctx.account.id, line_id, now=ctx.now)


def _offer(options: AddOnOptions, code: object) -> AddOnOffer | None:
    return next((offer for offer in options.offers if offer.code == code), None)


def _named(ctx: TurnContext, options: AddOnOptions) -> AddOnOffer | None:
    """The add-on a message names by size or days ("the 5 gb one", "a week"), if just one."""
    folded = fold(ctx.text)
    gigabytes = re.search(r"(\d+)\s*(gb|gigs?|g\b)", folded)
    days = 7 if re.search(r"\b(week|semana)\b", folded) else None
    day = re.search(r"(\d+)\s*(days?|dias?)\b", folded) or re.search(r"\b(day|dia)\b", folded)
    matches = [
        offer
        for offer in _wanted(ctx, options)
        if (gigabytes and offer.data_mb == int(gigabytes.group(1)) * 1024)
        or (days and offer.roaming_days == days)
        or (day and not days and offer.roaming_days == _days(day))
    ]
    return matches[0] if len(matches) == 1 else None


def _days(match: re.Match[str]) -> int:
    return int(match.group(1)) if match.group(1).isdigit() else 1
