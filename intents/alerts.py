"""`alerts`: see and change which alerts the customer gets, on which channel, and their quiet
hours. A message that says what to change ("stop the data warnings", "alerts on whatsapp",
"quiet hours 22-7") is applied at once and confirmed (every change is reversible the same
way); anything else shows the settings and the choices.

Urgent notices (a line barred) are not on the list: they always go, at once, everywhere.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import time

from bot.alerts.preferences import POSTPAID_ONLY, PREPAID_ONLY, AlertPreferences
from bot.flow import Intent, TurnContext
from bot.types import Option, Reply
from intents.common import TRAINING

KINDS = {
    "bill_ready": {"en": "New bills", "es": "Facturas nuevas"},
    "bill_due": {"en": "Due-date reminders", "es": "Recordatorios de vencimiento"},
    "bill_overdue": {"en": "Overdue reminders", "es": "Avisos de impago"},
    "usage_threshold": {"en": "Usage warnings", "es": "Avisos de consumo"},
    "bill_limit": {"en": "Spending-limit warnings", "es": "Avisos de límite de gasto"},
    "payment_received": {"en": "Payment receipts", "es": "Recibos de pago"},
    "low_balance": {"en": "Low-balance warnings", "es": "Avisos de saldo bajo"},
    "ticket_updated": {"en": "Ticket updates", "es": "Novedades de incidencias"},
}
BILLS, PREPAID = POSTPAID_ONLY, PREPAID_ONLY
CHANNELS: dict[str | None, dict[str, str]] = {
    "sms": {"en": "SMS", "es": "SMS"},
    "whatsapp": {"en": "WhatsApp", "es": "WhatsApp"},
    "telegram": {"en": "Telegram", "es": "Telegram"},
    "email": {"en": "email", "es": "correo"},
    None: {"en": "SMS to your number", "es": "SMS a tu número"},
}
ON = {"en": "on", "es": "sí"}
OFF = {"en": "off", "es": "no"}
HEADER = {"en": "Your alerts, by {channel}:", "es": "Tus avisos, por {channel}:"}
LEVELS = {"en": " (at {levels})", "es": " (al {levels})"}
QUIET = {
    "en": "Quiet hours: {start}–{end} (urgent notices still go at once).",
    "es": "Horas de silencio: {start}–{end} (los avisos urgentes se envían igualmente).",
}
NO_QUIET = {"en": "Quiet hours: none.", "es": "Horas de silencio: ninguna."}
WHAT_NEXT = {"en": "What would you like to change?", "es": "¿Qué quieres cambiar?"}
TOGGLE = {"en": "Turn alerts on or off", "es": "Activar o desactivar"}
CHANNEL = {"en": "Change the channel", "es": "Cambiar el canal"}
HOURS = {"en": "Quiet hours", "es": "Horas de silencio"}
WHICH = {
    "en": "Which one? Tap it to switch it on or off.",
    "es": "¿Cuál? Tócalo para activarlo o desactivarlo.",
}
WHERE = {"en": "Where should alerts go?", "es": "¿Dónde quieres recibir los avisos?"}
ASK_HOURS = {
    "en": "Send the quiet hours as two times, e.g. 22:00-07:00, or NONE for no quiet hours.",
    "es": "Envía las horas de silencio como dos horas, p. ej. 22:00-07:00, o NINGUNA.",
}
DONE = {"en": "Done. {settings}", "es": "Hecho. {settings}"}
NO_TELEGRAM = {
    "en": "Your number has no Telegram chat linked yet. Message us on Telegram first and link "
    "it, then choose Telegram here.",
    "es": "Tu número aún no tiene un chat de Telegram vinculado. Escríbenos por Telegram, "
    "vincúlalo y elige Telegram aquí.",
}
ANONYMOUS = {
    "en": "Alerts are for numbers on an account. Please text from your own phone.",
    "es": "Los avisos son para números de una cuenta. Escríbenos desde tu teléfono.",
}
UNAVAILABLE = {
    "en": "Alert settings aren't available right now. Please try again later.",
    "es": "La configuración de avisos no está disponible ahora. Inténtalo más tarde.",
}
MENU_LABEL = {"en": "Alerts and notifications", "es": "Avisos y notificaciones"}

_KIND_WORDS = {
    "usage_threshold": r"data|usage|allowance|gb|minutes|datos|consumo|megas|gigas",
    "bill_due": r"reminders?|due|recordatorios?|vence\w*|vencimiento",
    "bill_overdue": r"overdue|late|unpaid|impago|atrasad\w*|vencid\w*",
    "bill_ready": r"new bills?|bill (is )?ready|bills? ready|factura(s)? nueva(s)?|nueva factura",
    "bill_limit": r"limit|cap|spending|l[ií]mite|gasto",
    "payment_received": r"payments?|receipts?|pagos?|recibos?",
    "low_balance": r"(low )?balance|credit|saldo( bajo)?",
    "ticket_updated": r"tickets?|support|incidencias?|soporte",
}
_ALL = re.compile(
    r"\b(all|every|any|todos?|todas?|ning[uú]n)\b.{0,20}\b(alerts?|notif\w*|avisos?|"
    r"messages?|texts?|mensajes?)",
    re.IGNORECASE,
)
_OFF = re.compile(
    r"\b(stop|off|disable|don'?t|do not|no more|quit\w*|desactiv\w*|unsubscribe|mute|"
    r"annoying|deja\w* de|no (me )?(mand|envi|escrib)\w*)\b",
    re.IGNORECASE,
)
_ON = re.compile(r"\b(on|enable|start|activ\w*|resume|turn on|send me|quiero)\b", re.IGNORECASE)
_CHANNEL = {
    "whatsapp": re.compile(r"\b(whats ?app|wa|wasap|guasap)\b", re.IGNORECASE),
    "telegram": re.compile(r"\b(telegram|tg)\b", re.IGNORECASE),
    "email": re.compile(r"\b(e-?mail|correo|mail)\b", re.IGNORECASE),
    "sms": re.compile(r"\b(sms|texts?|text message|mensajes? de texto)\b", re.IGNORECASE),
}
_TIME = re.compile(r"\b(\d{1,2})(?:[:.h](\d{2}))?\s*(am|pm|a\.m\.|p\.m\.|h)?\b", re.IGNORECASE)
_NO_QUIET = re.compile(
    r"\b(none|no quiet|any ?time|anytime|ninguna|a cualquier hora|sin horas?)\b", re.IGNORECASE
)
_QUIET_WORDS = re.compile(
    r"\b(quiet|night|silen\w*|noche|horas?|hours?|between|after|before|entre|despu[eé]s|antes)\b",
    re.IGNORECASE,
)


class AlertsIntent(Intent):
    name = "alerts"
    menu_label = MENU_LABEL
    training_file = TRAINING / "alerts.yml"

    async def start(self, ctx: TurnContext) -> list[Reply]:
        if ctx.account is None:
            return [ctx.reply(ctx.say(ANONYMOUS))]
        if ctx.alert_settings is None:
            return [ctx.reply(ctx.say(UNAVAILABLE))]
        current = await ctx.alert_settings.get(ctx.account.id)
        ctx.state.begin(self.name, "menu")
        changed = None if ctx.picked_option else await _understood(ctx, current)
        if changed is not None:
            return await _save(ctx, changed)
        return [_overview(ctx, current)]

    async def resume(self, ctx: TurnContext) -> list[Reply]:
        assert ctx.account is not None and ctx.alert_settings is not None
        current = await ctx.alert_settings.get(ctx.account.id)
        step = ctx.state.step
        if step == "toggle" and ctx.text in _kinds(ctx):
            return await _save(ctx, _toggled(current, {ctx.text}))
        if step == "channel" and ctx.text in CHANNELS:
            return await _channel(ctx, current, ctx.text)
        if step == "quiet":
            changed = _quiet(ctx.text, current)
            return await _save(ctx, changed) if changed else [ctx.reply(ctx.say(ASK_HOURS))]
        return await _on_menu(ctx, current)

    async def prompt(self, ctx: TurnContext) -> list[Reply]:
        ctx.state.finish()
        return await self.start(ctx)


# --- the steps --------------------------------------------------------------------------------
async def _on_menu(ctx: TurnContext, current: AlertPreferences) -> list[Reply]:
    if ctx.text == "toggle":
        ctx.state.goto("toggle")
        return [ctx.reply(ctx.say(WHICH), *_kind_options(ctx, current))]
    if ctx.text == "channel":
        ctx.state.goto("channel")
        return [ctx.reply(ctx.say(WHERE), *_channel_options(ctx))]
    if ctx.text == "quiet":
        ctx.state.goto("quiet")
        return [ctx.reply(ctx.say(ASK_HOURS))]
    changed = await _understood(ctx, current)
    return await _save(ctx, changed) if changed else [_overview(ctx, current)]


async def _channel(ctx: TurnContext, current: AlertPreferences, channel: str) -> list[Reply]:
    if channel == "telegram" and not await _has_telegram(ctx):
        ctx.state.finish()
        return [ctx.reply(ctx.say(NO_TELEGRAM))]
    return await _save(ctx, replace(current, channel=channel))


async def _save(ctx: TurnContext, changed: AlertPreferences | str) -> list[Reply]:
    assert ctx.account is not None and ctx.alert_settings is not None
    if isinstance(changed, str):  # a channel that needs checking first
        return await _channel(ctx, await ctx.alert_settings.get(ctx.account.id), changed)
    await ctx.alert_settings.save(ctx.account.id, changed, now=ctx.now)
    ctx.state.finish()
    return [ctx.reply(ctx.say(DONE, settings=_settings_text(ctx, changed)))]


def _overview(ctx: TurnContext, current: AlertPreferences) -> Reply:
    options = (
        Option(ctx.say(TOGGLE), "toggle"),
        Option(ctx.say(CHANNEL), "channel"),
        Option(ctx.say(HOURS), "quiet"),
    )
    return ctx.reply(_settings_text(ctx, current) + "\n" + ctx.say(WHAT_NEXT), *options)


# --- reading a message ------------------------------------------------------------------------
async def _understood(
    ctx: TurnContext, current: AlertPreferences
) -> AlertPreferences | str | None:
    """The settings the message asks for (a channel name when it must be checked); None when
    it asks for nothing in particular."""
    text = ctx.text
    channel = next((name for name, words in _CHANNEL.items() if words.search(text)), None)
    kinds = _kinds_named(text)
    if channel is not None and not kinds and not _OFF.search(text):
        return channel
    quiet = _quiet(text, current) if _QUIET_WORDS.search(text) else None
    if quiet is not None:
        return quiet
    if not kinds:
        return None
    if _OFF.search(text):
        return replace(current, disabled=current.disabled | kinds)
    if _ON.search(text):
        return replace(current, disabled=current.disabled - kinds)
    return None


def _kinds_named(text: str) -> frozenset[str]:
    if _ALL.search(text):
        return frozenset(KINDS)
    return frozenset(
        kind
        for kind, words in _KIND_WORDS.items()
        if re.search(rf"\b({words})\b", text, re.IGNORECASE)
    )


def _quiet(text: str, current: AlertPreferences) -> AlertPreferences | None:
    """Quiet hours from "22-7", "10pm to 7am", "21:30 a 08:00"; "none" turns them off."""
    if _NO_QUIET.search(text):
        return replace(current, quiet_start=time(0), quiet_end=time(0))
    times = [_time(match) for match in _TIME.finditer(text)]
    found = [moment for moment in times if moment is not None]
    if len(found) != 2:
        return None
    return replace(current, quiet_start=found[0], quiet_end=found[1])


def _time(match: re.Match[str]) -> time | None:
    hour, minute = int(match.group(1)), int(match.group(2) or 0)
    suffix = (match.group(3) or "").lower().replace(".", "")
    if suffix == "pm" and hour < 12:
        hour += 12
    elif suffix == "am" and hour == 12:
        hour = 0
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)


def _toggled(current: AlertPreferences, kinds: set[str]) -> AlertPreferences:
    return replace(current, disabled=current.disabled ^ frozenset(kinds))


async def _has_telegram(ctx: TurnContext) -> bool:
    phone = ctx.message.as_phone
    if ctx.message.channel == "telegram":
        return True
    if phone is None or ctx.addresses is None:
        return False
    return any(channel == "telegram" for channel, _ in await ctx.addresses.addresses_of(phone))


# --- words ------------------------------------------------------------------------------------
def _settings_text(ctx: TurnContext, prefs: AlertPreferences) -> str:
    lines = [ctx.say(HEADER, channel=ctx.say(CHANNELS[prefs.channel]))]
    for kind, label in _kinds(ctx).items():
        state = ctx.say(ON if prefs.wants(kind) else OFF)
        line = f"{ctx.say(label)}: {state}"
        if kind == "usage_threshold" and prefs.wants(kind):
            levels = ", ".join(f"{level}%" for level in prefs.usage_levels)
            line += ctx.say(LEVELS, levels=levels)
        lines.append(line)
    if prefs.quiet_start == prefs.quiet_end:
        lines.append(ctx.say(NO_QUIET))
    else:
        start, end = prefs.quiet_start, prefs.quiet_end
        lines.append(ctx.say(QUIET, start=f"{start:%H:%M}", end=f"{end:%H:%M}"))
    return "\n".join(lines)


def _kind_options(ctx: TurnContext, prefs: AlertPreferences) -> list[Option]:
    return [
        Option(f"{ctx.say(label)} ({ctx.say(ON if prefs.wants(kind) else OFF)})", kind)
        for kind, label in _kinds(ctx).items()
    ]


def _kinds(ctx: TurnContext) -> dict[str, dict[str, str]]:
    """The alerts this customer can get: bills and caps (postpaid) or low balance (prepaid)."""
    prepaid = ctx.account is not None and ctx.account.billing_type == "prepaid"
    hidden = BILLS if prepaid else PREPAID
    return {kind: label for kind, label in KINDS.items() if kind not in hidden}


def _channel_options(ctx: TurnContext) -> list[Option]:
    return [Option(ctx.say(label), name) for name, label in CHANNELS.items() if name is not None]
