"""`diagnostics`: "my internet is down", "no signal" — what billbot can see before a ticket.

One answer, no flow: known outages at the customer's service address (with when they should be
fixed), each line's status (active, or barred and why; roaming seen lately; data left this
cycle) and the ISP equipment's last report. When one of those explains the problem it says so
and offers the fitting next step (unbarring, more data); when nothing does, it suggests a
restart and offers a ticket or a technician visit. A billing system without field service
(`BillingClient.service_status` refused) still gets the lines part. docs/flows/diagnostics.md.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from babel.dates import format_timedelta
from babel.numbers import format_decimal

from billing_client import (
    Equipment,
    InvalidRequestError,
    Line,
    LineBar,
    Outage,
    ServiceStatus,
    UsageCounter,
)
from bot.flow import Intent, TurnContext
from bot.phones import display
from bot.types import Option, Reply
from intents.bar_sim import local_moment
from intents.common import NO, TRAINING, answer_is_yes

HEADER = {"en": "Here's what I can see:", "es": "Esto es lo que veo:"}
OUTAGE = {
    "en": "- Known {kind} outage at your address ({area}): {message} {until}",
    "es": "- Avería conocida de {kind} en tu dirección ({area}): {message} {until}",
}
OUTAGE_KIND = {
    "mobile": {"en": "mobile", "es": "red móvil"},
    "broadband": {"en": "broadband", "es": "internet fijo"},
}
FIX_BY = {"en": "Expected fix: {when}.", "es": "Previsión de arreglo: {when}."}
FIX_LATE = {
    "en": "It was expected back by {when}; engineers are still on it.",
    "es": "Se esperaba para {when}; los técnicos siguen con ello.",
}
FIX_UNKNOWN = {"en": "No fix time yet.", "es": "Aún no hay hora prevista."}
LINE = {"en": "- {number} ({holder}): {status}", "es": "- {number} ({holder}): {status}"}
ACTIVE = {"en": "working normally", "es": "funciona con normalidad"}
BARRED = {
    "lost_stolen": {
        "en": "blocked, reported lost or stolen ({reference})",
        "es": "bloqueada por pérdida o robo ({reference})",
    },
    "spend_cap": {
        "en": "chargeable use paused: your spending limit was reached",
        "es": "uso con coste en pausa: se alcanzó tu límite de gasto",
    },
    "full": {"en": "barred ({reason})", "es": "bloqueada ({reason})"},
}
SUSPENDED = {"en": "suspended", "es": "suspendida"}
TERMINATED = {"en": "no longer in service", "es": "dada de baja"}
DATA_LEFT = {"en": "{left} of {allowance} data left", "es": "quedan {left} de {allowance}"}
DATA_UNLIMITED = {"en": "unlimited data", "es": "datos ilimitados"}
DATA_OUT = {
    "en": "no data left until {renews}",
    "es": "sin datos hasta el {renews}",
}
ROAMING = {"en": "used abroad (roaming) on {day}", "es": "usada en roaming el {day}"}
DEVICE_ONLINE = {
    "en": "- {label}: online, last seen {ago} ago",
    "es": "- {label}: conectado, visto hace {ago}",
}
DEVICE_OFFLINE = {
    "en": "- {label}: offline since {when}",
    "es": "- {label}: desconectado desde {when}",
}
DEVICE_NEVER = {
    "en": "- {label}: offline, it has not reported in yet",
    "es": "- {label}: desconectado, aún no ha dado señales",
}
BECAUSE_OUTAGE = {
    "en": "That outage is the likely cause, so there's no need to report it: service should "
    "come back on its own once it's fixed.",
    "es": "Esa avería es la causa probable, así que no hace falta avisar: el servicio volverá "
    "solo cuando la arreglen.",
}
BECAUSE_BAR = {
    "en": "The block on your line explains it: calls and data won't work while it's on.",
    "es": "El bloqueo de tu línea lo explica: llamadas y datos no funcionan mientras siga.",
}
BECAUSE_DATA = {
    "en": "You've used all your data this cycle, which explains mobile data not working.",
    "es": "Has gastado todos tus datos de este ciclo, por eso no funcionan los datos móviles.",
}
BECAUSE_OFFLINE = {
    "en": "Your router isn't reaching us. Check it's plugged in and its cables are tight, "
    "then switch it off for 30 seconds and on again. Still offline? Shall I open a ticket, or "
    "would you rather book a technician?",
    "es": "Tu router no conecta con nosotros. Comprueba que está enchufado y los cables bien "
    "puestos, y apágalo 30 segundos y vuelve a encenderlo. ¿Sigue sin conexión? ¿Abro una "
    "incidencia o prefieres pedir un técnico?",
}
ALL_CLEAR = {
    "en": "Everything looks normal on our side. Try restarting your phone (or your router, for "
    "home internet). Still not working? Shall I open a ticket, or would you rather book a "
    "technician?",
    "es": "Por nuestra parte todo parece normal. Prueba a reiniciar el teléfono (o el router, "
    "si es internet en casa). ¿Sigue sin funcionar? ¿Abro una incidencia o prefieres pedir un "
    "técnico?",
}
TICKET_OPENED = {
    "en": "Your ticket {reference} is open, with what I checked attached. Our team will get "
    "back to you here, usually within one business day. Quote {reference} if you contact us.",
    "es": "Tu incidencia {reference} está abierta, con lo que he comprobado. Nuestro equipo te "
    "responderá por aquí, normalmente en un día laborable. Indica {reference} si nos contactas.",
}
NO_TICKET = {
    "en": "OK, no ticket. If it keeps happening, just tell me.",
    "es": "De acuerdo, sin incidencia. Si vuelve a pasar, dímelo.",
}
YES_OR_NO = {"en": "Please answer yes or no.", "es": "Responde sí o no."}
TICKET_SUBJECT = {"en": "Service problem", "es": "Problema con el servicio"}
CHECKED = {"en": "What billbot checked:", "es": "Lo que ha comprobado billbot:"}
NO_LINES = {
    "en": "I can't find any lines on your account.",
    "es": "No encuentro líneas en tu cuenta.",
}
TICKET = {"en": "Yes, open a ticket", "es": "Sí, abrir una incidencia"}
TECHNICIAN = {"en": "Book a technician", "es": "Pedir un técnico"}
UNBAR = {"en": "Unblock my line", "es": "Desbloquear mi línea"}
CONTINUE = {"en": "Keep using it anyway", "es": "Seguir usándola"}
MORE_DATA = {"en": "Add data", "es": "Añadir datos"}
USAGE = {"en": "See my usage", "es": "Ver mi consumo"}

MENU_LABEL = {"en": "Check my service", "es": "Comprobar mi servicio"}
MB_PER_GB = 1024
MAX_SAID = 500  # of the customer's words kept for the ticket


@dataclass(slots=True)
class _Findings:
    """What explains the problem, found while writing the report."""

    outage: bool = False
    bars: list[str] = field(default_factory=list)  # kinds of the bars on the lines
    out_of_data: bool = False
    offline: bool = False


class DiagnosticsIntent(Intent):
    name = "diagnostics"
    menu_label = MENU_LABEL
    training_file = TRAINING / "diagnostics.yml"

    async def start(self, ctx: TurnContext) -> list[Reply]:
        assert ctx.account is not None  # not anonymous: the router sends strangers elsewhere
        lines = await ctx.billing.list_lines(ctx.account.id)
        if not lines:
            return [ctx.reply(ctx.say(NO_LINES))]
        status = await _service_status(ctx)
        usage = await ctx.billing.get_usage(ctx.account.id, now=ctx.now)
        found = _Findings()
        report = [ctx.say(HEADER)]
        report += [_outage(ctx, outage, status, found) for outage in status.outages]
        for line in lines:
            report.append(await _line(ctx, line, usage, status, found))
        report += [_device(ctx, device, found) for device in status.equipment]
        conclusion, options = _conclusion(ctx, found)
        if _unexplained(found):  # "yes" opens a ticket with what was checked attached
            _offer_ticket(ctx, report, options)
        return [ctx.reply("\n".join([*report, "", conclusion]), *options)]

    async def resume(self, ctx: TurnContext) -> list[Reply]:
        answer = answer_is_yes(ctx)
        if answer is None:
            options = ctx.state.slots.get("options", [])
            again = [Option(str(label), str(value)) for label, value in options]
            return [ctx.reply(ctx.say(YES_OR_NO), *again)]
        if not answer:
            ctx.state.finish()
            return [ctx.reply(ctx.say(NO_TICKET))]
        return [await _open_ticket(ctx)]

    async def prompt(self, ctx: TurnContext) -> list[Reply]:
        return await self.start(ctx)


def _unexplained(found: _Findings) -> bool:
    return not (found.outage or found.bars or found.out_of_data)


def _offer_ticket(ctx: TurnContext, report: list[str], options: list[Option]) -> None:
    """Wait for yes/no: the customer's own words and the report become the ticket."""
    said = "" if ctx.picked_option or ctx.text.startswith("intent:") else ctx.text.strip()
    ctx.state.begin(
        "diagnostics",
        "offer_ticket",
        flow_id=uuid.uuid4().hex,
        said=said[:MAX_SAID],
        report=report[1:],
        options=[[option.label, option.value] for option in options],
    )


async def _open_ticket(ctx: TurnContext) -> Reply:
    assert ctx.account is not None
    slots = ctx.state.slots
    said = str(slots.get("said") or "") or ctx.say(TICKET_SUBJECT)
    description = "\n".join([said, "", ctx.say(CHECKED), *map(str, slots.get("report", []))])
    ticket = await ctx.billing.create_ticket(
        ctx.account.id,
        subject=said[:80],
        description=description,
        channel=ctx.message.channel,
        idempotency_key=f"diagnostics:{slots['flow_id']}",
        now=ctx.now,
    )
    ctx.state.finish()
    return ctx.reply(ctx.say(TICKET_OPENED, reference=ticket.reference))


async def _service_status(ctx: TurnContext) -> ServiceStatus:
    """The field-service facts; none from a billing system that does not keep them."""
    assert ctx.account is not None
    try:
        return await ctx.billing.service_status(ctx.account.id, now=ctx.now)
    except InvalidRequestError:
        return ServiceStatus(account_id=ctx.account.id, address=None)


def _outage(ctx: TurnContext, outage: Outage, status: ServiceStatus, found: _Findings) -> str:
    found.outage = True
    zone = ctx.account.timezone if ctx.account is not None else "UTC"
    if outage.expected_end is None:
        until = ctx.say(FIX_UNKNOWN)
    else:
        when = local_moment(outage.expected_end, zone, ctx.locale, now=ctx.now)
        late = outage.expected_end <= ctx.now
        until = ctx.say(FIX_LATE if late else FIX_BY, when=when)
    area = status.address.street if status.address is not None else outage.area
    kind = ctx.say(OUTAGE_KIND[outage.kind])
    return ctx.say(OUTAGE, kind=kind, area=area, message=outage.message, until=until)


async def _line(
    ctx: TurnContext,
    line: Line,
    usage: list[UsageCounter],
    status: ServiceStatus,
    found: _Findings,
) -> str:
    parts = [await _line_status(ctx, line, found)]
    data = next((c for c in usage if c.line_msisdn == line.msisdn and c.kind == "data"), None)
    if data is not None and line.status == "active":
        parts.append(_data(ctx, data, found))
    roamed = status.roaming.get(line.msisdn)
    if roamed is not None:
        parts.append(ctx.say(ROAMING, day=ctx.date(_local_day(ctx, roamed))))
    number = display(line.msisdn)
    return ctx.say(LINE, number=number, holder=line.holder_name, status="; ".join(parts))


async def _line_status(ctx: TurnContext, line: Line, found: _Findings) -> str:
    if line.status == "active":
        return ctx.say(ACTIVE)
    if line.status == "suspended":
        return ctx.say(SUSPENDED)
    if line.status == "terminated":
        return ctx.say(TERMINATED)
    bar = await _bar(ctx, line)
    kind = bar.kind if bar is not None else "full"
    found.bars.append(kind)
    reference = bar.reference if bar is not None else "-"
    reason = line.barred_reason or (bar.reason if bar is not None else "-")
    return ctx.say(BARRED[kind], reference=reference, reason=reason)


async def _bar(ctx: TurnContext, line: Line) -> LineBar | None:
    """The line's active bar; None when the billing system cannot say (the reason is shown)."""
    try:
        return await ctx.billing.line_bar(line.id)
    except InvalidRequestError:
        return None


def _data(ctx: TurnContext, counter: UsageCounter, found: _Findings) -> str:
    if counter.allowance is None:
        return ctx.say(DATA_UNLIMITED)
    left = counter.allowance - counter.used
    if left <= 0:
        found.out_of_data = True
        renews = counter.cycle_end + timedelta(days=1)
        return ctx.say(DATA_OUT, renews=ctx.date(renews))
    allowance = _megabytes(ctx, counter.allowance)
    return ctx.say(DATA_LEFT, left=_megabytes(ctx, left), allowance=allowance)


def _device(ctx: TurnContext, device: Equipment, found: _Findings) -> str:
    if device.status == "online" and device.last_seen_at is not None:
        ago = format_timedelta(ctx.now - device.last_seen_at, locale=ctx.locale)
        return ctx.say(DEVICE_ONLINE, label=device.label, ago=ago)
    found.offline = True
    if device.last_seen_at is None:
        return ctx.say(DEVICE_NEVER, label=device.label)
    zone = ctx.account.timezone if ctx.account is not None else "UTC"
    when = local_moment(device.last_seen_at, zone, ctx.locale, now=ctx.now)
    return ctx.say(DEVICE_OFFLINE, label=device.label, when=when)


def _conclusion(ctx: TurnContext, found: _Findings) -> tuple[str, list[Option]]:
    """What explains it (the first of outage, bar, data, router) and the next steps offered."""
    if found.outage:
        return ctx.say(BECAUSE_OUTAGE), []
    if found.bars:
        return ctx.say(BECAUSE_BAR), _bar_options(ctx, found.bars)
    if found.out_of_data:
        more = _offer(ctx, "add_on", MORE_DATA) or [Option(ctx.say(USAGE), "intent:usage")]
        return ctx.say(BECAUSE_DATA), more
    ticket = Option(ctx.say(TICKET), "yes")
    technician = _offer(ctx, "appointment", TECHNICIAN)
    options = [ticket, *technician, Option(ctx.say(NO), "no")]
    return ctx.say(BECAUSE_OFFLINE if found.offline else ALL_CLEAR), options


def _bar_options(ctx: TurnContext, kinds: list[str]) -> list[Option]:
    if "spend_cap" in kinds:
        return _offer(ctx, "continue_service", CONTINUE)
    if "full" in kinds:
        return _offer(ctx, "unbar_sim", UNBAR)
    return []  # lost or stolen: a replacement SIM, which support (or sim_swap) handles


def _offer(ctx: TurnContext, intent: str, label: dict[str, str]) -> list[Option]:
    """An option starting `intent`, when it is registered and the operator allows it."""
    handler = ctx.registry.get(intent)
    if handler.name != intent or not ctx.allows(handler.feature):
        return []
    return [Option(ctx.say(label), f"intent:{intent}")]


def _megabytes(ctx: TurnContext, value: int) -> str:
    """MB below a gigabyte, else GB to one decimal, as the usage answer shows them."""
    if value < MB_PER_GB:
        return f"{format_decimal(value, locale=ctx.locale)} MB"
    gigabytes = (Decimal(value) / MB_PER_GB).quantize(Decimal("0.1"))
    return f"{format_decimal(gigabytes, format='#,##0.#', locale=ctx.locale)} GB"


def _local_day(ctx: TurnContext, moment: datetime) -> date:
    zone = ctx.account.timezone if ctx.account is not None else "UTC"
    return moment.astimezone(ZoneInfo(zone)).date()
