"""What the plan and add-on flows share: which line they are about (options, a number or a
name typed, and "no, the other line" corrections) and how allowances read in a message."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Awaitable, Callable
from decimal import Decimal

from babel.numbers import format_decimal

from billing_client import InsufficientBalanceError, Line, PlanInfo
from bot.flow import TurnContext
from bot.menu import menu
from bot.phones import display
from bot.types import Option, Reply
from intents.common import line_label

WHICH_LINE = {
    "en": "Which line is it for?",
    "es": "¿Para qué línea es?",
}
OTHER_LINE = {"en": "Another line", "es": "Otra línea"}
ONLY_LINE = {
    "en": "There's just one line on your account.",
    "es": "Solo hay una línea en tu cuenta.",
}
OTHER_LINE_VALUE = "other_line"
SHORT = {
    "en": "That costs {price}, but your balance is {balance}: you're {shortfall} short. "
    "Top up first?",
    "es": "Cuesta {price}, pero tu saldo es de {balance}: te faltan {shortfall}. "
    "¿Recargas primero?",
}
TOP_UP = {"en": "Top up", "es": "Recargar"}
GIVE_UP = {
    "en": "I still didn't get which one, so I've stopped there. Nothing was changed.",
    "es": "Sigo sin entender cuál, así que lo dejo aquí. No se ha cambiado nada.",
}
UNLIMITED = {"en": "unlimited", "es": "ilimitado"}
DATA = {"en": "{amount} data", "es": "{amount} de datos"}
UNLIMITED_DATA = {"en": "unlimited data", "es": "datos ilimitados"}
CALLS = {"en": "{amount} min of calls", "es": "{amount} min de llamadas"}
UNLIMITED_CALLS = {"en": "unlimited calls", "es": "llamadas ilimitadas"}
TEXTS = {"en": "{amount} texts", "es": "{amount} SMS"}
UNLIMITED_TEXTS = {"en": "unlimited texts", "es": "SMS ilimitados"}
MB_PER_GB = 1024

# "no, the other line", "the other one", "wrong line", "not that number", "la otra línea".
_OTHER = re.compile(
    r"\b(the )?other (line|one|number|phone|sim)\b|\banother (line|number|phone)\b|"
    r"\bwrong (line|number|one|phone)\b|\bnot (this|that|my) (line|number|one|phone)\b|"
    r"\bla otra\b|\botra (linea|sim)\b|\bel otro( numero| telefono)?\b|\blinea equivocada\b|"
    r"\bno es esa( linea)?\b"
)


# --- which line -------------------------------------------------------------------------------
def choose_line(ctx: TurnContext, lines: list[Line], prefix: str = "") -> Reply:
    options = [Option(line_label(line), f"line:{line.id}") for line in lines]
    return ctx.reply((prefix + " " + ctx.say(WHICH_LINE)).strip(), *options)


def line_named(ctx: TurnContext, lines: list[Line]) -> Line | None:
    """The line picked by option value, by a phone number or by its holder's first name."""
    for line in lines:
        if ctx.text == f"line:{line.id}":
            return line
    phone = ctx.parse.entity("phone")
    if phone is not None:
        return next((line for line in lines if line.msisdn == phone.value), None)
    words = set(re.findall(r"\w+", fold(ctx.text)))
    named = [line for line in lines if fold(line.holder_name).split()[0] in words]
    return named[0] if len(named) == 1 and len(lines) > 1 else None


def wants_other_line(ctx: TurnContext) -> bool:
    """A correction: the customer means another of their lines than the one chosen."""
    return ctx.text == OTHER_LINE_VALUE or asks_other_line(ctx.text)


def asks_other_line(text: str) -> bool:
    """ "no, the other line", "wrong number", "la otra línea" — in English or Spanish."""
    return bool(_OTHER.search(fold(text)))


def other_line(lines: list[Line], current: int) -> Line | None:
    """With two lines, the one that is not `current`; with more, the customer must say."""
    others = [line for line in lines if line.id != current]
    return others[0] if len(others) == 1 else None


def usable_lines(lines: list[Line]) -> list[Line]:
    return [line for line in lines if line.status != "terminated"]


def line_text(line: Line) -> str:
    return f"{display(line.msisdn)} ({line.holder_name})"


def fold(text: str) -> str:
    """Lowercase without accents, for matching what people type ("Línea" → "linea")."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def second_miss(ctx: TurnContext) -> list[Reply] | None:
    """An answer that fits no option: None the first time (ask again), then the flow stops and
    the menu is shown (one re-prompt, then the menu)."""
    misses = int(ctx.state.slots.get("misses", 0)) + 1
    ctx.state.slots["misses"] = misses
    if misses < 2:
        return None
    ctx.state.finish()
    return [ctx.reply(ctx.say(GIVE_UP)), menu(ctx)]


# --- words ------------------------------------------------------------------------------------
def allowances(ctx: TurnContext, plan: PlanInfo) -> str:
    """ "50 GB data, unlimited calls, unlimited texts" in the customer's language."""
    data = (
        ctx.say(DATA, amount=data_amount(ctx, plan.data_mb))
        if plan.data_mb is not None
        else ctx.say(UNLIMITED_DATA)
    )
    calls = (
        ctx.say(CALLS, amount=format_decimal(plan.voice_min, locale=ctx.locale))
        if plan.voice_min is not None
        else ctx.say(UNLIMITED_CALLS)
    )
    texts = (
        ctx.say(TEXTS, amount=format_decimal(plan.sms, locale=ctx.locale))
        if plan.sms is not None
        else ctx.say(UNLIMITED_TEXTS)
    )
    return ", ".join((data, calls, texts))


def data_amount(ctx: TurnContext, megabytes: int | None) -> str:
    """MB as GB with at most one decimal ("5 GB", "1.5 GB"), under 1 GB in MB."""
    if megabytes is None:
        return ctx.say(UNLIMITED)
    if megabytes < MB_PER_GB:
        return f"{format_decimal(megabytes, locale=ctx.locale)} MB"
    gigabytes = (Decimal(megabytes) / MB_PER_GB).quantize(Decimal("0.1"))
    return f"{format_decimal(gigabytes, format='#,##0.#', locale=ctx.locale)} GB"


def short_of_money(ctx: TurnContext, error: InsufficientBalanceError, *options: Option) -> Reply:
    """The price, the balance and what is missing, with a top-up offer first."""
    text = ctx.say(
        SHORT,
        price=ctx.money(error.price),
        balance=ctx.money(error.balance),
        shortfall=ctx.money(error.shortfall),
    )
    return ctx.reply(text, Option(ctx.say(TOP_UP), "intent:top_up"), *options)


async def switch_line(
    ctx: TurnContext,
    current: int,
    lines: list[Line],
    *,
    ask_again: Callable[[TurnContext], Awaitable[list[Reply]]],
    chosen: Callable[[TurnContext, Line], Awaitable[list[Reply]]],
) -> list[Reply]:
    """ "No, the other line": with two lines straight to the other, else ask which; with one,
    say so and ask the flow's question again."""
    if len(lines) < 2:
        return [ctx.reply(ctx.say(ONLY_LINE)), *await ask_again(ctx)]
    others = [line for line in lines if line.id != current]
    line = line_named(ctx, others) or other_line(lines, current)
    if line is None:
        ctx.state.goto("choose_line")
        return [choose_line(ctx, others)]
    return await chosen(ctx, line)
