"""`bar_sim`: block a lost or stolen phone's SIM — pick the line, verify the PIN, confirm, bar.

Works from another phone too: someone the bot cannot identify is asked for the lost number and
then verified with that account's PIN. The PIN is step-up verification's light level
(`bot.stepup`): until that PIN is right, nothing they see depends on whether the number is a
customer's (`BillingClient.verify_line_pin` does the same work and counts the same way for any
number), so the flow cannot be used to find customers. See docs/flows/bar_sim.md for the state
diagram and the lock policy.
"""

from __future__ import annotations

import uuid

from billing_client import Line
from bot import i18n, stepup
from bot.flow import Intent, TurnContext
from bot.phones import PhoneError, display, normalize
from bot.stepup import local_moment, number_zone
from bot.types import Option, OutboundMessage, Reply
from intents.common import TRAINING, answer_is_yes, holder_addresses, line_label, yes_no

__all__ = ["BarSimIntent", "local_moment", "number_zone"]  # the zone helpers live in stepup

ASK_NUMBER = {
    "en": "I can block the SIM of a lost or stolen phone. What is that phone's number?",
    "es": "Puedo bloquear la SIM de un teléfono perdido o robado. ¿Cuál es su número?",
}
BAD_NUMBER = {
    "en": "That doesn't look like a phone number. Please send the full number, e.g. 202-555-0101.",
    "es": "Eso no parece un número de teléfono. Envía el número completo.",
}
WHICH_LINE = {
    "en": "Which line do you want to block?",
    "es": "¿Qué línea quieres bloquear?",
}
CONFIRM = {
    "en": (
        "Block the SIM for {line} now? Calls, texts and data will stop until it is unblocked "
        "(emergency calls still work)."
    ),
    "es": (
        "¿Bloqueamos ahora la SIM de {line}? Las llamadas, SMS y datos dejarán de funcionar "
        "hasta que se desbloquee (las llamadas de emergencia siguen funcionando)."
    ),
}
DONE = {
    "en": (
        "Done. The SIM for {number} is blocked. Reference: {reference}. To undo it or get a "
        "replacement SIM, contact support with this reference."
    ),
    "es": (
        "Hecho. La SIM de {number} está bloqueada. Referencia: {reference}. Para deshacerlo o "
        "pedir una SIM nueva, contacta con atención al cliente con esta referencia."
    ),
}
ALREADY = {
    "en": "The SIM for {number} is already blocked (reference {reference}).",
    "es": "La SIM de {number} ya está bloqueada (referencia {reference}).",
}
KEPT = {
    "en": "OK, I haven't blocked anything.",
    "es": "De acuerdo, no he bloqueado nada.",
}
YES_OR_NO = {"en": "Please answer yes or no.", "es": "Responde sí o no."}
NOTICE = {
    "en": "billbot: the SIM for {number} on your account was blocked at your request "
    "(reference {reference}). If this wasn't you, contact support right away.",
    "es": "billbot: la SIM de {number} de tu cuenta se ha bloqueado a petición tuya "
    "(referencia {reference}). Si no has sido tú, contacta con nosotros enseguida.",
}
# What a stranger's right PIN revealed about the number they named.
_PROVEN = ("account_id", "line_id", "holder", "locale", "verified_line", "verified_account")

MENU_LABEL = {"en": "Block a lost or stolen SIM", "es": "Bloquear una SIM perdida o robada"}


class BarSimIntent(Intent):
    name = "bar_sim"
    menu_label = MENU_LABEL
    training_file = TRAINING / "bar_sim.yml"
    allows_anonymous = True
    # "ask_pin": the PIN step of conversations begun before the step-up sub-flow.
    secret_steps = stepup.SECRET_STEPS | {"ask_pin"}

    async def start(self, ctx: TurnContext) -> list[Reply]:
        flow_id = uuid.uuid4().hex
        if ctx.account is None:
            ctx.state.begin(self.name, "ask_number", flow_id=flow_id, known=False)
            phone = ctx.parse.entity("phone")
            if phone is None:
                return [ctx.reply(ctx.say(ASK_NUMBER))]
            return await self._number_given(ctx, str(phone.value))
        # A known customer starts at the line choice, so "back" never asks for a number.
        ctx.state.begin(
            self.name,
            "choose_line",
            flow_id=flow_id,
            known=True,
            account_id=ctx.account.id,
            zone=ctx.account.timezone,
        )
        lines = await ctx.billing.list_lines(ctx.account.id)
        named = _line_named(ctx, lines)
        if named is not None or len(lines) == 1:
            return await self._line_chosen(ctx, named or lines[0])
        return [_choose_line(ctx, lines)]

    async def resume(self, ctx: TurnContext) -> list[Reply]:
        if stepup.owns(ctx.state):
            return await stepup.resume(ctx)
        handlers = {
            "ask_number": self._on_number,
            "choose_line": self._on_line,
            "ask_pin": self._verify,
            "confirm": self._on_confirm,
        }
        return await handlers[ctx.state.step or "ask_number"](ctx)

    async def prompt(self, ctx: TurnContext) -> list[Reply]:
        if stepup.owns(ctx.state):
            return await stepup.prompt(ctx)
        step = ctx.state.step
        if step == "choose_line":
            lines = await ctx.billing.list_lines(int(ctx.state.slots["account_id"]))
            return [_choose_line(ctx, lines)]
        if step == "confirm":  # the PIN was just proven (the sub-flow returns here)
            return await self._verified(ctx)
        return [ctx.reply(ctx.say(ASK_NUMBER))]

    # --- steps --------------------------------------------------------------------------------
    async def _on_number(self, ctx: TurnContext) -> list[Reply]:
        phone = ctx.parse.entity("phone")
        raw = str(phone.value) if phone is not None else ctx.text
        return await self._number_given(ctx, raw)

    async def _number_given(self, ctx: TurnContext, raw: str) -> list[Reply]:
        """Any valid number is asked for its PIN: whether it is a customer's stays unknown."""
        try:
            msisdn = normalize(raw, default_region=ctx.settings.default_region)
        except PhoneError:
            return [ctx.reply(ctx.say(BAD_NUMBER))]
        slots = ctx.state.slots
        for earlier in _PROVEN:  # another number now: what the last PIN proved is void
            slots.pop(earlier, None)
        slots.update(msisdn=msisdn, zone=number_zone(msisdn))
        return await self._verify(ctx)

    async def _on_line(self, ctx: TurnContext) -> list[Reply]:
        lines = await ctx.billing.list_lines(int(ctx.state.slots["account_id"]))
        line = _line_named(ctx, lines)
        if line is None:
            return [_choose_line(ctx, lines)]
        return await self._line_chosen(ctx, line)

    async def _line_chosen(self, ctx: TurnContext, line: Line) -> list[Reply]:
        ctx.state.slots.update(line_id=line.id, msisdn=line.msisdn, holder=line.holder_name)
        return await self._verify(ctx)

    async def _verify(self, ctx: TurnContext) -> list[Reply]:
        """The light check: the PIN alone, so a lost phone is barred in a few messages."""
        number = str(ctx.state.slots["msisdn"])
        return await stepup.require(
            ctx, level="light", purpose=self.name, then="confirm", number=number
        )

    async def _verified(self, ctx: TurnContext) -> list[Reply]:
        if ctx.state.slots.get("known") or "account_id" in ctx.state.slots:
            return [self._confirm(ctx)]
        return await self._stranger_verified(ctx)

    async def _stranger_verified(self, ctx: TurnContext) -> list[Reply]:
        """The PIN proved the number is theirs: now the account's language and details apply."""
        slots = ctx.state.slots
        account = await ctx.billing.get_account(int(slots["verified_account"]))
        lines = await ctx.billing.list_lines(account.id)
        line = next(line for line in lines if line.id == int(slots["verified_line"]))
        slots.update(
            account_id=account.id,
            line_id=line.id,
            msisdn=line.msisdn,
            holder=line.holder_name,
            locale=account.locale,
            zone=account.timezone,
        )
        if line.status == "barred":  # barring again only reports the existing bar
            return await self._bar(ctx)
        return [self._confirm(ctx)]

    def _confirm(self, ctx: TurnContext, prefix: str = "") -> Reply:
        slots = ctx.state.slots
        line = f"{display(slots['msisdn'])} ({slots['holder']})"
        return ctx.reply((prefix + " " + ctx.say(CONFIRM, line=line)).strip(), *yes_no(ctx))

    async def _on_confirm(self, ctx: TurnContext) -> list[Reply]:
        answer = answer_is_yes(ctx)
        if answer is None:
            return [self._confirm(ctx, ctx.say(YES_OR_NO))]
        if not answer:
            ctx.state.finish()
            return [ctx.reply(ctx.say(KEPT))]
        return await self._bar(ctx)

    async def _bar(self, ctx: TurnContext) -> list[Reply]:
        slots = ctx.state.slots
        result = await ctx.billing.bar_line(
            int(slots["line_id"]),
            reason="lost_stolen",
            idempotency_key=f"bar_sim:{slots['flow_id']}",
            actor=f"customer:{ctx.message.channel}",
            now=ctx.now,
        )
        number = display(result.line.msisdn)
        # A replay is this very request again (the turn that barred died before answering):
        # answer as the first time, and queue the holder's notice (deduplicated) again.
        ours = result.created or result.replayed
        reply = ctx.reply(
            ctx.say(DONE if ours else ALREADY, number=number, reference=result.reference)
        )
        if ours:
            await _notify_holder(
                ctx, int(slots["account_id"]), result.line.msisdn, result.reference
            )
        ctx.state.finish()  # last: the slots hold the verified stranger's language
        return [reply]


def _choose_line(ctx: TurnContext, lines: list[Line]) -> Reply:
    options = [Option(line_label(line), f"line:{line.id}") for line in lines]
    return ctx.reply(ctx.say(WHICH_LINE), *options)


def _line_named(ctx: TurnContext, lines: list[Line]) -> Line | None:
    """The line picked by option value or by a phone number in the message."""
    for line in lines:
        if ctx.text == f"line:{line.id}":
            return line
    phone = ctx.parse.entity("phone")
    if phone is None:
        return None
    return next((line for line in lines if line.msisdn == phone.value), None)


async def _notify_holder(ctx: TurnContext, account_id: int, msisdn: str, reference: str) -> None:
    """Tell the account holder by email and on every other channel they verified: their own
    line by SMS (when another line was barred) and the chats linked to their numbers. Never
    the lost phone itself, nor the conversation that asked for the bar."""
    known = ctx.account is not None and ctx.account.id == account_id
    account = ctx.account if known else await ctx.billing.get_account(account_id)
    assert account is not None
    number = display(msisdn)
    notice = Reply(text=i18n.say(NOTICE, account.locale, number=number, reference=reference))
    for channel, address in await holder_addresses(ctx, account, lost=msisdn):
        ctx.notify(
            OutboundMessage(
                channel=channel,
                address=address,
                replies=(notice,),
                kind="bar_notice",
                dedupe_key=f"bar_notice:{reference}:{channel}:{address}"[:160],
                account_id=account_id,
            )
        )
