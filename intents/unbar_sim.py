"""`unbar_sim`: lift a bar the customer or the spending cap put on a line, after strong
verification (`bot.stepup`), a confirmation, and with the holder told on their other channels.

A line barred as lost or stolen is not unbarred from chat: whoever asks may be holding the
stolen phone's details. The customer is offered a replacement SIM instead — a support ticket
for now (one per bar), which a person handles after checking their identity. See
docs/flows/unbar_sim.md for the state diagram.
"""

from __future__ import annotations

import uuid

from billing_client import InvalidRequestError, Line
from bot import stepup
from bot.flow import Intent, TurnContext
from bot.phones import display
from bot.types import Option, Reply
from intents.common import TRAINING, answer_is_yes, line_label, tell_other_channels, yes_no
from intents.plan_common import line_named
from intents.replacement import replacement_text, replacement_ticket

NONE_BARRED = {
    "en": "None of your lines is blocked, so there's nothing to unblock.",
    "es": "Ninguna de tus líneas está bloqueada, así que no hay nada que desbloquear.",
}
NOT_BARRED = {
    "en": "The SIM for {number} isn't blocked, so there's nothing to unblock.",
    "es": "La SIM de {number} no está bloqueada, así que no hay nada que desbloquear.",
}
WHICH_LINE = {
    "en": "Which line do you want to unblock?",
    "es": "¿Qué línea quieres desbloquear?",
}
LOST = {
    "en": "The SIM for {line} was blocked as lost or stolen ({reference}), so it stays blocked "
    "for your safety: anyone holding it could use your line. I can ask our team for a "
    "replacement SIM for the same number. Shall I?",
    "es": "La SIM de {line} se bloqueó por pérdida o robo ({reference}), así que sigue "
    "bloqueada por tu seguridad: quien la tenga podría usar tu línea. Puedo pedir a nuestro "
    "equipo una SIM nueva con el mismo número. ¿Lo hago?",
}
NO_REPLACEMENT = {
    "en": "OK. The SIM for {number} stays blocked.",
    "es": "De acuerdo. La SIM de {number} sigue bloqueada.",
}
CONFIRM = {
    "en": "Unblock the SIM for {line} now? Calls, texts and data work again at once, and "
    "usage is charged as usual.",
    "es": "¿Desbloqueamos ahora la SIM de {line}? Las llamadas, SMS y datos vuelven a "
    "funcionar al momento, y el consumo se cobra como siempre.",
}
CONFIRM_CAP = {
    "en": "Unblock the SIM for {line} now? It was blocked because your spending limit was "
    "reached: unblocking lets charges go past the limit on all your lines until {end}.",
    "es": "¿Desbloqueamos ahora la SIM de {line}? Se bloqueó porque llegaste a tu límite de "
    "gasto: al desbloquearla, los cargos pueden superar el límite en todas tus líneas hasta "
    "el {end}.",
}
DONE = {
    "en": "Done. The SIM for {number} works again (bar {reference} lifted).",
    "es": "Hecho. La SIM de {number} vuelve a funcionar (bloqueo {reference} retirado).",
}
NOTHING_TO_LIFT = {
    "en": "The SIM for {number} isn't blocked any more, so there was nothing to unblock.",
    "es": "La SIM de {number} ya no está bloqueada, así que no había nada que desbloquear.",
}
KEPT = {
    "en": "OK, I haven't unblocked anything.",
    "es": "De acuerdo, no he desbloqueado nada.",
}
YES_OR_NO = {"en": "Please answer yes or no.", "es": "Responde sí o no."}
NOTICE = {
    "en": "{operator}: the SIM for {number} on your account was unblocked (bar {reference} "
    "lifted). Not you? Call {phone} right away.",
    "es": "{operator}: se ha desbloqueado la SIM de {number} de tu cuenta (bloqueo "
    "{reference} retirado). ¿No has sido tú? Llama enseguida al {phone}.",
}


class UnbarSimIntent(Intent):
    name = "unbar_sim"
    training_file = TRAINING / "unbar_sim.yml"
    secret_steps = stepup.SECRET_STEPS

    async def start(self, ctx: TurnContext) -> list[Reply]:
        assert ctx.account is not None  # strangers are routed to the fallback
        lines = await ctx.billing.list_lines(ctx.account.id)
        barred = [line for line in lines if line.status == "barred"]
        named = line_named(ctx, lines)
        if named is not None and named.status != "barred":
            return [ctx.reply(ctx.say(NOT_BARRED, number=display(named.msisdn)))]
        if not barred:
            return [ctx.reply(ctx.say(NONE_BARRED))]
        ctx.state.begin(self.name, "choose_line", flow_id=uuid.uuid4().hex)
        if named is not None or len(barred) == 1:
            return await self._line_chosen(ctx, named or barred[0])
        return [_choose_line(ctx, barred)]

    async def resume(self, ctx: TurnContext) -> list[Reply]:
        if stepup.owns(ctx.state):
            return await stepup.resume(ctx)
        handlers = {
            "choose_line": self._on_line,
            "replacement": self._on_replacement,
            "confirm": self._on_confirm,
        }
        return await handlers[ctx.state.step or "choose_line"](ctx)

    async def prompt(self, ctx: TurnContext) -> list[Reply]:
        if stepup.owns(ctx.state):
            return await stepup.prompt(ctx)
        if ctx.state.step == "confirm":
            return [await self._confirm(ctx)]
        if ctx.state.step == "replacement":
            return [self._lost(ctx)]
        return [_choose_line(ctx, await _barred_lines(ctx))]

    # --- steps --------------------------------------------------------------------------------
    async def _on_line(self, ctx: TurnContext) -> list[Reply]:
        barred = await _barred_lines(ctx)
        line = line_named(ctx, barred)
        if line is None:
            return [_choose_line(ctx, barred)]
        return await self._line_chosen(ctx, line)

    async def _line_chosen(self, ctx: TurnContext, line: Line) -> list[Reply]:
        bar = await ctx.billing.line_bar(line.id)
        if bar is None:
            ctx.state.finish()
            return [ctx.reply(ctx.say(NOT_BARRED, number=display(line.msisdn)))]
        ctx.state.slots.update(
            line_id=line.id, msisdn=line.msisdn, holder=line.holder_name, bar=bar.reference
        )
        if bar.kind == "lost_stolen":
            ctx.state.goto("replacement")
            return [self._lost(ctx)]
        ctx.state.slots["kind"] = bar.kind
        return await stepup.require(
            ctx, level="strong", purpose=self.name, then="confirm", number=line.msisdn
        )

    def _lost(self, ctx: TurnContext) -> Reply:
        slots = ctx.state.slots
        text = ctx.say(LOST, line=_label(slots), reference=slots["bar"])
        return ctx.reply(text, *yes_no(ctx))

    async def _on_replacement(self, ctx: TurnContext) -> list[Reply]:
        answer = answer_is_yes(ctx)
        if answer is None:
            return [ctx.reply(ctx.say(YES_OR_NO)), self._lost(ctx)]
        number = display(str(ctx.state.slots["msisdn"]))
        if not answer:
            ctx.state.finish()
            return [ctx.reply(ctx.say(NO_REPLACEMENT, number=number))]
        slots = ctx.state.slots
        msisdn = str(slots["msisdn"])
        ticket = await replacement_ticket(ctx, int(slots["line_id"]), msisdn, str(slots["bar"]))
        ctx.state.finish()
        return [ctx.reply(replacement_text(ctx, ticket, msisdn))]

    async def _confirm(self, ctx: TurnContext, prefix: str = "") -> Reply:
        slots = ctx.state.slots
        if slots.get("kind") == "spend_cap":
            assert ctx.account is not None
            limit = await ctx.billing.get_bill_limit(ctx.account.id, now=ctx.now)
            text = ctx.say(CONFIRM_CAP, line=_label(slots), end=ctx.date(limit.cycle_end))
        else:
            text = ctx.say(CONFIRM, line=_label(slots))
        return ctx.reply(f"{prefix} {text}".strip(), *yes_no(ctx))

    async def _on_confirm(self, ctx: TurnContext) -> list[Reply]:
        answer = answer_is_yes(ctx)
        if answer is None:
            return [await self._confirm(ctx, ctx.say(YES_OR_NO))]
        if not answer:
            ctx.state.finish()
            return [ctx.reply(ctx.say(KEPT))]
        return await self._unbar(ctx)

    async def _unbar(self, ctx: TurnContext) -> list[Reply]:
        slots = ctx.state.slots
        try:
            result = await ctx.billing.unbar_line(
                int(slots["line_id"]),
                actor=f"customer:{ctx.message.channel}",
                idempotency_key=f"unbar_sim:{slots['flow_id']}",
                now=ctx.now,
            )
        except InvalidRequestError:  # barred as lost or stolen since the customer chose it
            ctx.state.goto("replacement")
            return [self._lost(ctx)]
        number = display(result.line.msisdn)
        ctx.state.finish()
        if not result.reference:
            return [ctx.reply(ctx.say(NOTHING_TO_LIFT, number=number))]
        await _tell_holder(ctx, number, result.reference)
        return [ctx.reply(ctx.say(DONE, number=number, reference=result.reference))]


async def _tell_holder(ctx: TurnContext, number: str, reference: str) -> None:
    """Every other verified channel of the holder hears of it at once ("Not you? Call …")."""
    text = ctx.say(
        NOTICE,
        operator=ctx.operator.name,
        number=number,
        reference=reference,
        phone=ctx.operator.support.phone,
    )
    await tell_other_channels(ctx, text, kind="unbar_notice", key=reference)


async def _barred_lines(ctx: TurnContext) -> list[Line]:
    assert ctx.account is not None
    lines = await ctx.billing.list_lines(ctx.account.id)
    return [line for line in lines if line.status == "barred"]


def _label(slots: dict[str, object]) -> str:
    return f"{display(str(slots['msisdn']))} ({slots['holder']})"


def _choose_line(ctx: TurnContext, lines: list[Line]) -> Reply:
    options = [Option(line_label(line), f"line:{line.id}") for line in lines]
    return ctx.reply(ctx.say(WHICH_LINE), *options)
