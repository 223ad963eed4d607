"""`plan_change`: move a line to another plan — pick the line, see each plan's monthly price,
allowances and the day it would take effect, confirm with the price in the question, change.

An upgrade takes effect today and costs the price difference for the rest of the cycle (the
billing core prorates: days left, today included, over days in the cycle, rounded half up);
anything else starts with the next cycle, free. The change is made once per flow (its
idempotency key) and audited by the billing core. "No, the other line" switches lines at any
step and keeps the plan chosen when the other line can take it. See docs/flows/plan_change.md.
"""

from __future__ import annotations

import re
import uuid

from billing_client import (
    InsufficientBalanceError,
    Line,
    Money,
    PlanChangeResult,
    PlanInfo,
    PlanOffer,
    PlanOptions,
    PriceChangedError,
)
from bot.flow import Intent, TurnContext
from bot.types import Option, Reply
from intents.common import TRAINING, answer_is_yes, yes_no
from intents.plan_common import (
    OTHER_LINE,
    OTHER_LINE_VALUE,
    allowances,
    choose_line,
    fold,
    line_named,
    line_text,
    second_miss,
    short_of_money,
    switch_line,
    usable_lines,
    wants_other_line,
)

CURRENT = {
    "en": "{line} is on {plan}: {price}, {allowances}. This cycle ends {end}.",
    "es": "{line} tiene {plan}: {price}, {allowances}. Este ciclo termina el {end}.",
}
PENDING = {
    "en": "A change to {plan} is already booked for {day}; choosing again replaces it.",
    "es": "Ya hay un cambio a {plan} previsto para el {day}; si eliges otro, lo sustituye.",
}
CAN_MOVE = {"en": "You can change to:", "es": "Puedes cambiar a:"}
WHICH = {"en": "Which plan would you like?", "es": "¿Qué plan quieres?"}
PRICE = {"en": "{price} a month", "es": "{price} al mes"}
FAMILY_PRICE = {
    "en": "{price} a month for {lines} lines ({each} a line)",
    "es": "{price} al mes por {lines} líneas ({each} por línea)",
}
NOW = {
    "en": "from today: {charge} for the {days} days left in this cycle",
    "es": "desde hoy: {charge} por los {days} días que quedan de este ciclo",
}
NEXT = {
    "en": "from {day} (your next cycle), nothing to pay now",
    "es": "desde el {day} (tu próximo ciclo), sin pagar nada ahora",
}
ITEM = {"en": "• {plan}: {price}; {allowances}. {when}."}
OPTION = {"en": "{plan} ({price}/mo)", "es": "{plan} ({price}/mes)"}
NO_OTHER_PLANS = {
    "en": "There are no other plans {line} can change to here. It stays on {plan}.",
    "es": "No hay otros planes a los que {line} pueda cambiar aquí. Sigue con {plan}.",
}
CONFIRM_UP = {
    "en": "Change {line} from {old} to {new} today? {new} costs {price}. For the {days} "
    "days left in this cycle you're charged {charge} ({days}/{cycle} of the {difference} "
    "difference), {where}.",
    "es": "¿Cambiamos {line} de {old} a {new} hoy? {new} cuesta {price}. Por los {days} "
    "días que quedan de este ciclo se te cobran {charge} ({days}/{cycle} de la diferencia de "
    "{difference}), {where}.",
}
WHERE = {
    "postpaid": {
        "en": "added to your next bill (before tax)",
        "es": "que se añaden a tu próxima factura (sin impuestos)",
    },
    "prepaid": {
        "en": "taken from your balance of {balance}",
        "es": "que se descuentan de tu saldo de {balance}",
    },
}
CONFIRM_DOWN = {
    "en": "Change {line} from {old} to {new} on {day}, when your next cycle starts? Nothing to "
    "pay now; until then you keep {old}. From then on it costs {price}.",
    "es": "¿Cambiamos {line} de {old} a {new} el {day}, al empezar tu próximo ciclo? No pagas "
    "nada ahora y hasta entonces sigues con {old}. Desde ese día cuesta {price}.",
}
REPLACES = {
    "en": "It replaces the change to {plan} booked for {day}.",
    "es": "Sustituye al cambio a {plan} previsto para el {day}.",
}
DONE_UP = {
    "en": "Done: {line} is on {plan} from today. {charge} {where}. Reference: {reference}.",
    "es": "Hecho: {line} tiene {plan} desde hoy. {charge} {where}. Referencia: {reference}.",
}
DONE_WHERE = {
    "postpaid": {"en": "goes on your next bill", "es": "irán en tu próxima factura"},
    "prepaid": {
        "en": "came off your balance, which is now {balance}",
        "es": "se han descontado de tu saldo, que ahora es de {balance}",
    },
}
DONE_DOWN = {
    "en": "Done: {line} changes to {plan} on {day}. Nothing to pay now. Reference: {reference}.",
    "es": "Hecho: {line} cambia a {plan} el {day}. No pagas nada ahora. Referencia: {reference}.",
}
KEPT = {"en": "OK, {line} stays on {plan}.", "es": "De acuerdo, {line} sigue con {plan}."}
ALREADY = {"en": "{line} is already on {plan}.", "es": "{line} ya tiene {plan}."}
YES_OR_NO = {"en": "Please answer yes or no.", "es": "Responde sí o no."}
NOT_UNDERSTOOD = {
    "en": "Please pick one of the plans.",
    "es": "Elige uno de los planes.",
}
PRICE_CHANGED = {
    "en": "The price has changed since I asked (a new day started).",
    "es": "El precio ha cambiado desde que te pregunté (ha empezado un nuevo día).",
}
GONE = {
    "en": "Sorry, {plan} is no longer available for {line}. Nothing was changed.",
    "es": "Lo siento, {plan} ya no está disponible para {line}. No se ha cambiado nada.",
}
NO_LINES = {
    "en": "I can't find a line on your account to change.",
    "es": "No encuentro ninguna línea en tu cuenta que se pueda cambiar.",
}
MENU_LABEL = {"en": "Change my plan", "es": "Cambiar de plan"}


class PlanChangeIntent(Intent):
    name = "plan_change"
    menu_label = MENU_LABEL
    training_file = TRAINING / "plan_change.yml"
    feature = "plan_changes"

    async def start(self, ctx: TurnContext) -> list[Reply]:
        assert ctx.account is not None
        ctx.state.begin(self.name, "choose_line", flow_id=uuid.uuid4().hex)
        lines = await _lines(ctx)
        if not lines:
            ctx.state.finish()
            return [ctx.reply(ctx.say(NO_LINES))]
        named = line_named(ctx, lines)
        if named is None and len(lines) > 1:
            return [choose_line(ctx, lines)]
        return await _line_chosen(ctx, named or lines[0], asked=ctx.text)

    async def resume(self, ctx: TurnContext) -> list[Reply]:
        step = ctx.state.step
        if step == "confirm":
            return await _on_confirm(ctx)
        if step == "choose_plan":
            return await _on_plan(ctx)
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
    if ctx.state.step == "confirm":
        offer = _offer(options, str(ctx.state.slots["plan"]))
        if offer is not None:
            return [_confirm(ctx, options, offer)]
    return [_plans(ctx, options)]


async def _on_line(ctx: TurnContext) -> list[Reply]:
    lines = await _lines(ctx)
    line = line_named(ctx, lines)
    if line is None:
        return second_miss(ctx) or [choose_line(ctx, lines)]
    return await _line_chosen(ctx, line)


async def _line_chosen(ctx: TurnContext, line: Line, *, asked: str = "") -> list[Reply]:
    """Show the plans for `line`; straight to the confirmation when the plan was named."""
    ctx.state.slots["line_id"] = line.id
    options = await _options(ctx, line.id)
    if not options.offers:
        ctx.state.finish()
        text = ctx.say(NO_OTHER_PLANS, line=line_text(line), plan=options.current.name)
        return [ctx.reply(text)]
    wanted = _plan_named(asked, options) or _offer(options, ctx.state.slots.get("plan"))
    if wanted is not None:
        return [_confirm(ctx, options, wanted)]
    ctx.state.goto("choose_plan")
    return [_plans(ctx, options)]


async def _on_plan(ctx: TurnContext) -> list[Reply]:
    line_id = int(ctx.state.slots["line_id"])
    if wants_other_line(ctx):
        return await _switch_line(ctx, line_id)
    options = await _options(ctx, line_id)
    offer = _offer(options, ctx.text.removeprefix("plan:")) or _plan_named(ctx.text, options)
    if offer is None:
        return second_miss(ctx) or [_plans(ctx, options, ctx.say(NOT_UNDERSTOOD))]
    return [_confirm(ctx, options, offer)]


async def _on_confirm(ctx: TurnContext) -> list[Reply]:
    line_id = int(ctx.state.slots["line_id"])
    if wants_other_line(ctx):
        return await _switch_line(ctx, line_id)
    options = await _options(ctx, line_id)
    named = _plan_named(ctx.text, options)
    if named is not None and named.plan.code != ctx.state.slots["plan"]:
        return [_confirm(ctx, options, named)]  # "actually the cheaper one"
    answer = answer_is_yes(ctx)
    code = str(ctx.state.slots["plan"])
    offer = _offer(options, code)
    if offer is None:  # made meanwhile (another chat), or no longer offered
        ctx.state.finish()
        line = line_text(options.line)
        if options.current.code == code:
            return [ctx.reply(ctx.say(ALREADY, line=line, plan=options.current.name))]
        return [ctx.reply(ctx.say(GONE, plan=code, line=line))]
    if answer is None:
        return [_confirm(ctx, options, offer, ctx.say(YES_OR_NO))]
    if not answer:
        ctx.state.finish()
        line = line_text(options.line)
        return [ctx.reply(ctx.say(KEPT, line=line, plan=options.current.name))]
    return await _change(ctx, options, offer)


async def _switch_line(ctx: TurnContext, current: int) -> list[Reply]:
    return await switch_line(
        ctx, current, await _lines(ctx), ask_again=_ask_again, chosen=_line_chosen
    )


async def _change(ctx: TurnContext, options: PlanOptions, offer: PlanOffer) -> list[Reply]:
    assert ctx.account is not None
    slots = ctx.state.slots
    try:
        result = await ctx.billing.change_plan(
            ctx.account.id,
            options.line.id,
            offer.plan.code,
            expected_charge=Money(int(slots["charge_minor"]), offer.charge.currency),
            idempotency_key=f"plan_change:{slots['flow_id']}",
            actor=f"customer:{ctx.message.channel}",
            now=ctx.now,
        )
    except PriceChangedError:
        return await _requote(ctx, options.line.id, offer)
    except InsufficientBalanceError as short:
        ctx.state.finish()
        return [short_of_money(ctx, short)]
    ctx.state.finish()
    return [ctx.reply(_done(ctx, result))]


async def _requote(ctx: TurnContext, line_id: int, offer: PlanOffer) -> list[Reply]:
    """Nothing changed: show the new price and ask again (or say the plan is gone)."""
    options = await _options(ctx, line_id)
    again = _offer(options, offer.plan.code)
    if again is None:
        ctx.state.finish()
        text = ctx.say(GONE, plan=offer.plan.name, line=line_text(options.line))
        return [ctx.reply(text)]
    return [_confirm(ctx, options, again, ctx.say(PRICE_CHANGED))]


# --- replies ----------------------------------------------------------------------------------
def _plans(ctx: TurnContext, options: PlanOptions, prefix: str = "") -> Reply:
    current = options.current
    head = ctx.say(
        CURRENT,
        line=line_text(options.line),
        plan=current.name,
        price=_price(ctx, current),
        allowances=allowances(ctx, current),
        end=ctx.date(options.cycle_end),
    )
    parts = [prefix, head]
    if options.pending is not None:
        day = ctx.date(options.pending.effective_on)
        parts.append(ctx.say(PENDING, plan=options.pending.plan_name, day=day))
    items = [_item(ctx, offer) for offer in options.offers]
    text = "\n".join([" ".join(p for p in parts if p), ctx.say(CAN_MOVE), *items, ctx.say(WHICH)])
    choices = [_option(ctx, offer) for offer in options.offers]
    if ctx.state.slots.get("lines", 1) > 1:
        choices.append(Option(ctx.say(OTHER_LINE), OTHER_LINE_VALUE))
    return ctx.reply(text, *choices)


def _item(ctx: TurnContext, offer: PlanOffer) -> str:
    if offer.direction == "upgrade":
        when = ctx.say(NOW, charge=ctx.money(offer.charge), days=offer.days_left)
    else:
        when = ctx.say(NEXT, day=ctx.date(offer.effective_on))
    return ctx.say(
        ITEM,
        plan=offer.plan.name,
        price=_price(ctx, offer.plan),
        allowances=allowances(ctx, offer.plan),
        when=when[:1].upper() + when[1:],
    )


def _price(ctx: TurnContext, plan: PlanInfo) -> str:
    """ "$55.00 a month"; a family plan's with its price a line."""
    if plan.lines_included > 1:
        return ctx.say(
            FAMILY_PRICE,
            price=ctx.money(plan.monthly_price),
            lines=plan.lines_included,
            each=ctx.money(plan.line_price),
        )
    return ctx.say(PRICE, price=ctx.money(plan.monthly_price))


def _option(ctx: TurnContext, offer: PlanOffer) -> Option:
    label = ctx.say(OPTION, plan=offer.plan.name, price=ctx.money(offer.plan.monthly_price))
    return Option(label, f"plan:{offer.plan.code}")


def _confirm(ctx: TurnContext, options: PlanOptions, offer: PlanOffer, prefix: str = "") -> Reply:
    """The question, with what it costs and when, in one message; the quote is remembered. A
    prepaid balance that cannot pay the upgrade is told first, with a top-up offer."""
    balance = options.prepaid_balance
    if balance is not None and offer.charge > balance:
        ctx.state.finish()
        return short_of_money(ctx, InsufficientBalanceError(balance, offer.charge))
    ctx.state.slots.update(plan=offer.plan.code, charge_minor=offer.charge.minor)
    ctx.state.goto("confirm")
    values = {
        "line": line_text(options.line),
        "old": options.current.name,
        "new": offer.plan.name,
        "price": _price(ctx, offer.plan),
    }
    if offer.direction == "upgrade":
        kind = "prepaid" if balance is not None else "postpaid"
        difference = offer.plan.line_price - options.current.line_price
        question = ctx.say(
            CONFIRM_UP,
            days=offer.days_left,
            cycle=offer.days_in_cycle,
            charge=ctx.money(offer.charge),
            difference=ctx.money(difference),
            where=ctx.say(WHERE[kind], balance=ctx.money(balance) if balance else ""),
            **values,
        )
    else:
        question = ctx.say(CONFIRM_DOWN, day=ctx.date(offer.effective_on), **values)
    pending = options.pending
    parts = [prefix, question]
    if pending is not None:
        parts.append(ctx.say(REPLACES, plan=pending.plan_name, day=ctx.date(pending.effective_on)))
    return ctx.reply(" ".join(p for p in parts if p), *yes_no(ctx))


def _done(ctx: TurnContext, result: PlanChangeResult) -> str:
    line = line_text(result.line)
    if result.direction == "upgrade":
        balance = result.prepaid_balance
        kind = "prepaid" if balance is not None else "postpaid"
        return ctx.say(
            DONE_UP,
            line=line,
            plan=result.to_plan,
            charge=ctx.money(result.charge),
            where=ctx.say(DONE_WHERE[kind], balance=ctx.money(balance) if balance else ""),
            reference=result.reference,
        )
    day = ctx.date(result.effective_on)
    return ctx.say(DONE_DOWN, line=line, plan=result.to_plan, day=day, reference=result.reference)


# --- lookups ----------------------------------------------------------------------------------
async def _lines(ctx: TurnContext) -> list[Line]:
    assert ctx.account is not None
    lines = usable_lines(await ctx.billing.list_lines(ctx.account.id))
    ctx.state.slots["lines"] = len(lines)
    return lines


async def _options(ctx: TurnContext, line_id: int) -> PlanOptions:
    assert ctx.account is not None
    return await ctx.billing.plan_options(ctx.account.id, line_id, now=ctx.now)


def _offer(options: PlanOptions, code: object) -> PlanOffer | None:
    return next((offer for offer in options.offers if offer.plan.code == code), None)


def _plan_named(text: str, options: PlanOptions) -> PlanOffer | None:
    """The one offered plan whose name (or code) the message contains, e.g. "unlimited 100"."""
    folded = _TIMES.sub(r"\1×\2", " ".join(fold(text).split()))
    named = [
        offer
        for offer in options.offers
        if fold(offer.plan.name) in folded or offer.plan.code in folded
    ]
    return named[0] if len(named) == 1 else None


_TIMES = re.compile(r"(\d)\s*[x*]\s*(\d)")  # "family 2x40" names "Family 2×40"
