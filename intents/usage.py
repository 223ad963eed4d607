"""`usage`: used vs allowance per line this cycle, with % used and the cycle end date."""

from __future__ import annotations

from decimal import Decimal

from babel.numbers import format_decimal

from billing_client import UsageCounter
from bot.flow import Intent, TurnContext
from bot.phones import display
from bot.types import Reply
from intents.common import TRAINING

HEADER = {
    "en": "Your usage this cycle (ends {end}):",
    "es": "Tu consumo en este ciclo (termina el {end}):",
}
NONE = {
    "en": "I don't have any usage for your lines this cycle yet.",
    "es": "Aún no hay consumo registrado en tus líneas este ciclo.",
}
LIMITED = {
    "en": "{kind}: {used} of {allowance} used ({percent}%)",
    "es": "{kind}: {used} de {allowance} usados ({percent} %)",
}
UNLIMITED = {"en": "{kind}: {used} used (unlimited)", "es": "{kind}: {used} usados (ilimitado)"}
KINDS = {
    "data": {"en": "Data", "es": "Datos"},
    "voice": {"en": "Calls", "es": "Llamadas"},
    "sms": {"en": "Texts", "es": "SMS"},
}
MB_PER_GB = 1024

MENU_LABEL = {"en": "Data and usage", "es": "Datos y consumo"}


class UsageIntent(Intent):
    name = "usage"
    menu_label = MENU_LABEL
    training_file = TRAINING / "usage.yml"
    feature = "usage"

    async def start(self, ctx: TurnContext) -> list[Reply]:
        assert ctx.account is not None
        counters = await ctx.billing.get_usage(ctx.account.id, now=ctx.now)
        if not counters:
            return [ctx.reply(ctx.say(NONE))]
        end = min(counter.cycle_end for counter in counters)
        lines = [ctx.say(HEADER, end=ctx.date(end))]
        for msisdn in dict.fromkeys(counter.line_msisdn for counter in counters):
            lines.append(display(msisdn))
            lines.extend("• " + _counter_text(ctx, c) for c in counters if c.line_msisdn == msisdn)
        return [ctx.reply("\n".join(lines))]


def _counter_text(ctx: TurnContext, counter: UsageCounter) -> str:
    kind = ctx.say(KINDS.get(counter.kind, {"en": counter.kind}))
    used = _quantity(ctx, counter.used, counter.unit)
    if counter.allowance is None:
        return ctx.say(UNLIMITED, kind=kind, used=used)
    allowance = _quantity(ctx, counter.allowance, counter.unit)
    return ctx.say(
        LIMITED, kind=kind, used=used, allowance=allowance, percent=counter.percent_used
    )


def _quantity(ctx: TurnContext, value: int, unit: str) -> str:
    """Data in GB with one decimal (41.5 GB); other units as whole numbers."""
    if unit == "MB" and value >= MB_PER_GB:
        gigabytes = (Decimal(value) / MB_PER_GB).quantize(Decimal("0.1"))
        number = format_decimal(gigabytes, format="#,##0.#", locale=ctx.locale)
        return f"{number} GB"
    return f"{format_decimal(value, locale=ctx.locale)} {unit}"
