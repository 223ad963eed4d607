"""`bar_sim`: block a lost or stolen phone's SIM — pick the line, verify the PIN, confirm, bar.

Works from another phone too: someone the bot cannot identify is asked for the lost number and
then verified with that account's PIN. Until that PIN is right, nothing they see depends on
whether the number is a customer's (`BillingClient.verify_line_pin` does the same work and
counts the same way for any number), so the flow cannot be used to find customers. See
docs/flows/bar_sim.md for the state diagram and the lock policy.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

import phonenumbers
from babel.dates import format_date, format_time
from phonenumbers import timezone as phone_zones

from billing_client import (
    AccountLockedError,
    Line,
    PinChecksPausedError,
    VerificationError,
)
from bot import i18n
from bot.flow import Intent, TurnContext
from bot.phones import PhoneError, display, mask, normalize
from bot.types import Option, OutboundMessage, Reply
from intents.common import TRAINING, answer_is_yes, holder_addresses, line_label, yes_no

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
ASK_PIN = {
    "en": "To protect your account, please enter your account PIN for {number}.",
    "es": "Para proteger tu cuenta, introduce el PIN de la cuenta de {number}.",
}
PIN_FORMAT = {
    "en": "Your PIN is 4 to 8 digits. Please send just the digits.",
    "es": "El PIN tiene de 4 a 8 dígitos. Envía solo los dígitos.",
}
WRONG_PIN = {
    "en": {
        "one": "That PIN isn't right. You have {count} attempt left.",
        "other": "That PIN isn't right. You have {count} attempts left.",
    },
    "es": {
        "one": "Ese PIN no es correcto. Te queda {count} intento.",
        "other": "Ese PIN no es correcto. Te quedan {count} intentos.",
    },
}
LOCKED = {
    "en": (
        "Too many wrong PINs, so I can't check a PIN for {number} from here until {until}. "
        "If the phone was stolen, call support now and they will block the SIM for you."
    ),
    "es": (
        "Demasiados PIN incorrectos: no puedo comprobar un PIN de {number} desde aquí hasta "
        "{until}. Si te han robado el teléfono, llama a atención al cliente y bloquearán "
        "la SIM."
    ),
}
PAUSED = {
    "en": (
        "For your security, PIN checks for {number} are paused until {until} after too many "
        "wrong PINs, and a person from our support team will follow up. If the phone was "
        "stolen, call support now and they will block the SIM for you."
    ),
    "es": (
        "Por seguridad, las comprobaciones de PIN de {number} quedan en pausa hasta "
        "{until} por demasiados PIN incorrectos, y una persona de atención al cliente se "
        "pondrá en contacto. Si te han robado el teléfono, llama a atención al cliente y "
        "bloquearán la SIM."
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
LOCK_NOTICE = {
    "en": "billbot: 5 wrong PINs for your account were entered from {requester} while trying "
    "to block {number}, so PIN checks from there are locked until {until}. Your own phone can "
    "still use your PIN. If this wasn't you, your account is safe, but call support if you "
    "think someone knows your details.",
    "es": "billbot: se han introducido 5 PIN incorrectos de tu cuenta desde {requester} al "
    "intentar bloquear {number}, así que las comprobaciones de PIN desde allí quedan "
    "bloqueadas hasta {until}. Tu propio teléfono puede seguir usando tu PIN. Si no has "
    "sido tú, tu cuenta está a salvo, pero llámanos si crees que alguien conoce tus datos.",
}
PAUSE_NOTICE = {
    "en": "billbot: after too many wrong PINs for your account today (the last from "
    "{requester}), PIN checks are paused for everyone until {until}. A person from our team "
    "will contact you about ticket {ticket}. If you need a SIM blocked now, call support.",
    "es": "billbot: tras demasiados PIN incorrectos de tu cuenta hoy (el último desde "
    "{requester}), las comprobaciones de PIN quedan en pausa para todos hasta {until}. "
    "Una persona de nuestro equipo te contactará por la incidencia {ticket}. Si necesitas "
    "bloquear una SIM ahora, llama a atención al cliente.",
}
CHANNEL_NAMES = {
    "sms": {"en": "SMS", "es": "SMS"},
    "whatsapp": {"en": "WhatsApp", "es": "WhatsApp"},
    "telegram": {"en": "Telegram", "es": "Telegram"},
    "web": {"en": "the web chat", "es": "el chat web"},
    "console": {"en": "the console", "es": "la consola"},
}
_PIN = re.compile(r"\d{4,8}")
# Channels whose sender is a phone number (shown masked in a notice to the holder).
_PHONE_CHANNELS = frozenset({"sms", "whatsapp", "console"})

MENU_LABEL = {"en": "Block a lost or stolen SIM", "es": "Bloquear una SIM perdida o robada"}


class BarSimIntent(Intent):
    name = "bar_sim"
    menu_label = MENU_LABEL
    training_file = TRAINING / "bar_sim.yml"
    allows_anonymous = True
    secret_steps = frozenset({"ask_pin"})

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
        ctx.state.slots.update(msisdn=msisdn, zone=number_zone(msisdn))
        ctx.state.goto("ask_pin")
        return [ctx.reply(ctx.say(ASK_PIN, number=display(msisdn)))]

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
        try:
            line = await _verify(ctx, pin)
        except VerificationError as exc:
            return [ctx.reply(ctx.plural(WRONG_PIN, exc.attempts_left))]
        except AccountLockedError as exc:
            return [_locked(ctx, exc)]
        if line is None:  # a known customer's own line, chosen from the list
            ctx.state.goto("confirm")
            return [self._confirm(ctx)]
        return await self._stranger_verified(ctx, line)

    async def _stranger_verified(self, ctx: TurnContext, line: Line) -> list[Reply]:
        """The PIN proved the number is theirs: now the account's language and details apply."""
        account = await ctx.billing.get_account(line.account_id)
        ctx.state.slots.update(
            account_id=account.id,
            line_id=line.id,
            msisdn=line.msisdn,
            holder=line.holder_name,
            locale=account.locale,
            zone=account.timezone,
        )
        if line.status == "barred":  # barring again only reports the existing bar
            return await self._bar(ctx)
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


async def _verify(ctx: TurnContext, pin: str) -> Line | None:
    """Check the PIN for this requester; the stranger's line once it is right, else None."""
    slots = ctx.state.slots
    requester = f"{ctx.message.channel}:{ctx.message.sender}"
    if slots.get("known"):
        account_id = int(slots["account_id"])
        await ctx.billing.verify_pin(account_id, pin, actor=requester, now=ctx.now)
        return None
    msisdn = str(slots["msisdn"])
    return await ctx.billing.verify_line_pin(msisdn, pin, requester=requester, now=ctx.now)


def _locked(ctx: TurnContext, error: AccountLockedError) -> Reply:
    """The lock (or the daily pause) as the requester reads it; the holder is told by email."""
    slots = ctx.state.slots
    number = display(str(slots["msisdn"]))
    until = local_moment(error.until, str(slots["zone"]), ctx.locale, now=ctx.now)
    paused = isinstance(error, PinChecksPausedError)
    if error.holder is not None:
        _notify_lock(ctx, error, number)
    ctx.state.finish()
    return ctx.reply(ctx.say(PAUSED if paused else LOCKED, number=number, until=until))


def _notify_lock(ctx: TurnContext, error: AccountLockedError, number: str) -> None:
    """Email the holder about the lock; its id keeps it to one notice per lock.

    Queued on every refused attempt, not only the one that caused the lock: the outbox keeps
    one message per dedupe key, and a turn that crashed after the lock still gets it sent.
    """
    holder = error.holder
    assert holder is not None
    until = local_moment(error.until, holder.timezone, holder.locale, now=ctx.now)
    values = {"number": number, "requester": _requester(ctx, holder.locale), "until": until}
    if isinstance(error, PinChecksPausedError):
        kind = "pin_paused"
        text = i18n.say(
            PAUSE_NOTICE, holder.locale, ticket=error.ticket_reference or "-", **values
        )
    else:
        kind, text = "pin_locked", i18n.say(LOCK_NOTICE, holder.locale, **values)
    ctx.notify(
        OutboundMessage(
            channel="email",
            address=holder.email,
            replies=(Reply(text=text),),
            kind=kind,
            dedupe_key=f"{kind}:{error.lock_id}",
            account_id=holder.id,
        )
    )


def _requester(ctx: TurnContext, locale: str) -> str:
    """Where the attempts came from, for the holder: the channel and a masked phone number."""
    channel = ctx.message.channel
    name = i18n.say(CHANNEL_NAMES.get(channel, {"en": channel}), locale)
    if channel not in _PHONE_CHANNELS:
        return name
    try:
        return f"{name} {mask(normalize(ctx.message.sender))}"
    except PhoneError:
        return name


def number_zone(msisdn: str) -> str:
    """The time zone of the number's area ("America/New_York" for +1 202 …), else "UTC".

    A stranger's lock message is shown in this zone, not the account's: telling someone who
    has not proven the PIN where a customer lives would also tell them the number is one.
    """
    zones = phone_zones.time_zones_for_number(phonenumbers.parse(msisdn))
    if len(zones) == 1 and zones[0] != "Etc/Unknown":
        return str(zones[0])
    return "UTC"


def local_moment(moment: datetime, zone: str, locale: str, *, now: datetime) -> str:
    """ "4:05 PM (America/Chicago)", with the date in front when it is not today there."""
    tz = ZoneInfo(zone)
    local = moment.astimezone(tz)
    text = format_time(local, format="short", locale=locale)
    if local.date() != now.astimezone(tz).date():
        text = f"{format_date(local.date(), format='long', locale=locale)} {text}"
    # CLDR puts a narrow no-break space before AM/PM; SMS alphabets have no such character.
    return f"{text.replace(chr(0x202F), ' ')} ({zone})"


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
