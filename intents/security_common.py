"""What `sim_swap`, `port_lock` and `not_me` share: the holder's notices and the lock's words.

Notices go through `bot.security_notices` to every verified channel of the holder except the
conversation asking (which has the answer already), queued with the turn's state.
"""

from __future__ import annotations

from billing_client import Account, SecurityLock
from bot.flow import TurnContext
from bot.phones import display
from bot.security_notices import SecurityEvent, SecurityNotices

LOCKED = {
    "en": "SIM changes and number transfers are locked on your account (you turned the lock on). "
    'To order a new SIM, turn the lock off first: say "port lock".',
    "es": "Los cambios de SIM y la portabilidad están bloqueados en tu cuenta (activaste el "
    'bloqueo). Para pedir una SIM nueva, quita antes el bloqueo: escribe "bloqueo de '
    'portabilidad".',
}
LOST_LOCKED = {
    "en": "The SIM for {number} is blocked as lost or stolen, so SIM changes and transfers of "
    "that number are locked for your safety.",
    "es": "La SIM de {number} está bloqueada por pérdida o robo, así que los cambios de SIM y "
    "la portabilidad de ese número están bloqueados por tu seguridad.",
}


async def tell_holder(ctx: TurnContext, account: Account, event: SecurityEvent) -> None:
    """Queue the event's notice, with its "Not me", on the holder's other channels."""
    notices = SecurityNotices(
        billing=ctx.billing, addresses=ctx.addresses, links=ctx.links, operator=ctx.operator.name
    )
    asking = (ctx.message.channel, ctx.message.sender)
    for message in await notices.messages(account, event, skip=asking):
        ctx.notify(message)


async def lock_of(ctx: TurnContext) -> SecurityLock:
    assert ctx.account is not None  # strangers are routed to the fallback
    return await ctx.billing.security_lock(ctx.account.id)


def lost_locked(ctx: TurnContext, msisdn: str) -> str:
    return ctx.say(LOST_LOCKED, number=display(msisdn))
