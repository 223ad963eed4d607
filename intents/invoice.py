"""`invoice`: the latest invoices with totals, and a sign-in link to them on the web view.

The link signs the customer in (`intents.web_login`) and lands on the latest invoice when
there is one, on the list when there are several. The older `/invoices/<token>` page stays
for links already sent (bill-ready alerts).
"""

from __future__ import annotations

from babel.dates import format_date

from billing_client import InvoiceSummary
from bot.flow import Intent, TurnContext
from bot.types import Reply
from intents.common import TRAINING
from intents.web_login import once_note, sign_in_url

HEADER = {"en": "Your latest invoices:", "es": "Tus últimas facturas:"}
NONE = {"en": "You don't have any invoices yet.", "es": "Todavía no tienes facturas."}
ROW = {
    "en": "• {number} ({period}): {total} — {status}",
    "es": "• {number} ({period}): {total} — {status}",
}
STATUS = {
    "open": {"en": "due {due}", "es": "vence el {due}"},
    "overdue": {"en": "overdue since {due}", "es": "vencida desde el {due}"},
    "paid": {"en": "paid", "es": "pagada"},
    "void": {"en": "void", "es": "anulada"},
    "draft": {"en": "draft", "es": "borrador"},
}
FOOTER = {"en": "See them all here: {url}", "es": "Puedes verlas todas aquí: {url}"}
FOOTER_ONE = {"en": "See it here: {url}", "es": "Puedes verla aquí: {url}"}
LINK_LABEL = {"en": "All invoices", "es": "Todas las facturas"}
LINK_LABEL_ONE = {"en": "Open invoice {number}", "es": "Abrir la factura {number}"}
LIST_PATH = "/account/invoices"
SHOWN = 3

MENU_LABEL = {"en": "My invoices", "es": "Mis facturas"}


class InvoiceIntent(Intent):
    name = "invoice"
    menu_label = MENU_LABEL
    training_file = TRAINING / "invoice.yml"
    feature = "invoices"

    async def start(self, ctx: TurnContext) -> list[Reply]:
        assert ctx.account is not None
        invoices = await ctx.billing.list_invoices(ctx.account.id, now=ctx.now, limit=SHOWN)
        if not invoices:
            return [ctx.reply(ctx.say(NONE))]
        rows = [ctx.say(HEADER), *(_row(ctx, inv) for inv in invoices)]
        return [_with_link(ctx, rows, invoices)]


def _with_link(ctx: TurnContext, rows: list[str], invoices: list[InvoiceSummary]) -> Reply:
    """The rows and the sign-in link: to the one invoice, or to the list of several."""
    if len(invoices) == 1:
        latest = invoices[0]
        url = sign_in_url(ctx, f"{LIST_PATH}/{latest.id}")
        footer, label = FOOTER_ONE, ctx.say(LINK_LABEL_ONE, number=latest.number)
    else:
        url, footer, label = sign_in_url(ctx, LIST_PATH), FOOTER, ctx.say(LINK_LABEL)
    text = "\n".join([*rows, ctx.say(footer, url=url), once_note(ctx)])
    return Reply(text=text, link=url, link_label=label)


def _row(ctx: TurnContext, invoice: InvoiceSummary) -> str:
    period = format_date(invoice.period_start, format="MMM y", locale=ctx.locale)
    status = ctx.say(STATUS[invoice.status], due=ctx.date(invoice.due_on))
    return ctx.say(
        ROW, number=invoice.number, period=period, total=ctx.money(invoice.total), status=status
    )
