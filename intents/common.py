"""Small helpers shared by intent handlers: yes/no questions, the menu, line labels."""

from __future__ import annotations

from billing_client import Line
from bot.flow import Messages, TurnContext
from bot.phones import display
from bot.types import Option, Reply

MENU_HEADING = {"en": "Here's what I can do:", "es": "Esto es lo que puedo hacer:"}
YES = {"en": "Yes", "es": "Sí"}
NO = {"en": "No", "es": "No"}

MENU: tuple[tuple[str, Messages], ...] = (
    ("balance", {"en": "Balance and due date", "es": "Saldo y vencimiento"}),
    ("pay_bill", {"en": "Pay my bill", "es": "Pagar mi factura"}),
    ("bar_sim", {"en": "Block a lost or stolen SIM", "es": "Bloquear una SIM perdida o robada"}),
    ("open_ticket", {"en": "Report a problem", "es": "Informar de un problema"}),
    ("usage", {"en": "Data and usage", "es": "Datos y consumo"}),
    ("invoice", {"en": "My invoices", "es": "Mis facturas"}),
)


def yes_no(ctx: TurnContext) -> tuple[Option, Option]:
    return Option(ctx.say(YES), "yes"), Option(ctx.say(NO), "no")


def answer_is_yes(ctx: TurnContext) -> bool | None:
    """True/False for a yes/no answer (typed, numbered or tapped); None when unclear."""
    if ctx.text in ("yes", "no"):
        return ctx.text == "yes"
    entity = ctx.parse.entity("yes_no")
    return None if entity is None else bool(entity.value)


def menu_options(ctx: TurnContext) -> tuple[Option, ...]:
    return tuple(Option(ctx.say(label), f"intent:{name}") for name, label in MENU)


def line_label(line: Line) -> str:
    status = " (barred)" if line.status == "barred" else ""
    return f"{display(line.msisdn)} — {line.holder_name}{status}"


def menu(ctx: TurnContext, heading: str | None = None) -> Reply:
    """The numbered list of things billbot can do."""
    return ctx.reply(heading or ctx.say(MENU_HEADING), *menu_options(ctx))
