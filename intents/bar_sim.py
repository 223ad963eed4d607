"""`bar_sim`: block a lost or stolen phone's SIM — pick the line, verify the PIN, confirm, bar.

Works from another phone too: someone the bot cannot identify is asked for the lost number and
then verified with that account's PIN. See docs/flows/bar_sim.md for the state diagram.
"""

from __future__ import annotations

import re
import uuid

from billing_client import AccountLockedError, Line, VerificationError
from bot.flow import Intent, TurnContext
from bot.phones import PhoneError, display, normalize
from bot.types import Option, OutboundMessage, Reply
from intents.common import TRAINING, answer_is_yes, line_label, yes_no

ASK_NUMBER = {
    "en": "I can block the SIM of a lost or stolen phone. What is that phone's number?",
    "es": "Puedo bloquear la SIM de un teléfono perdido o robado. ¿Cuál es su número?",
}
BAD_NUMBER = {
    "en": "That doesn't look like a phone number. Please send the full number, e.g. 202-555-0101.",
    "es": "Eso no parece un número de teléfono. Envía el número completo.",
}
NO_SUCH_LINE = {
    "en": "I couldn't find an active line with that number. Please check it and send it again.",
    "es": "No encuentro una línea activa con ese número. Revísalo y envíalo de nuevo.",
}
WHICH_LINE = {
    "en": "Which line do you want to block?",
    "es": "¿Qué línea quieres bloquear?",
}
ASK_PIN = {
    "en": "To protect your account, please enter your account PIN for {number}.",
    "es": "Para proteger tu cuenta, introduce el PIN de la cuenta de {number}.",
}
PIN_FORMAT = {
    "en": "Your PIN is 4 to 8 digits. Please send just the digits.",
    "es": "El PIN tiene de 4 a 8 dígitos. Envía solo los dígitos.",
}
WRONG_PIN = {
    "en": "That PIN isn't right. You have {left} attempt(s) left.",
    "es": "Ese PIN no es correcto. Te quedan {left} intento(s).",
}
LOCKED = {
    "en": (
        "Too many wrong PINs, so PIN checks are paused until {until}. If the phone was stolen, "
        "call support now and they will block the SIM for you."
    ),
    "es": (
        "Demasiados PIN incorrectos: las comprobaciones quedan en pausa hasta {until}. Si te han "
        "robado el teléfono, llama a atención al cliente y bloquearán la SIM."
    ),
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
_PIN = re.compile(r"\d{4,8}")

MENU_LABEL = {"en": "Block a lost or stolen SIM", "es": "Bloquear una SIM perdida o robada"}


class BarSimIntent(Intent):
    name = "bar_sim"
    menu_label = MENU_LABEL
    training_file = TRAINING / "bar_sim.yml"
    allows_anonymous = True

    async def start(self, ctx: TurnContext) -> list[Reply]:
        flow_id = uuid.uuid4().hex
        if ctx.account is None:
            ctx.state.begin(self.name, "ask_number", flow_id=flow_id)
            phone = ctx.parse.entity("phone")
            if phone is None:
                return [ctx.reply(ctx.say(ASK_NUMBER))]
            return await self._number_given(ctx, str(phone.value))
        # A known customer starts at the line choice, so "back" never asks for a number.
        ctx.state.begin(self.name, "choose_line", flow_id=flow_id, account_id=ctx.account.id)
        lines = await ctx.billing.list_lines(ctx.account.id)
        named = _line_named(ctx, lines)
        if named is not None or len(lines) == 1:
            return await self._line_chosen(ctx, named or lines[0])
        return [_choose_line(ctx, lines)]

    async def resume(self, ctx: TurnContext) -> list[Reply]:
        handlers = {
            "ask_number": self._on_number,
            "choose_line": self._on_line,
            "ask_pin": self._on_pin,
            "confirm": self._on_confirm,
        }
        return await handlers[ctx.state.step or "ask_number"](ctx)

    async def prompt(self, ctx: TurnContext) -> list[Reply]:
        step = ctx.state.step
        if step == "choose_line":
            lines = await ctx.billing.list_lines(int(ctx.state.slots["account_id"]))
            return [_choose_line(ctx, lines)]
        if step == "ask_pin":
            return [ctx.reply(ctx.say(ASK_PIN, number=display(ctx.state.slots["msisdn"])))]
        return [ctx.reply(ctx.say(ASK_NUMBER))]

    def is_secret_step(self, step: str | None) -> bool:
        return step == "ask_pin"

    # --- steps --------------------------------------------------------------------------------
    async def _on_number(self, ctx: TurnContext) -> list[Reply]:
        phone = ctx.parse.entity("phone")
        raw = str(phone.value) if phone is not None else ctx.text
        return await self._number_given(ctx, raw)

    async def _number_given(self, ctx: TurnContext, raw: str) -> list[Reply]:
        try:
            msisdn = normalize(raw, default_region=ctx.settings.default_region)
        except PhoneError:
            return [ctx.reply(ctx.say(BAD_NUMBER))]
        account = await ctx.billing.find_account_by_msisdn(msisdn)
        lines = [] if account is None else await ctx.billing.list_lines(account.id)
        line = next((ln for ln in lines if ln.msisdn == msisdn), None)
        if account is None or line is None:
            return [ctx.reply(ctx.say(NO_SUCH_LINE))]
        ctx.state.slots.update(account_id=account.id, locale=account.locale)
        return await self._line_chosen(ctx, line)

    async def _on_line(self, ctx: TurnContext) -> list[Reply]:
        lines = await ctx.billing.list_lines(int(ctx.state.slots["account_id"]))
        line = _line_named(ctx, lines)
        if line is None:
            return [_choose_line(ctx, lines)]
        return await self._line_chosen(ctx, line)

    async def _line_chosen(self, ctx: TurnContext, line: Line) -> list[Reply]:
        ctx.state.slots.update(line_id=line.id, msisdn=line.msisdn, holder=line.holder_name)
        ctx.state.goto("ask_pin")
        return [ctx.reply(ctx.say(ASK_PIN, number=display(line.msisdn)))]

    async def _on_pin(self, ctx: TurnContext) -> list[Reply]:
        pin = ctx.text.replace(" ", "")
        if not _PIN.fullmatch(pin):
            return [ctx.reply(ctx.say(PIN_FORMAT))]
        account_id = int(ctx.state.slots["account_id"])
        actor = f"{ctx.message.channel}:{ctx.message.sender}"
        try:
            await ctx.billing.verify_pin(account_id, pin, actor=actor, now=ctx.now)
        except VerificationError as exc:
            return [ctx.reply(ctx.say(WRONG_PIN, left=exc.attempts_left))]
        except AccountLockedError as exc:
            ctx.state.finish()
            return [ctx.reply(ctx.say(LOCKED, until=ctx.datetime(exc.until)))]
        ctx.state.goto("confirm")
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
        ctx.state.finish()
        number = display(result.line.msisdn)
        if not result.created:
            return [ctx.reply(ctx.say(ALREADY, number=number, reference=result.reference))]
        await _notify_holder(ctx, int(slots["account_id"]), number, result.reference)
        return [ctx.reply(ctx.say(DONE, number=number, reference=result.reference))]


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


async def _notify_holder(ctx: TurnContext, account_id: int, number: str, reference: str) -> None:
    """Tell the account holder by email: the lost phone itself can't receive a text."""
    known = ctx.account is not None and ctx.account.id == account_id
    account = ctx.account if known else await ctx.billing.get_account(account_id)
    assert account is not None
    notice = Reply(text=ctx.say(NOTICE, number=number, reference=reference))
    ctx.notify(
        OutboundMessage(
            channel="email",
            address=account.email,
            replies=(notice,),
            kind="bar_notice",
            dedupe_key=f"bar_notice:{reference}",
            account_id=account_id,
        )
    )
