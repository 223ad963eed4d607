"""`invoice`: the latest invoices with totals, and a link to see them all."""

from __future__ import annotations

from babel.dates import format_date

from billing_client import InvoiceSummary
from bot.flow import Intent, TurnContext
from bot.types import Reply
from intents.common import TRAINING

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
LINK_LABEL = {"en": "All invoices", "es": "Todas las facturas"}
SHOWN = 3

MENU_LABEL = {"en": "My invoices", "es": "Mis facturas"}


class InvoiceIntent(Intent):
    name = "invoice"
    menu_label = MENU_LABEL
    training_file = TRAINING / "invoice.yml"

    async def start(self, ctx: TurnContext) -> list[Reply]:
        assert ctx.account is not None
        invoices = await ctx.billing.list_invoices(ctx.account.id, now=ctx.now, limit=SHOWN)
        if not invoices:
            return [ctx.reply(ctx.say(NONE))]
        url = ctx.links.invoices_url(ctx.account.id)
        rows = [ctx.say(HEADER), *(_row(ctx, inv) for inv in invoices), ctx.say(FOOTER, url=url)]
        return [Reply(text="\n".join(rows), link=url, link_label=ctx.say(LINK_LABEL))]


def _row(ctx: TurnContext, invoice: InvoiceSummary) -> str:
    period = format_date(invoice.period_start, format="MMM y", locale=ctx.locale)
    status = ctx.say(STATUS[invoice.status], due=ctx.date(invoice.due_on))
    return ctx.say(
        ROW, number=invoice.number, period=period, total=ctx.money(invoice.total), status=status
    )
