"""`bill_explain`: "why is my bill higher?" — the latest bill against the one before, the total
difference first, then each charge that changed, in words, then the tax.

A monthly charge that appeared (an add-on the customer may not have asked for) gets an offer:
a ticket asking the team to remove it, opened only after a yes. (Removing it directly belongs to
`add_on` once it can.) With one bill only, its main parts are explained instead. See
docs/flows/bill_explain.md.
"""

from __future__ import annotations

import uuid

from babel.dates import format_date

from billing_client import InvoiceDetail, InvoiceItem, InvoiceSummary, Money
from bot.flow import Intent, TurnContext
from bot.phones import display
from bot.types import Option, Reply
from intents.bill_diff import BillDiff, Change, compare
from intents.common import TRAINING, answer_is_yes, yes_no

PREPAID = {
    "en": "You're on prepaid, so there's no monthly bill to explain. I can show your balance.",
    "es": "Tienes prepago, así que no hay factura mensual que explicar. Puedo mostrarte tu saldo.",
}
NONE = {"en": "You don't have any bills yet.", "es": "Todavía no tienes facturas."}
ONE = {
    "en": "Your bill {number} ({period}) is {total}. This is what it's made of:",
    "es": "Tu factura {number} ({period}) es de {total}. Esto es lo que incluye:",
}
ONLY_ONE = {
    "en": "It's your first bill, so there's no earlier one to compare it with.",
    "es": "Es tu primera factura, así que no hay otra anterior con la que compararla.",
}
HIGHER = {
    "en": "Your latest bill, {number} ({period}), is {total}: {delta} more than the one "
    "before ({previous}).",
    "es": "Tu última factura, {number} ({period}), es de {total}: {delta} más que la anterior "
    "({previous}).",
}
LOWER = {
    "en": "Your latest bill, {number} ({period}), is {total}: {delta} less than the one before "
    "({previous}).",
    "es": "Tu última factura, {number} ({period}), es de {total}: {delta} menos que la anterior "
    "({previous}).",
}
SAME = {
    "en": "Your latest bill, {number} ({period}), is {total}, the same as the one before.",
    "es": "Tu última factura, {number} ({period}), es de {total}, igual que la anterior.",
}
WHAT_CHANGED = {"en": "What changed:", "es": "Qué ha cambiado:"}
NOTHING_CHANGED = {
    "en": "The charges are the same as last time.",
    "es": "Los cargos son los mismos que la vez anterior.",
}
# What a charge is, by the item's kind.
KIND = {
    "recurring": {"en": "monthly charge", "es": "cuota mensual"},
    "usage": {"en": "usage over your allowance", "es": "consumo fuera de tu tarifa"},
    "international": {"en": "international calls", "es": "llamadas internacionales"},
    "roaming": {"en": "roaming", "es": "roaming"},
    "one_off": {"en": "one-off charge", "es": "cargo único"},
    "discount": {"en": "discount", "es": "descuento"},
    "": {"en": "charge", "es": "cargo"},
}
NEW = {
    "recurring": {
        "en": "New monthly charge: {item}, {amount}.",
        "es": "Nueva cuota mensual: {item}, {amount}.",
    },
    "usage": {
        "en": "Usage over your allowance: {item}, {amount} (none last time).",
        "es": "Consumo fuera de tu tarifa: {item}, {amount} (ninguno la vez anterior).",
    },
    "international": {
        "en": "International calls: {item}, {amount} (none last time).",
        "es": "Llamadas internacionales: {item}, {amount} (ninguna la vez anterior).",
    },
    "roaming": {
        "en": "Roaming abroad: {item}, {amount} (no roaming last time).",
        "es": "Roaming en el extranjero: {item}, {amount} (sin roaming la vez anterior).",
    },
    "one_off": {
        "en": "A one-off charge: {item}, {amount}. It won't repeat.",
        "es": "Un cargo único: {item}, {amount}. No se repetirá.",
    },
    "discount": {
        "en": "A new discount: {item} takes {amount} off.",
        "es": "Un descuento nuevo: {item} resta {amount}.",
    },
    "": {"en": "New: {item}, {amount}.", "es": "Nuevo: {item}, {amount}."},
}
# A new charge whose description already says what it is ("International calls").
NEW_NAMED = {
    "en": "{item}: {amount} (none last time).",
    "es": "{item}: {amount} (nada la vez anterior).",
}
NAMED_BY = {"international": "international", "roaming": "roaming"}  # kind → telling word
GONE = {
    "discount": {
        "en": "A discount ended: {item} took {amount} off last time.",
        "es": "Ha terminado un descuento: {item} restaba {amount} la vez anterior.",
    },
    "recurring": {
        "en": "{item} ({amount} a month) is no longer charged.",
        "es": "{item} ({amount} al mes) ya no se cobra.",
    },
    "": {
        "en": "{item} ({amount} last time) is not on this bill.",
        "es": "{item} ({amount} la vez anterior) no está en esta factura.",
    },
}
UP = {
    "en": "{item} ({kind}): {after}, {delta} more than last time ({before}).",
    "es": "{item} ({kind}): {after}, {delta} más que la vez anterior ({before}).",
}
DOWN = {
    "en": "{item} ({kind}): {after}, {delta} less than last time ({before}).",
    "es": "{item} ({kind}): {after}, {delta} menos que la vez anterior ({before}).",
}
DISCOUNT_CHANGED = {
    "en": "{item} (discount) now takes {after} off instead of {before}.",
    "es": "{item} (descuento) ahora resta {after} en lugar de {before}.",
}
TAX_UP = {
    "en": "Tax: {delta} more, as it follows the charges ({tax} in all).",
    "es": "Impuestos: {delta} más, porque van con los cargos ({tax} en total).",
}
TAX_DOWN = {
    "en": "Tax: {delta} less, as it follows the charges ({tax} in all).",
    "es": "Impuestos: {delta} menos, porque van con los cargos ({tax} en total).",
}
TAX_ROW = {"en": "Tax: {tax}", "es": "Impuestos: {tax}"}
ON_LINE = {"en": "{item} on {line}", "es": "{item} en la línea {line}"}
OFFER = {
    "en": "{item} is a new monthly charge of {amount}. If you didn't ask for it, I can open a "
    "ticket for our team to remove it. Shall I?",
    "es": "{item} es una cuota mensual nueva de {amount}. Si no la pediste, puedo abrir una "
    "incidencia para que nuestro equipo la quite. ¿Lo hago?",
}
TICKET_SUBJECT = "Remove add-on: {item}"
TICKET_TEXT = (
    "The customer asks to remove {item} ({amount} a month{line}), which first appeared on "
    "invoice {number}. Opened from bill_explain in chat."
)
OPENED = {
    "en": "Your ticket {reference} is open: our team will look at removing {item} and reply "
    "here, usually within one business day.",
    "es": "Tu incidencia {reference} está abierta: nuestro equipo revisará cómo quitar {item} y "
    "te responderá por aquí, normalmente en un día laborable.",
}
KEPT = {
    "en": "OK, no ticket opened: {item} stays on your bill.",
    "es": "De acuerdo, no he abierto ninguna incidencia: {item} sigue en tu factura.",
}
YES_OR_NO = {"en": "Please answer yes or no.", "es": "Responde sí o no."}
BALANCE_LABEL = {"en": "My balance", "es": "Mi saldo"}
INVOICES_LABEL = {"en": "My invoices", "es": "Mis facturas"}

MENU_LABEL = {"en": "Why is my bill different?", "es": "¿Por qué ha cambiado mi factura?"}
COMPARED = ("open", "overdue", "paid")  # issued bills: not void, not drafts


class BillExplainIntent(Intent):
    name = "bill_explain"
    billing_types = frozenset({"postpaid"})
    menu_label = MENU_LABEL
    training_file = TRAINING / "bill_explain.yml"
    feature = "invoices"

    async def start(self, ctx: TurnContext) -> list[Reply]:
        assert ctx.account is not None  # the router gives strangers the fallback instead
        if ctx.account.billing_type == "prepaid":
            return [ctx.reply(ctx.say(PREPAID), Option(ctx.say(BALANCE_LABEL), "intent:balance"))]
        summaries = await ctx.billing.list_invoices(ctx.account.id, now=ctx.now, limit=4)
        latest_two = [invoice for invoice in summaries if invoice.status in COMPARED][:2]
        if not latest_two:
            return [ctx.reply(ctx.say(NONE))]
        details = [await ctx.billing.get_invoice(s.id, now=ctx.now) for s in latest_two]
        several = _several_lines(details)
        if len(details) == 1:
            return [_explain_one(ctx, details[0], several)]
        diff = compare(details[0], details[1])
        text = _explain_diff(ctx, diff, several)
        if not diff.new_recurring:
            return [ctx.reply(text)]
        return [ctx.reply(text), self._offer(ctx, diff, diff.new_recurring[0], several)]

    async def resume(self, ctx: TurnContext) -> list[Reply]:
        slots = ctx.state.slots
        answer = answer_is_yes(ctx)
        if answer is None:
            text = (
                ctx.say(YES_OR_NO)
                + " "
                + ctx.say(OFFER, item=slots["item"], amount=slots["price"])
            )
            return [ctx.reply(text, *yes_no(ctx))]
        ctx.state.finish()
        if not answer:
            return [ctx.reply(ctx.say(KEPT, item=slots["item"]))]
        return [await _open_removal_ticket(ctx, slots)]

    def _offer(self, ctx: TurnContext, diff: BillDiff, change: Change, several: bool) -> Reply:
        assert change.after is not None
        item = _item(ctx, change.description, change.msisdn, several)
        line = f", line {change.msisdn}" if change.msisdn else ""
        ctx.state.begin(
            self.name,
            "offer_removal",
            flow_id=uuid.uuid4().hex,
            item=item,
            price=ctx.money(change.after),
            line=line,
            number=diff.latest.summary.number,
        )
        return ctx.reply(ctx.say(OFFER, item=item, amount=ctx.money(change.after)), *yes_no(ctx))


async def _open_removal_ticket(ctx: TurnContext, slots: dict[str, object]) -> Reply:
    assert ctx.account is not None
    item = str(slots["item"])
    ticket = await ctx.billing.create_ticket(
        ctx.account.id,
        subject=TICKET_SUBJECT.format(item=item)[:80],
        description=TICKET_TEXT.format(
            item=item, amount=slots["price"], line=slots["line"], number=slots["number"]
        ),
        channel=ctx.message.channel,
        idempotency_key=f"bill_explain:{slots['flow_id']}",
        now=ctx.now,
    )
    return ctx.reply(ctx.say(OPENED, reference=ticket.reference, item=item))


# --- wording ----------------------------------------------------------------------------------
def _explain_diff(ctx: TurnContext, diff: BillDiff, several: bool) -> str:
    lines = [_headline(ctx, diff.latest.summary, diff.earlier.summary)]
    rows = [_change_text(ctx, change, several) for change in diff.changes]
    if diff.tax_delta.minor:
        tax = TAX_UP if diff.tax_delta.minor > 0 else TAX_DOWN
        rows.append(
            ctx.say(tax, delta=_abs(ctx, diff.tax_delta), tax=ctx.money(diff.latest.summary.tax))
        )
    if rows:
        lines += [ctx.say(WHAT_CHANGED), *(f"• {row}" for row in rows)]
    else:
        lines.append(ctx.say(NOTHING_CHANGED))
    return "\n".join(lines)


def _headline(ctx: TurnContext, latest: InvoiceSummary, earlier: InvoiceSummary) -> str:
    delta = latest.total - earlier.total
    messages = HIGHER if delta.minor > 0 else LOWER if delta.minor < 0 else SAME
    return ctx.say(
        messages,
        number=latest.number,
        period=_period(ctx, latest),
        total=ctx.money(latest.total),
        delta=_abs(ctx, delta),
        previous=ctx.money(earlier.total),
    )


def _change_text(ctx: TurnContext, change: Change, several: bool) -> str:
    item = _item(ctx, change.description, change.msisdn, several)
    if change.what == "new":
        assert change.after is not None
        messages = NEW.get(change.kind, NEW[""])
        if NAMED_BY.get(change.kind, "\0") in change.description.lower():
            messages = NEW_NAMED
        return ctx.say(messages, item=item, amount=_abs(ctx, change.after))
    if change.what == "gone":
        assert change.before is not None
        messages = GONE.get(change.kind, GONE[""])
        return ctx.say(messages, item=item, amount=_abs(ctx, change.before))
    assert change.before is not None and change.after is not None
    if change.kind == "discount":
        after, before = _abs(ctx, change.after), _abs(ctx, change.before)
        return ctx.say(DISCOUNT_CHANGED, item=item, after=after, before=before)
    return ctx.say(
        UP if change.what == "up" else DOWN,
        item=item,
        kind=ctx.say(KIND.get(change.kind, KIND[""])),
        after=ctx.money(change.after),
        before=ctx.money(change.before),
        delta=_abs(ctx, change.delta),
    )


def _explain_one(ctx: TurnContext, detail: InvoiceDetail, several: bool) -> Reply:
    summary = detail.summary
    head = ctx.say(
        ONE, number=summary.number, period=_period(ctx, summary), total=ctx.money(summary.total)
    )
    rows = [_item_row(ctx, item, several) for item in detail.items]
    rows.append(ctx.say(TAX_ROW, tax=ctx.money(summary.tax)))
    text = "\n".join([head, *(f"• {row}" for row in rows), ctx.say(ONLY_ONE)])
    return ctx.reply(text, Option(ctx.say(INVOICES_LABEL), "intent:invoice"))


def _item_row(ctx: TurnContext, item: InvoiceItem, several: bool) -> str:
    name = _item(ctx, item.description, item.msisdn, several)
    kind = ctx.say(KIND.get(item.kind or "", KIND[""]))
    return f"{name} ({kind}): {ctx.money(item.amount)}"


def _item(ctx: TurnContext, description: str, msisdn: str | None, several: bool) -> str:
    """The item as billed, with its line when the account has more than one."""
    if several and msisdn:
        return ctx.say(ON_LINE, item=description, line=display(msisdn))
    return description


def _several_lines(details: list[InvoiceDetail]) -> bool:
    numbers = {item.msisdn for detail in details for item in detail.items if item.msisdn}
    return len(numbers) > 1


def _period(ctx: TurnContext, invoice: InvoiceSummary) -> str:
    return format_date(invoice.period_start, format="MMMM y", locale=ctx.locale)


def _abs(ctx: TurnContext, amount: Money) -> str:
    return ctx.money(Money(abs(amount.minor), amount.currency))
