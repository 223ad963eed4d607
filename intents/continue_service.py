"""`continue_service`: the customer's CONTINUE after their spending cap barred chargeable use.

It lifts the cap bar for the rest of the bill cycle (the billing core audits it) and tells the
holder's other verified channels, so a CONTINUE nobody expected is noticed. Without a cap bar
it changes nothing and says why: consent is given after the limit was reached, not before.
"""

from __future__ import annotations

from billing_client import BillLimit, InvalidRequestError
from bot.flow import Intent, TurnContext
from bot.phones import display
from bot.types import Reply
from intents.common import TRAINING, tell_other_channels

DONE = {
    "en": "Done: chargeable use is back on for {numbers} until {end}. Charges so far: {unbilled} "
    "(your limit is {limit}). I won't bar it again this cycle.",
    "es": "Hecho: el uso con cargo vuelve a estar activo en {numbers} hasta el {end}. Cargos "
    "hasta ahora: {unbilled} (tu límite es de {limit}). No lo volveré a bloquear este ciclo.",
}
UNBARRED_ELSEWHERE = {
    "en": "{operator}: chargeable use on {numbers} was turned back on until {end} at the "
    "account holder's request (CONTINUE). Not you? Contact support.",
    "es": "{operator}: el uso con cargo en {numbers} se reactivó hasta el {end} a petición del "
    "titular (CONTINUAR). ¿No fuiste tú? Contacta con soporte.",
}
NOTHING_BARRED = {
    "en": "Nothing is barred by your spending limit: your charges are {unbilled} of {limit}.",
    "es": "Tu límite de gasto no bloquea nada: tus cargos son {unbilled} de {limit}.",
}
NO_LIMIT = {
    "en": "You don't have a spending limit, so nothing is barred by one. Text LIMIT to set one.",
    "es": "No tienes límite de gasto, así que ninguno bloquea nada. Escribe LÍMITE para "
    "poner uno.",
}
UNAVAILABLE = {
    "en": "Spending limits aren't available for your account. Please contact support.",
    "es": "Los límites de gasto no están disponibles para tu cuenta. Contacta con soporte.",
}
ANONYMOUS = {
    "en": "I can only do that for numbers on an account. Please text from your own phone.",
    "es": "Solo puedo hacerlo para números de una cuenta. Escríbenos desde tu teléfono.",
}


class ContinueServiceIntent(Intent):
    name = "continue_service"
    training_file = TRAINING / "continue_service.yml"

    async def start(self, ctx: TurnContext) -> list[Reply]:
        if ctx.account is None:
            return [ctx.reply(ctx.say(ANONYMOUS))]
        try:
            limit = await ctx.billing.get_bill_limit(ctx.account.id, now=ctx.now)
        except InvalidRequestError:
            return [ctx.reply(ctx.say(UNAVAILABLE))]
        if limit.limit is None:
            return [ctx.reply(ctx.say(NO_LIMIT))]
        if not limit.capped_lines:
            return [ctx.reply(_values(ctx, limit, NOTHING_BARRED))]
        return [await _continue(ctx, limit)]


async def _continue(ctx: TurnContext, barred: BillLimit) -> Reply:
    assert ctx.account is not None
    actor = f"customer:{ctx.message.channel}"
    limit = await ctx.billing.continue_past_limit(ctx.account.id, actor=actor, now=ctx.now)
    numbers = ", ".join(display(number) for number in barred.capped_lines)
    notice = ctx.say(
        UNBARRED_ELSEWHERE,
        operator=ctx.settings.channels.operator_name,
        numbers=numbers,
        end=ctx.date(limit.cycle_end),
    )
    key = f"line_unbarred:{ctx.account.id}:{limit.cycle_start.isoformat()}"
    await tell_other_channels(ctx, notice, kind="line_unbarred", key=key)
    return ctx.reply(_values(ctx, limit, DONE, numbers=numbers))


def _values(ctx: TurnContext, limit: BillLimit, messages: dict[str, str], **more: str) -> str:
    assert limit.limit is not None
    return ctx.say(
        messages,
        unbilled=ctx.money(limit.unbilled),
        limit=ctx.money(limit.limit),
        end=ctx.date(limit.cycle_end),
        **more,
    )
