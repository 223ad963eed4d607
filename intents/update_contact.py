"""`update_contact`: the account's email address, language or time zone.

- Email: strong verification (`bot.stepup`), the new address, a confirmation, then a
  single-use link to the NEW address (`LinkSigner.email_change_url`; the web view's
  `/account/contact/confirm/{token}` applies it). Nothing changes until it is opened; the holder
  hears of the request on their other channels, the current address included.
- Language ("en"/"es") and time zone (an IANA name or a city from `intents.timezones`, asked
  again once with examples): no PIN — they move no service — but a question that states the
  consequence before the change applies, at once.

Every change is audited by the billing core (`update_contact`). See
docs/flows/update_contact.md.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_time

from billing_client import ContactChange, InvalidRequestError
from billing_client.contact import checked_email
from bot import i18n, stepup
from bot.flow import Intent, TurnContext
from bot.types import Option, OutboundMessage, Reply
from intents.common import TRAINING, answer_is_yes, tell_other_channels, yes_no
from intents.timezones import resolve

WHAT = {
    "en": "What would you like to change?",
    "es": "¿Qué quieres cambiar?",
}
PARTS = {
    "email": {"en": "Email address", "es": "Correo electrónico"},
    "language": {"en": "Language", "es": "Idioma"},
    "timezone": {"en": "Time zone", "es": "Zona horaria"},
}
ASK_EMAIL = {
    "en": "What's the new email address?",
    "es": "¿Cuál es el correo electrónico nuevo?",
}
BAD_EMAIL = {
    "en": "That doesn't look like an email address. Please send it like name@example.com.",
    "es": "Eso no parece un correo electrónico. Envíalo así: nombre@ejemplo.com.",
}
SAME_EMAIL = {
    "en": "{email} is already your account's email address.",
    "es": "{email} ya es el correo de tu cuenta.",
}
CONFIRM_EMAIL = {
    "en": "I'll send a link to {email}. Your account email changes only when you open it "
    "(within 24 hours); until then it stays {current}. Send it?",
    "es": "Enviaré un enlace a {email}. El correo de tu cuenta cambia solo cuando lo abras "
    "(en 24 horas); hasta entonces sigue siendo {current}. ¿Lo envío?",
}
EMAIL_SENT = {
    "en": "Sent. Open the link in the email to {email} to finish the change.",
    "es": "Enviado. Abre el enlace del correo que te llegará a {email} para terminar el cambio.",
}
LINK_EMAIL = {
    "en": "{operator}: confirm {email} as the email address of your account: {url} "
    "(valid 24 hours). If you did not ask for this, ignore this message.",
    "es": "{operator}: confirma {email} como correo de tu cuenta: {url} (válido 24 horas). "
    "Si no lo has pedido tú, ignora este mensaje.",
}
EMAIL_NOTICE = {
    "en": "{operator}: we were asked to change your account email to {email}. It changes "
    "only if the link sent there is opened. Not you? Call {phone}.",
    "es": "{operator}: nos han pedido cambiar el correo de tu cuenta a {email}. Solo cambia "
    "si se abre el enlace enviado allí. ¿No has sido tú? Llama al {phone}.",
}
ASK_LANGUAGE = {
    "en": "Which language should I use? Replies, alerts and bills switch at once.",
    "es": "¿Qué idioma uso? Las respuestas, avisos y facturas cambian al momento.",
}
CONFIRM_LANGUAGE = {
    "en": "Switch to {language}? Replies, alerts and bills will be in {language} from now on.",
    "es": "¿Cambiamos a {language}? Las respuestas, avisos y facturas serán en {language} "
    "desde ahora.",
}
SAME_LANGUAGE = {
    "en": "I already use English with you.",
    "es": "Ya te hablo en español.",
}
LANGUAGE_DONE = {
    "en": "Done. From now on I'll write to you in English.",
    "es": "Hecho. A partir de ahora te escribiré en español.",
}
LANGUAGE_NAMES = {
    "en_US": {"en": "English", "es": "inglés"},
    "es_ES": {"en": "Spanish", "es": "español"},
}
NATIVE = {"en_US": "English", "es_ES": "Español"}
ASK_ZONE = {
    "en": "Which time zone are you in? Send a city (Chicago, Madrid) or a zone name "
    "(America/New_York).",
    "es": "¿En qué zona horaria estás? Envía una ciudad (Chicago, Madrid) o el nombre de una "
    "zona (Europe/Madrid).",
}
UNKNOWN_ZONE = {
    "en": "I don't know that place. Try a big city near you (New York, Chicago, Denver, Los "
    "Angeles, London, Madrid, Mexico City) or a zone name like America/Chicago.",
    "es": "No conozco ese lugar. Prueba con una ciudad grande cercana (Madrid, Canarias, Ciudad "
    "de México, Bogotá, Buenos Aires, Nueva York) o un nombre de zona como Europe/Madrid.",
}
ZONE_GIVE_UP = {
    "en": "I still couldn't match that to a time zone. You can pick yours from the full list "
    "on your account page.",
    "es": "Sigo sin encontrar esa zona horaria. Puedes elegirla en la lista completa de la "
    "página de tu cuenta.",
}
SAME_ZONE = {
    "en": "Your time zone is already {zone}.",
    "es": "Tu zona horaria ya es {zone}.",
}
CONFIRM_ZONE = {
    "en": "Set your time zone to {zone} (it's {time} there now)? Dates, reminders and quiet "
    "hours will follow it.",
    "es": "¿Pongo tu zona horaria en {zone} (allí son las {time})? Las fechas, recordatorios y "
    "horas de silencio la seguirán.",
}
ZONE_DONE = {
    "en": "Done. Your time zone is {zone}.",
    "es": "Hecho. Tu zona horaria es {zone}.",
}
KEPT = {
    "en": "OK, nothing was changed.",
    "es": "De acuerdo, no he cambiado nada.",
}
YES_OR_NO = {"en": "Please answer yes or no.", "es": "Responde sí o no."}

_EMAIL_IN_TEXT = re.compile(r"[^@\s<>(),;:\"']+@[^@\s<>(),;:\"']+\.[A-Za-z]{2,63}")
_ASKS = {
    "email": re.compile(r"\b(e-?mail|mail|correo|email address)\b"),
    "language": re.compile(
        r"\b(language|lang|idioma|lengua|spanish|english|espa[nñ]ol|ingl[eé]s)\b"
    ),
    "timezone": re.compile(r"\b(time ?zone|zona horaria|huso horario|timezone|hora local)\b"),
}
_LANGUAGES = {
    "es_ES": re.compile(r"\b(spanish|espa[nñ]ol|castellano)\b"),
    "en_US": re.compile(r"\b(english|ingl[eé]s)\b"),
}
FREE_TEXT_STEPS = frozenset({"email", "zone"})


class UpdateContactIntent(Intent):
    name = "update_contact"
    training_file = TRAINING / "update_contact.yml"
    feature = "contact_changes"
    secret_steps = stepup.SECRET_STEPS

    async def start(self, ctx: TurnContext) -> list[Reply]:
        ctx.state.begin(self.name, "what", flow_id=uuid.uuid4().hex)
        part = _part_named(ctx.text)
        if part is None:
            return [_what(ctx)]
        return await self._part_chosen(ctx, part)

    async def resume(self, ctx: TurnContext) -> list[Reply]:
        if stepup.owns(ctx.state):
            return await stepup.resume(ctx)
        handlers = {
            "what": self._on_what,
            "email": self._on_email,
            "confirm_email": self._on_confirm_email,
            "language": self._on_language,
            "confirm_language": self._on_confirm_language,
            "zone": self._on_zone,
            "confirm_zone": self._on_confirm_zone,
        }
        return await handlers[ctx.state.step or "what"](ctx)

    async def prompt(self, ctx: TurnContext) -> list[Reply]:
        if stepup.owns(ctx.state):
            return await stepup.prompt(ctx)
        step = ctx.state.step or ""
        if step == "email" and ctx.state.slots.get("email"):  # given up front: ask to send
            ctx.state.goto("confirm_email")
            return [_confirm_email(ctx)]
        return [_QUESTIONS.get(step, _what)(ctx)]

    def expects_free_text(self, step: str | None) -> bool:
        return step in FREE_TEXT_STEPS

    # --- which part ---------------------------------------------------------------------------
    async def _on_what(self, ctx: TurnContext) -> list[Reply]:
        part = ctx.text.removeprefix("part:") if ctx.text.startswith("part:") else None
        part = part if part in PARTS else _part_named(ctx.text)
        if part is None:
            return [_what(ctx)]
        return await self._part_chosen(ctx, part)

    async def _part_chosen(self, ctx: TurnContext, part: str) -> list[Reply]:
        slots = ctx.state.slots
        if part == "email":
            found = _EMAIL_IN_TEXT.search(ctx.text)
            if found is not None:
                slots["email"] = found.group(0)
            return await stepup.require(ctx, level="strong", purpose=self.name, then="email")
        if part == "language":
            locale = _language_named(ctx.text)
            if locale is None:
                ctx.state.goto("language")
                return [_ask_language(ctx)]
            return self._language_chosen(ctx, locale)
        zone = resolve(_after_keywords(ctx.text))
        if zone is None:
            ctx.state.goto("zone")
            return [_ask_zone(ctx)]
        return self._zone_chosen(ctx, zone)

    # --- email --------------------------------------------------------------------------------
    async def _on_email(self, ctx: TurnContext) -> list[Reply]:
        assert ctx.account is not None
        found = _EMAIL_IN_TEXT.search(ctx.text)
        try:
            email = checked_email(found.group(0) if found else ctx.text)
        except InvalidRequestError:
            return [ctx.reply(ctx.say(BAD_EMAIL))]
        if email.lower() == ctx.account.email.lower():
            ctx.state.finish()
            return [ctx.reply(ctx.say(SAME_EMAIL, email=email))]
        ctx.state.slots["email"] = email
        ctx.state.goto("confirm_email")
        return [_confirm_email(ctx)]

    async def _on_confirm_email(self, ctx: TurnContext) -> list[Reply]:
        answer = answer_is_yes(ctx)
        if answer is None:
            return [ctx.reply(ctx.say(YES_OR_NO)), _confirm_email(ctx)]
        if not answer:
            ctx.state.finish()
            return [ctx.reply(ctx.say(KEPT))]
        email = str(ctx.state.slots["email"])
        await _send_link(ctx, email)
        ctx.state.finish()
        return [ctx.reply(ctx.say(EMAIL_SENT, email=email))]

    # --- language -----------------------------------------------------------------------------
    def _language_chosen(self, ctx: TurnContext, locale: str) -> list[Reply]:
        if locale == ctx.locale:
            ctx.state.finish()
            return [ctx.reply(ctx.say(SAME_LANGUAGE))]
        ctx.state.slots["locale"] = locale
        ctx.state.goto("confirm_language")
        return [_confirm_language(ctx)]

    async def _on_language(self, ctx: TurnContext) -> list[Reply]:
        """Picking from the list (which says what changes) is the confirmation."""
        locale = ctx.text.removeprefix("lang:") if ctx.text.startswith("lang:") else None
        locale = locale if locale in NATIVE else _language_named(ctx.text)
        if locale is None:
            return [_ask_language(ctx)]
        if locale == ctx.locale:
            ctx.state.finish()
            return [ctx.reply(ctx.say(SAME_LANGUAGE))]
        return [await _apply_language(ctx, locale)]

    async def _on_confirm_language(self, ctx: TurnContext) -> list[Reply]:
        answer = answer_is_yes(ctx)
        if answer is None:
            return [ctx.reply(ctx.say(YES_OR_NO)), _confirm_language(ctx)]
        if not answer:
            ctx.state.finish()
            return [ctx.reply(ctx.say(KEPT))]
        return [await _apply_language(ctx, str(ctx.state.slots["locale"]))]

    # --- time zone ----------------------------------------------------------------------------
    def _zone_chosen(self, ctx: TurnContext, zone: str) -> list[Reply]:
        assert ctx.account is not None
        if zone == ctx.account.timezone:
            ctx.state.finish()
            return [ctx.reply(ctx.say(SAME_ZONE, zone=zone))]
        ctx.state.slots["zone"] = zone
        ctx.state.goto("confirm_zone")
        return [_confirm_zone(ctx)]

    async def _on_zone(self, ctx: TurnContext) -> list[Reply]:
        zone = resolve(ctx.text)
        if zone is not None:
            return self._zone_chosen(ctx, zone)
        misses = int(ctx.state.slots.get("zone_misses", 0)) + 1
        if misses > 1:  # asked again once with examples: the web page has the whole list
            assert ctx.account is not None
            ctx.state.finish()
            link = ctx.links.login_url(ctx.account.id, next_path="/account/contact")
            return [ctx.reply(ctx.say(ZONE_GIVE_UP), link=link)]
        ctx.state.slots["zone_misses"] = misses
        return [ctx.reply(ctx.say(UNKNOWN_ZONE))]

    async def _on_confirm_zone(self, ctx: TurnContext) -> list[Reply]:
        answer = answer_is_yes(ctx)
        if answer is None:
            return [ctx.reply(ctx.say(YES_OR_NO)), _confirm_zone(ctx)]
        zone = str(ctx.state.slots["zone"])
        ctx.state.finish()
        if not answer:
            return [ctx.reply(ctx.say(KEPT))]
        await _update(ctx, ContactChange(timezone=zone))
        return [ctx.reply(ctx.say(ZONE_DONE, zone=zone))]


# --- questions --------------------------------------------------------------------------------
def _what(ctx: TurnContext) -> Reply:
    options = [Option(ctx.say(label), f"part:{part}") for part, label in PARTS.items()]
    return ctx.reply(ctx.say(WHAT), *options)


def _ask_language(ctx: TurnContext) -> Reply:
    options = [Option(label, f"lang:{locale}") for locale, label in NATIVE.items()]
    return ctx.reply(ctx.say(ASK_LANGUAGE), *options)


def _confirm_email(ctx: TurnContext) -> Reply:
    assert ctx.account is not None
    email, current = str(ctx.state.slots["email"]), _masked(ctx.account.email)
    return ctx.reply(ctx.say(CONFIRM_EMAIL, email=email, current=current), *yes_no(ctx))


def _confirm_language(ctx: TurnContext) -> Reply:
    language = ctx.say(LANGUAGE_NAMES[str(ctx.state.slots["locale"])])
    return ctx.reply(ctx.say(CONFIRM_LANGUAGE, language=language), *yes_no(ctx))


def _confirm_zone(ctx: TurnContext) -> Reply:
    zone = str(ctx.state.slots["zone"])
    text = ctx.say(CONFIRM_ZONE, zone=zone, time=_time_in(zone, ctx.now, ctx.locale))
    return ctx.reply(text, *yes_no(ctx))


def _ask_email(ctx: TurnContext) -> Reply:
    return ctx.reply(ctx.say(ASK_EMAIL))


def _ask_zone(ctx: TurnContext) -> Reply:
    return ctx.reply(ctx.say(ASK_ZONE))


# Each step's question, asked again after "back" (and by step-up verification's return).
_QUESTIONS: dict[str, Callable[[TurnContext], Reply]] = {
    "what": _what,
    "email": _ask_email,
    "confirm_email": _confirm_email,
    "language": _ask_language,
    "confirm_language": _confirm_language,
    "zone": _ask_zone,
    "confirm_zone": _confirm_zone,
}


# --- changes ----------------------------------------------------------------------------------
async def _send_link(ctx: TurnContext, email: str) -> None:
    """The link to the new address (once per flow), and the holder told everywhere else."""
    assert ctx.account is not None
    flow_id = str(ctx.state.slots["flow_id"])
    url = ctx.links.email_change_url(ctx.account.id, email)
    text = ctx.say(LINK_EMAIL, operator=ctx.operator.name, email=email, url=url)
    ctx.notify(
        OutboundMessage(
            channel="email",
            address=email,
            replies=(Reply(text=text),),
            kind="email_confirm",
            dedupe_key=f"email_confirm:{flow_id}",
            account_id=ctx.account.id,
        )
    )
    notice = ctx.say(
        EMAIL_NOTICE,
        operator=ctx.operator.name,
        email=_masked(email),
        phone=ctx.operator.support.phone,
    )
    await tell_other_channels(ctx, notice, kind="email_change_notice", key=flow_id)


async def _apply_language(ctx: TurnContext, locale: str) -> Reply:
    ctx.state.finish()
    await _update(ctx, ContactChange(locale=locale))
    return ctx.reply(i18n.say(LANGUAGE_DONE, locale))  # already in the new language


async def _update(ctx: TurnContext, change: ContactChange) -> None:
    assert ctx.account is not None
    actor = f"customer:{ctx.message.channel}"
    await ctx.billing.update_contact(ctx.account.id, change, actor=actor, now=ctx.now)


# --- reading the customer ---------------------------------------------------------------------
def _part_named(text: str) -> str | None:
    lowered = text.lower()
    if _EMAIL_IN_TEXT.search(text):
        return "email"
    return next((part for part, words in _ASKS.items() if words.search(lowered)), None)


def _language_named(text: str) -> str | None:
    lowered = text.lower()
    return next((loc for loc, words in _LANGUAGES.items() if words.search(lowered)), None)


def _after_keywords(text: str) -> str:
    """ "change my time zone to Madrid" → "Madrid" (what follows the last "to"/"a"/"en")."""
    parts = re.split(r"\b(?:to|a|en|in)\b", text, flags=re.IGNORECASE)
    return parts[-1] if len(parts) > 1 else ""


def _masked(email: str) -> str:
    name, _, domain = email.partition("@")
    return f"{name[:1]}•••@{domain}"


def _time_in(zone: str, now: datetime, locale: str) -> str:
    local = now.astimezone(ZoneInfo(zone))
    return format_time(local, format="short", locale=locale).replace(chr(0x202F), " ")
