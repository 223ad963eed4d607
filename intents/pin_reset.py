"""`pin_reset`: a new account PIN after strong verification (`bot.stepup`) and a confirmation,
typed twice; the holder is told on their other channels.

Neither PIN typed here is ever stored or shown: both steps are secret (the turn store keeps a
placeholder), and between the two messages the flow keeps only a seal of the first — an HMAC
under the app's secret and this flow's id — to compare the second against. The billing core
checks the rules again (`billing_client.pin_rules`), hashes the PIN, clears the wrong-PIN
counters and audits the change without it. See docs/flows/pin_reset.md.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid

from billing_client.pin_rules import PinProblem, pin_problem
from bot import stepup
from bot.flow import Intent, TurnContext
from bot.types import Reply
from intents.common import TRAINING, answer_is_yes, tell_other_channels, yes_no

CONFIRM = {
    "en": "Change your account PIN? Your current PIN stops working as soon as the new one is "
    "set, and you'll need the new one to block a SIM or to talk to support.",
    "es": "¿Cambiamos el PIN de tu cuenta? El PIN actual deja de funcionar en cuanto pongas el "
    "nuevo, y necesitarás el nuevo para bloquear una SIM o hablar con atención al cliente.",
}
ASK_NEW = {
    "en": "Type your new PIN: 4 to 8 digits, not one digit repeated and not a run like 1234. "
    "I won't show it back.",
    "es": "Escribe tu PIN nuevo: de 4 a 8 dígitos, sin repetir un solo dígito y sin series "
    "como 1234. No lo mostraré.",
}
ASK_AGAIN = {
    "en": "Type the new PIN once more to confirm it.",
    "es": "Escribe el PIN nuevo otra vez para confirmarlo.",
}
RULES: dict[PinProblem, dict[str, str]] = {
    "format": {
        "en": "A PIN is 4 to 8 digits, nothing else. Please type your new PIN.",
        "es": "El PIN son de 4 a 8 dígitos, nada más. Escribe tu PIN nuevo.",
    },
    "repeated": {
        "en": "One digit repeated is too easy to guess. Please choose another PIN.",
        "es": "Un solo dígito repetido es muy fácil de adivinar. Elige otro PIN.",
    },
    "run": {
        "en": "A run like 1234 or 4321 is too easy to guess. Please choose another PIN.",
        "es": "Una serie como 1234 o 4321 es muy fácil de adivinar. Elige otro PIN.",
    },
}
MISMATCH = {
    "en": "The two PINs don't match. Let's start again: type your new PIN.",
    "es": "Los dos PIN no coinciden. Empecemos de nuevo: escribe tu PIN nuevo.",
}
GAVE_UP = {
    "en": "The PINs didn't match again, so I've stopped. Your PIN stays as it was.",
    "es": "Los PIN no han coincidido otra vez, así que lo dejo. Tu PIN sigue igual.",
}
DONE = {
    "en": "Done. Your account PIN is changed. Keep it to yourself: nobody from our team will "
    "ask you for it.",
    "es": "Hecho. El PIN de tu cuenta ha cambiado. No se lo digas a nadie: nadie de nuestro "
    "equipo te lo pedirá.",
}
KEPT = {
    "en": "OK, your PIN stays as it was.",
    "es": "De acuerdo, tu PIN sigue igual.",
}
YES_OR_NO = {"en": "Please answer yes or no.", "es": "Responde sí o no."}
NOTICE = {
    "en": "{operator}: your account PIN was changed. Not you? Call {phone} right away.",
    "es": "{operator}: se ha cambiado el PIN de tu cuenta. ¿No has sido tú? Llama enseguida "
    "al {phone}.",
}
MAX_MISMATCHES = 2


class PinResetIntent(Intent):
    name = "pin_reset"
    training_file = TRAINING / "pin_reset.yml"
    secret_steps = stepup.SECRET_STEPS | {"new_pin", "repeat_pin"}

    async def start(self, ctx: TurnContext) -> list[Reply]:
        forgot = stepup.forgot_pin(ctx)  # changing it here needs the current one
        if forgot is not None:
            return [forgot]
        ctx.state.begin(self.name, "confirm", flow_id=uuid.uuid4().hex)
        return await stepup.require(ctx, level="strong", purpose=self.name, then="confirm")

    async def resume(self, ctx: TurnContext) -> list[Reply]:
        if stepup.owns(ctx.state):
            return await stepup.resume(ctx)
        handlers = {
            "confirm": self._on_confirm,
            "new_pin": self._on_new_pin,
            "repeat_pin": self._on_repeat,
        }
        return await handlers[ctx.state.step or "confirm"](ctx)

    async def prompt(self, ctx: TurnContext) -> list[Reply]:
        if stepup.owns(ctx.state):
            return await stepup.prompt(ctx)
        if ctx.state.step == "confirm":
            return [ctx.reply(ctx.say(CONFIRM), *yes_no(ctx))]
        ctx.state.goto("new_pin")  # "back" from the second PIN asks for the first again
        return [ctx.reply(ctx.say(ASK_NEW))]

    # --- steps --------------------------------------------------------------------------------
    async def _on_confirm(self, ctx: TurnContext) -> list[Reply]:
        answer = answer_is_yes(ctx)
        if answer is None:
            text = f"{ctx.say(YES_OR_NO)} {ctx.say(CONFIRM)}"
            return [ctx.reply(text, *yes_no(ctx))]
        if not answer:
            ctx.state.finish()
            return [ctx.reply(ctx.say(KEPT))]
        ctx.state.goto("new_pin")
        return [ctx.reply(ctx.say(ASK_NEW))]

    async def _on_new_pin(self, ctx: TurnContext) -> list[Reply]:
        pin = ctx.text.replace(" ", "")
        problem = pin_problem(pin)
        if problem is not None:
            return self._refused(ctx, problem)
        ctx.state.slots["sealed"] = _seal(ctx, pin)
        ctx.state.goto("repeat_pin")
        return [ctx.reply(ctx.say(ASK_AGAIN))]

    def _refused(self, ctx: TurnContext, problem: PinProblem) -> list[Reply]:
        if problem == "format" and answer_is_yes(ctx) is False:  # "no", "never mind"
            ctx.state.finish()
            return [ctx.reply(ctx.say(KEPT))]
        return [ctx.reply(ctx.say(RULES[problem]))]

    async def _on_repeat(self, ctx: TurnContext) -> list[Reply]:
        slots = ctx.state.slots
        pin = ctx.text.replace(" ", "")
        sealed = str(slots.pop("sealed", ""))
        if not hmac.compare_digest(_seal(ctx, pin), sealed):
            return self._mismatch(ctx)
        assert ctx.account is not None
        await ctx.billing.set_pin(
            ctx.account.id,
            pin,
            actor=f"customer:{ctx.message.channel}",
            now=ctx.now,
            idempotency_key=f"pin_reset:{slots['flow_id']}",
        )
        notice = ctx.say(NOTICE, operator=ctx.operator.name, phone=ctx.operator.support.phone)
        await tell_other_channels(ctx, notice, kind="pin_changed", key=str(slots["flow_id"]))
        ctx.state.finish()
        return [ctx.reply(ctx.say(DONE))]

    def _mismatch(self, ctx: TurnContext) -> list[Reply]:
        misses = int(ctx.state.slots.get("mismatches", 0)) + 1
        if misses >= MAX_MISMATCHES:
            ctx.state.finish()
            return [ctx.reply(ctx.say(GAVE_UP))]
        ctx.state.slots["mismatches"] = misses
        ctx.state.goto("new_pin")
        return [ctx.reply(ctx.say(MISMATCH))]


def _seal(ctx: TurnContext, pin: str) -> str:
    """What the flow keeps of the first PIN: useless without the app's secret."""
    key = hashlib.sha256(b"billbot pin reset\0" + ctx.settings.secret_key.encode()).digest()
    message = f"{ctx.state.slots['flow_id']}\0{pin}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()
