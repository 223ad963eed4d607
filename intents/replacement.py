"""A replacement SIM for a line barred as lost or stolen: a support ticket, one per bar.

Such a line is locked against SIM changes in chat (`billing_client.sim_security`): whoever
asks may be holding the stolen phone's details, so a person checks the customer's identity
before issuing the SIM. `unbar_sim` and `sim_swap` both offer it.
"""

from __future__ import annotations

from billing_client import Ticket
from bot.flow import TurnContext
from bot.phones import display

REPLACEMENT = {
    "en": "Done: ticket {ticket} asks our team for a replacement SIM for {number}. They will "
    "check your identity and arrange it; the old SIM stays blocked. Found the phone? Tell "
    "them when they contact you.",
    "es": "Hecho: la incidencia {ticket} pide a nuestro equipo una SIM nueva para {number}. "
    "Comprobarán tu identidad y la prepararán; la SIM antigua sigue bloqueada. ¿Has "
    "encontrado el teléfono? Díselo cuando te contacten.",
}
REPLACEMENT_ASKED = {
    "en": "You've already asked for a replacement SIM for {number}: ticket {ticket}. Our team "
    "will contact you.",
    "es": "Ya has pedido una SIM nueva para {number}: incidencia {ticket}. Nuestro equipo te "
    "contactará.",
}


async def replacement_ticket(ctx: TurnContext, line_id: int, msisdn: str, bar: str) -> Ticket:
    """One ticket per bar, however often (and from whichever flow) the customer asks."""
    assert ctx.account is not None
    return await ctx.billing.create_ticket(
        ctx.account.id,
        subject=f"Replacement SIM for {msisdn}",
        description=(
            f"The SIM for {msisdn} is barred as lost or stolen ({bar}). The customer asked in "
            "chat for a replacement SIM. Their identity was not checked in chat: check it "
            "before issuing a SIM. If they found the phone, the same checks apply before the "
            "bar is lifted."
        ),
        channel=ctx.message.channel,
        idempotency_key=f"replacement_sim:{line_id}:{bar}",
        now=ctx.now,
    )


def replacement_text(ctx: TurnContext, ticket: Ticket, msisdn: str) -> str:
    text = REPLACEMENT if ticket.created else REPLACEMENT_ASKED
    return ctx.say(text, ticket=ticket.reference, number=display(msisdn))
