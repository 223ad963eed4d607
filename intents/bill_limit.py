"""`bill_limit`: see, set, change or remove the spending cap on unbilled charges, and choose
what happens at 100 % — a notice, or barring chargeable use (opt-in, explained first).

A message that says what to do ("limit 100", "RAISE 200", "remove my limit", "block my line
at the limit") goes straight to its confirmation; anything else shows the cap and the choices.
Every change is confirmed with yes/no and audited by the billing core.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from billing_client import BillLimit, InvalidRequestError, LimitAction, LimitChange, Money
from bot.flow import Intent, TurnContext
from bot.nlu.amounts import to_decimal
from bot.phones import display
from bot.types import Option, Reply
from intents.common import TRAINING, answer_is_yes, yes_no

STATUS = {
    "en": "Your spending limit is {limit}. Charges so far this cycle: {unbilled} ({percent}%). "
    "I warn you at {alert}%, and at the limit I {action}.",
    "es": "Tu límite de gasto es de {limit}. Cargos de este ciclo hasta ahora: {unbilled} "
    "({percent} %). Te aviso al {alert} % y, al llegar al límite, {action}.",
}
ACTIONS = {
    "notice": {"en": "send you a notice", "es": "te envío un aviso"},
    "bar": {
        "en": "bar chargeable use until you reply CONTINUE",
        "es": "bloqueo el uso con cargo hasta que respondas CONTINUAR",
    },
}
BARRED_NOW = {
    "en": "Chargeable use is barred on {numbers}: reply CONTINUE to keep using it this cycle.",
    "es": "El uso con cargo está bloqueado en {numbers}: responde CONTINUAR para seguir usándolo "
    "este ciclo.",
}
NO_LIMIT = {
    "en": "You don't have a spending limit. Charges so far this cycle: {unbilled}. How much "
    "should the limit be? Send an amount, e.g. 100.",
    "es": "No tienes límite de gasto. Cargos de este ciclo hasta ahora: {unbilled}. ¿De cuánto "
    "quieres el límite? Envía un importe, por ejemplo 100.",
}
WHAT_NEXT = {"en": "What would you like to do?", "es": "¿Qué quieres hacer?"}
CHANGE = {"en": "Change the amount", "es": "Cambiar el importe"}
TO_BAR = {"en": "Bar use at the limit", "es": "Bloquear al llegar"}
TO_NOTICE = {"en": "Only notify me", "es": "Solo avisarme"}
REMOVE = {"en": "Remove the limit", "es": "Quitar el límite"}
ASK_AMOUNT = {
    "en": "How much should the limit be? Send an amount, e.g. 150.",
    "es": "¿De cuánto quieres el límite? Envía un importe, por ejemplo 150.",
}
CONFIRM_SET = {
    "en": "Set your spending limit to {limit}? I'll warn you at {alert}%, and at the limit I'll "
    "{action}.",
    "es": "¿Pongo tu límite de gasto en {limit}? Te avisaré al {alert} % y, al llegar al límite, "
    "{action_future}.",
}
FUTURE = {  # Spanish needs the future tense where English says "I'll {action}"
    "notice": {"en": "send you a notice", "es": "te enviaré un aviso"},
    "bar": {
        "en": "bar chargeable use until you reply CONTINUE",
        "es": "bloquearé el uso con cargo hasta que respondas CONTINUAR",
    },
}
CONFIRM_BAR = {
    "en": "When your charges reach {limit}, I'll bar chargeable use (data, calls and texts "
    "that cost extra) on all your lines until you reply CONTINUE or raise the limit. Calls to "
    "emergency numbers always work. Turn this on?",
    "es": "Cuando tus cargos lleguen a {limit}, bloquearé el uso con cargo (datos, llamadas y "
    "SMS con coste extra) en todas tus líneas hasta que respondas CONTINUAR o subas el límite. "
    "Las llamadas de emergencia siempre funcionan. ¿Lo activo?",
}
CONFIRM_REMOVE = {
    "en": "Remove your {limit} spending limit? You won't get limit warnings any more.",
    "es": "¿Quito tu límite de gasto de {limit}? Ya no recibirás avisos de límite.",
}
DONE = {"en": "Done. {status}", "es": "Hecho. {status}"}
REMOVED = {
    "en": "Done: you no longer have a spending limit.",
    "es": "Hecho: ya no tienes límite de gasto.",
}
UNCHANGED = {"en": "OK, nothing changed.", "es": "De acuerdo, no he cambiado nada."}
YES_OR_NO = {"en": "Please answer yes or no.", "es": "Responde sí o no."}
NO_LIMIT_TO_REMOVE = {
    "en": "You don't have a spending limit, so there is nothing to remove.",
    "es": "No tienes límite de gasto, así que no hay nada que quitar.",
}
NEED_AMOUNT_FIRST = {
    "en": "First set a limit: send an amount, e.g. 100.",
    "es": "Primero pon un límite: envía un importe, por ejemplo 100.",
}
PREPAID = {
    "en": "You're on prepaid, so your charges can't run past your balance: there's no bill "
    "to limit.",
    "es": "Tienes prepago, así que tus cargos no pueden superar tu saldo: no hay factura que "
    "limitar.",
}
UNAVAILABLE = {
    "en": "Spending limits aren't available for your account. Please contact support.",
    "es": "Los límites de gasto no están disponibles para tu cuenta. Contacta con soporte.",
}
REFUSED = {"en": "I couldn't set that: {why}.", "es": "No he podido hacerlo: {why}."}
ANONYMOUS = {
    "en": "Spending limits are for numbers on an account. Please text from your own phone.",
    "es": "Los límites de gasto son para números de una cuenta. Escríbenos desde tu teléfono.",
}
MENU_LABEL = {"en": "Spending limit", "es": "Límite de gasto"}

_REMOVE = re.compile(
    r"\b(remove|delete|cancel|drop|get rid of|turn off|switch off|take off|no (more )?limit|"
    r"quit(a|ar|en)|elimin\w*|borr\w*|sin l[ií]mite|desactiv\w*)\b",
    re.IGNORECASE,
)
_BAR = re.compile(
    r"\b(block|bar|barring|cut (me |it |my \w+ )?off|suspend|shut off|stop (my )?(line|service|"
    r"data|usage|phone)|bloque\w*|cort\w*|suspend\w*)\b",
    re.IGNORECASE,
)
_NOTICE = re.compile(
    r"\b(just|only)( \w+)? (warn|notify|tell|text|alert|message)|\b(don'?t|do not|never) "
    r"(block|bar|cut)|\bsolo (avis|notific)\w*|\bno (me )?(bloque|cort)\w*",
    re.IGNORECASE,
)
_NUMBER = re.compile(r"(?<![\d.,])(\d{1,6}(?:[.,]\d{1,2})?)(?![\d%]|\s?%|[.,]\d)")
MAX_LIMIT = Decimal(100_000)


class BillLimitIntent(Intent):
    name = "bill_limit"
    billing_types = frozenset({"postpaid"})
    menu_label = MENU_LABEL
    training_file = TRAINING / "bill_limit.yml"

    async def start(self, ctx: TurnContext) -> list[Reply]:
        if ctx.account is None:
            return [ctx.reply(ctx.say(ANONYMOUS))]
        if ctx.account.billing_type == "prepaid":
            return [ctx.reply(ctx.say(PREPAID))]
        try:
            limit = await ctx.billing.get_bill_limit(ctx.account.id, now=ctx.now)
        except InvalidRequestError:
            return [ctx.reply(ctx.say(UNAVAILABLE))]
        ctx.state.begin(self.name, "menu")
        change = _parse(ctx.text, limit)
        if change is not None and not ctx.picked_option:
            return _confirm(ctx, limit, change)
        return _overview(ctx, limit)

    async def resume(self, ctx: TurnContext) -> list[Reply]:
        assert ctx.account is not None
        limit = await ctx.billing.get_bill_limit(ctx.account.id, now=ctx.now)
        if ctx.state.step == "confirm":
            return await _on_confirm(ctx, limit)
        if ctx.state.step == "amount":
            return _on_amount(ctx, limit)
        return _on_menu(ctx, limit)

    async def prompt(self, ctx: TurnContext) -> list[Reply]:
        ctx.state.finish()
        return await self.start(ctx)


# --- the steps --------------------------------------------------------------------------------
def _overview(ctx: TurnContext, limit: BillLimit) -> list[Reply]:
    if limit.limit is None:
        ctx.state.goto("amount")
        return [ctx.reply(ctx.say(NO_LIMIT, unbilled=ctx.money(limit.unbilled)))]
    options = [
        Option(ctx.say(CHANGE), "change"),
        Option(ctx.say(TO_NOTICE), "notice")
        if limit.action == "bar"
        else Option(ctx.say(TO_BAR), "bar"),
        Option(ctx.say(REMOVE), "remove"),
    ]
    text = _status(ctx, limit) + "\n" + ctx.say(WHAT_NEXT)
    return [ctx.reply(text, *options)]


def _on_menu(ctx: TurnContext, limit: BillLimit) -> list[Reply]:
    chosen = {
        "change": None,
        "bar": LimitChange(action="bar"),
        "notice": LimitChange(action="notice"),
        "remove": LimitChange(remove=True),
    }
    if ctx.text == "change":
        ctx.state.goto("amount")
        return [ctx.reply(ctx.say(ASK_AMOUNT))]
    change = chosen.get(ctx.text) or _parse(ctx.text, limit)
    if change is None:
        return _overview(ctx, limit)
    return _confirm(ctx, limit, change)


def _on_amount(ctx: TurnContext, limit: BillLimit) -> list[Reply]:
    change = _parse(ctx.text, limit)
    if change is not None and change.remove:
        return _confirm(ctx, limit, change)
    if change is None or (change.limit is None and limit.limit is None):
        return [ctx.reply(ctx.say(ASK_AMOUNT))]
    action = change.action or _action(ctx.state.slots.get("action"))
    return _confirm(ctx, limit, LimitChange(limit=change.limit, action=action))


def _confirm(ctx: TurnContext, limit: BillLimit, change: LimitChange) -> list[Reply]:
    if change.remove and limit.limit is None:
        ctx.state.finish()
        return [ctx.reply(ctx.say(NO_LIMIT_TO_REMOVE))]
    if change.limit is None and limit.limit is None:
        ctx.state.slots["action"] = change.action  # kept for when the amount comes
        ctx.state.goto("amount")
        return [ctx.reply(ctx.say(NEED_AMOUNT_FIRST))]
    ctx.state.slots["change"] = _stored(change)
    ctx.state.goto("confirm")
    return [ctx.reply(_question(ctx, limit, change), *yes_no(ctx))]


async def _on_confirm(ctx: TurnContext, limit: BillLimit) -> list[Reply]:
    change = _restored(ctx.state.slots["change"], limit)
    answer = answer_is_yes(ctx)
    if answer is None:
        text = ctx.say(YES_OR_NO) + " " + _question(ctx, limit, change)
        return [ctx.reply(text, *yes_no(ctx))]
    ctx.state.finish()
    if not answer:
        return [ctx.reply(ctx.say(UNCHANGED))]
    return [await _apply(ctx, change)]


async def _apply(ctx: TurnContext, change: LimitChange) -> Reply:
    assert ctx.account is not None
    actor = f"customer:{ctx.message.channel}"
    try:
        limit = await ctx.billing.set_bill_limit(ctx.account.id, change, actor=actor, now=ctx.now)
    except InvalidRequestError as refused:
        return ctx.reply(ctx.say(REFUSED, why=str(refused)))
    if limit.limit is None:
        return ctx.reply(ctx.say(REMOVED))
    if limit.reached and limit.action == "bar":
        result = await ctx.billing.bar_over_limit(ctx.account.id, actor=actor, now=ctx.now)
        limit = result.limit
    return ctx.reply(ctx.say(DONE, status=_status(ctx, limit)))


# --- words ------------------------------------------------------------------------------------
def _status(ctx: TurnContext, limit: BillLimit) -> str:
    assert limit.limit is not None
    text = ctx.say(
        STATUS,
        limit=ctx.money(limit.limit),
        unbilled=ctx.money(limit.unbilled),
        percent=limit.percent_used,
        alert=limit.alert_percent,
        action=ctx.say(ACTIONS[limit.action]),
    )
    if limit.capped_lines:
        numbers = ", ".join(display(number) for number in limit.capped_lines)
        text += " " + ctx.say(BARRED_NOW, numbers=numbers)
    return text


def _question(ctx: TurnContext, limit: BillLimit, change: LimitChange) -> str:
    if change.remove:
        assert limit.limit is not None
        return ctx.say(CONFIRM_REMOVE, limit=ctx.money(limit.limit))
    amount = change.limit or limit.limit
    assert amount is not None
    action = change.action or limit.action
    if action == "bar" and limit.action != "bar":
        return ctx.say(CONFIRM_BAR, limit=ctx.money(amount))
    return ctx.say(
        CONFIRM_SET,
        limit=ctx.money(amount),
        alert=change.alert_percent or limit.alert_percent,
        action=ctx.say(ACTIONS[action]),
        action_future=ctx.say(FUTURE[action]),
    )


def _parse(text: str, limit: BillLimit) -> LimitChange | None:
    """What the message asks for: a removal, an amount, barring or notices; None: unclear."""
    if _REMOVE.search(text) and not _NUMBER.search(text):
        return LimitChange(remove=True)
    amount = _amount(text, limit.unbilled.currency)
    action: LimitAction | None = (
        "notice" if _NOTICE.search(text) else "bar" if _BAR.search(text) else None
    )
    if amount is None and action is None:
        return None
    return LimitChange(limit=amount, action=action)


def _amount(text: str, currency: str) -> Money | None:
    match = _NUMBER.search(text)
    value = to_decimal(match.group(1)) if match else None
    if value is None or not 0 < value <= MAX_LIMIT:
        return None
    try:
        return Money.from_decimal(value, currency)
    except ValueError:  # cents in a currency without them
        return None


def _stored(change: LimitChange) -> dict[str, Any]:
    return {
        "limit_minor": None if change.limit is None else change.limit.minor,
        "action": change.action,
        "remove": change.remove,
    }


def _restored(stored: dict[str, Any], limit: BillLimit) -> LimitChange:
    minor = stored.get("limit_minor")
    amount = None if minor is None else Money(int(minor), limit.unbilled.currency)
    return LimitChange(
        limit=amount, action=_action(stored.get("action")), remove=bool(stored["remove"])
    )


def _action(value: object) -> LimitAction | None:
    return "bar" if value == "bar" else "notice" if value == "notice" else None
