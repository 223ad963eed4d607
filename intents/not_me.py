"""`not_me`: the holder says a SIM change, transfer or lock change was not them (NOT ME, the
button of a security notice, "someone is trying to take my number").

With something recent to stop, it acts at once — no PIN, no question: it only reduces harm,
and a customer whose number is being taken has no time to lose (`bot.not_me` cancels, bars,
locks, opens the fraud case that asks for a callback). With nothing recent, it offers to lock
the account and open a fraud case anyway, which takes one yes.
"""

from __future__ import annotations

from datetime import datetime

from billing_client import Account, BillingClient, PortOut, SimOrder
from bot import not_me
from bot.flow import Intent, TurnContext
from bot.types import Reply
from intents.common import TRAINING, answer_is_yes, yes_no

NOTHING_RECENT = {
    "en": "I can't see any recent SIM change, number transfer or lock change on your account. "
    "If you think someone is trying to take your number, I can lock SIM changes and transfers "
    "now and ask our fraud team to call you. Shall I?",
    "es": "No veo ningún cambio de SIM, portabilidad ni cambio del bloqueo reciente en tu "
    "cuenta. Si crees que alguien intenta llevarse tu número, puedo bloquear ahora los "
    "cambios de SIM y la portabilidad y pedir a nuestro equipo de fraude que te llame. ¿Lo hago?",
}
KEPT = {
    "en": 'OK, nothing changed. If anything looks wrong later, just say "not me".',
    "es": 'De acuerdo, no he cambiado nada. Si algo te parece raro, escribe "no fui yo".',
}
YES_OR_NO = {"en": "Please answer yes or no.", "es": "Responde sí o no."}


class NotMeIntent(Intent):
    name = "not_me"
    training_file = TRAINING / "not_me.yml"

    async def start(self, ctx: TurnContext) -> list[Reply]:
        assert ctx.account is not None  # strangers are routed to the fallback
        if await has_recent(ctx.billing, ctx.account, ctx.now):
            return [await _stop(ctx)]
        ctx.state.begin(self.name, "confirm")
        return [_offer(ctx)]

    async def resume(self, ctx: TurnContext) -> list[Reply]:
        answer = answer_is_yes(ctx)
        if answer is None:
            return [ctx.reply(ctx.say(YES_OR_NO)), _offer(ctx)]
        ctx.state.finish()
        return [await _stop(ctx) if answer else ctx.reply(ctx.say(KEPT))]

    async def prompt(self, ctx: TurnContext) -> list[Reply]:
        return [_offer(ctx)]


async def has_recent(billing: BillingClient, account: Account, now: datetime) -> bool:
    """Whether "Not me" would stop something (`bot.not_me.is_recent`): the same rule, so an
    answer at once always has something in it."""
    orders = await billing.list_sim_orders(account.id)
    transfers = await billing.list_port_outs(account_id=account.id)
    items: list[SimOrder | PortOut] = [*orders, *transfers]
    return any(not_me.is_recent(item, now) for item in items)


async def _stop(ctx: TurnContext) -> Reply:
    assert ctx.account is not None
    actor = f"customer:{ctx.message.channel}"
    stopped = await not_me.stop(ctx.billing, ctx.account, reference="", actor=actor, now=ctx.now)
    return ctx.reply(not_me.summary(stopped, ctx.account, ctx.locale))


def _offer(ctx: TurnContext) -> Reply:
    return ctx.reply(ctx.say(NOTHING_RECENT), *yes_no(ctx))
