"""`link_account` and `unlink_account`: tie a chat (Telegram) to a customer's phone number.

/start → "share your number" (a contact button) → the shared contact must be the sender's
own (the channel checks `contact.user_id == from.id`) → a one-time code by SMS to that number
(6 digits, 10 minutes, 5 tries; `bot.otp`: never stored) → linked. "unlink" or /stop removes
the link. A number typed in chat is never trusted. The code's step is secret: what is typed
there is never stored (`secret_steps`).

Only a customer's number gets a code; a stranger can share only their own number, so the
answer tells them nothing about anyone else.
"""

from __future__ import annotations

from datetime import datetime

from bot import otp
from bot.flow import Intent, TurnContext
from bot.menu import menu
from bot.phones import PhoneError, display, normalize
from bot.types import OutboundMessage, Reply
from intents.common import TRAINING

SHARE = {
    "en": "To use billbot here, I need to know it's you. Tap the button below to share your "
    "phone number.",
    "es": "Para usar billbot aquí necesito saber que eres tú. Pulsa el botón para compartir tu "
    "número de teléfono.",
}
SHARE_BUTTON = {"en": "Share my phone number", "es": "Compartir mi número"}
NOT_OWN = {
    "en": "Please share your own number with the button, not someone else's contact.",
    "es": "Comparte tu propio número con el botón, no el contacto de otra persona.",
}
NOT_A_CUSTOMER = {
    "en": "That number isn't on any of our accounts, so I can't link this chat. If you lost a "
    'phone, type "lost phone".',
    "es": "Ese número no está en ninguna de nuestras cuentas. Si perdiste un teléfono, escribe "
    '"teléfono perdido".',
}
CODE_SENT = {
    "en": "I've sent a 6-digit code by SMS to {number}. Type it here (it works for 10 minutes).",
    "es": "Te he enviado un código de 6 cifras por SMS al {number}. Escríbelo aquí (vale 10 "
    "minutos).",
}
CODE_SMS = {
    "en": "Your billbot code is {code}. It links your chat to your account. Never share it.",
    "es": "Tu código de billbot es {code}. Vincula tu chat a tu cuenta. No lo compartas.",
}
WRONG = {
    "en": "That code isn't right. Tries left: {left}.",
    "es": "Ese código no es correcto. Intentos restantes: {left}.",
}
TOO_MANY = {
    "en": "That was the last try. Send /start to get a new code.",
    "es": "Era el último intento. Envía /start para recibir un código nuevo.",
}
EXPIRED = {
    "en": "That code has expired. Send /start to get a new one.",
    "es": "Ese código ha caducado. Envía /start para recibir otro.",
}
LINKED = {
    "en": "Done, this chat is linked to your account, {name}.",
    "es": "Listo, este chat está vinculado a tu cuenta, {name}.",
}
ALREADY = {
    "en": "This chat is already linked to your account.",
    "es": "Este chat ya está vinculado a tu cuenta.",
}
UNLINKED = {
    "en": "Done, this chat is no longer linked to your account. Send /start to link it again.",
    "es": "Listo, este chat ya no está vinculado a tu cuenta. Envía /start para vincularlo.",
}
NOT_LINKED = {
    "en": "This chat isn't linked to any account.",
    "es": "Este chat no está vinculado a ninguna cuenta.",
}
UNAVAILABLE = {
    "en": "Linking isn't available here. Please text us from your phone.",
    "es": "Aquí no se puede vincular. Escríbenos desde tu teléfono.",
}
TEXTS_OFF = {
    "en": "Texts to {number} are turned off (it replied STOP), so I can't send it a code. Text "
    "START to our number from that phone, then send /start here.",
    "es": "Los SMS al {number} están desactivados (respondió BAJA), así que no puedo enviarle "
    "un código. Envía START a nuestro número desde ese teléfono y luego /start aquí.",
}
CODE_KIND = "link_code"
CODE_CHANNEL = "sms"  # the one-time code goes by text message to the shared number


class LinkAccountIntent(Intent):
    name = "link_account"
    allows_anonymous = True
    training_file = TRAINING / "link_account.yml"
    secret_steps = frozenset({"code"})

    async def start(self, ctx: TurnContext) -> list[Reply]:
        if ctx.account is not None and await _linked_here(ctx):
            return [ctx.reply(ctx.say(ALREADY)), menu(ctx)]
        if ctx.addresses is None or ctx.codes is None:
            return [ctx.reply(ctx.say(UNAVAILABLE))]
        ctx.state.begin(self.name, "contact")
        return await self.resume(ctx)

    async def resume(self, ctx: TurnContext) -> list[Reply]:
        if ctx.state.step == "code":
            return await self._on_code(ctx)
        return await self._on_contact(ctx)

    async def prompt(self, ctx: TurnContext) -> list[Reply]:
        return [_share_request(ctx)]

    async def _on_contact(self, ctx: TurnContext) -> list[Reply]:
        payload = ctx.message.payload
        if payload.get("contact_not_own"):
            return [_share_request(ctx, NOT_OWN)]
        raw = payload.get("contact_phone")
        if not raw:
            return [_share_request(ctx)]
        try:
            msisdn = normalize(str(raw), default_region=ctx.settings.default_region)
        except PhoneError:
            return [_share_request(ctx, NOT_OWN)]
        if await ctx.billing.find_account_by_msisdn(msisdn) is None:
            ctx.state.finish()
            return [ctx.reply(ctx.say(NOT_A_CUSTOMER))]
        assert ctx.addresses is not None
        if not await ctx.addresses.reachable(CODE_CHANNEL, msisdn):
            ctx.state.finish()  # the code would never arrive: texts to it are turned off
            return [ctx.reply(ctx.say(TEXTS_OFF, number=display(msisdn)))]
        return [self._send_code(ctx, msisdn)]

    def _send_code(self, ctx: TurnContext, msisdn: str) -> Reply:
        reference = otp.OneTimeCodes.new_reference()
        ctx.state.goto("code")
        ctx.state.slots.update(
            msisdn=msisdn, reference=reference, issued_at=ctx.now.isoformat(), tries=0
        )
        ctx.notify(
            OutboundMessage(
                channel=CODE_CHANNEL,
                address=msisdn,
                replies=(Reply(text=ctx.say(CODE_SMS, code=otp.placeholder(reference))),),
                kind=CODE_KIND,
                dedupe_key=f"{CODE_KIND}:{reference}",
            )
        )
        return ctx.reply(ctx.say(CODE_SENT, number=display(msisdn)))

    async def _on_code(self, ctx: TurnContext) -> list[Reply]:
        slots = ctx.state.slots
        if ctx.now - datetime.fromisoformat(str(slots["issued_at"])) > otp.TTL:
            ctx.state.finish()
            return [ctx.reply(ctx.say(EXPIRED))]
        assert ctx.codes is not None and ctx.addresses is not None
        if not ctx.codes.matches(str(slots["reference"]), ctx.message.text):
            return [self._wrong(ctx)]
        msisdn = str(slots["msisdn"])
        await ctx.addresses.link(ctx.message.channel, ctx.message.sender, msisdn, now=ctx.now)
        account = await ctx.billing.find_account_by_msisdn(msisdn)
        ctx.state.finish()
        name = account.name.split()[0] if account is not None else ""
        return [ctx.reply(ctx.say(LINKED, name=name)), menu(ctx)]

    def _wrong(self, ctx: TurnContext) -> Reply:
        tries = int(ctx.state.slots.get("tries", 0)) + 1
        ctx.state.slots["tries"] = tries
        if tries >= otp.MAX_TRIES:
            ctx.state.finish()
            return ctx.reply(ctx.say(TOO_MANY))
        return ctx.reply(ctx.say(WRONG, left=otp.MAX_TRIES - tries))


class UnlinkAccountIntent(Intent):
    name = "unlink_account"
    allows_anonymous = True
    training_file = TRAINING / "unlink_account.yml"

    async def start(self, ctx: TurnContext) -> list[Reply]:
        if ctx.addresses is None:
            return [ctx.reply(ctx.say(NOT_LINKED))]
        removed = await ctx.addresses.unlink(ctx.message.channel, ctx.message.sender)
        return [ctx.reply(ctx.say(UNLINKED if removed else NOT_LINKED))]


async def _linked_here(ctx: TurnContext) -> bool:
    """The chat itself is linked (not merely acting as a number, like SMS)."""
    if ctx.addresses is None:
        return False
    return await ctx.addresses.phone_of(ctx.message.channel, ctx.message.sender) is not None


def _share_request(ctx: TurnContext, messages: dict[str, str] | None = None) -> Reply:
    text = ctx.say(messages or SHARE)
    return Reply(text=text, request_contact=True, link_label=ctx.say(SHARE_BUTTON))
