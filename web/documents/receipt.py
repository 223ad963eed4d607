"""The payment receipt PDF: what was paid, when, how, and what is still due on the invoice."""

from __future__ import annotations

from dataclasses import dataclass

from billing_client.types import Account, InvoiceSummary, Payment
from bot.operator import OperatorConfig
from web.documents import texts
from web.documents.canvas import (
    MARGIN,
    PageSetup,
    Row,
    open_document,
    paragraph,
    rows,
    title,
    to_bytes,
)
from web.documents.formats import Formats, as_utc, method_name
from web.documents.parties import draw_parties

FACTS_WIDTH = 120.0


@dataclass(frozen=True, slots=True)
class ReceiptDocument:
    """A payment and, when it paid an invoice, that invoice as it stands after the payment."""

    payment: Payment
    invoice: InvoiceSummary | None
    account: Account
    operator: OperatorConfig


def receipt_pdf(doc: ReceiptDocument) -> bytes:
    """The receipt in the account's language, times on the account's clock; same bytes for
    the same payment."""
    fmt = Formats.of(doc.account)
    with open_document(_setup(doc, fmt)) as pdf:
        draw_parties(pdf, doc.operator, doc.account, fmt, buyer=texts.RECEIVED_FROM)
        title(pdf, fmt.say(texts.RECEIPT_TITLE))
        rows(pdf, receipt_rows(doc, fmt), x=MARGIN, label_width=55, width=FACTS_WIDTH)
        pdf.ln(6)
        paragraph(pdf, fmt.say(texts.THANKS))
        return to_bytes(pdf)


def _setup(doc: ReceiptDocument, fmt: Formats) -> PageSetup:
    name = fmt.say(texts.RECEIPT_TITLE)
    return PageSetup(
        title=f"{name} {doc.payment.provider_reference}",
        author=doc.operator.name,
        created=as_utc(doc.payment.received_at),
        language=fmt.language_tag,
        footer=doc.operator.legal_footer,
        page_label=fmt.template(texts.PAGE, "page", "pages"),
    )


def receipt_rows(doc: ReceiptDocument, fmt: Formats) -> list[Row]:
    """Amount, date, method and reference, then the invoice it paid (or the balance)."""
    payment = doc.payment
    facts = [
        Row(fmt.say(texts.AMOUNT_RECEIVED), fmt.money(payment.amount), strong=True),
        Row(fmt.say(texts.DATE), fmt.moment(payment.received_at)),
        Row(fmt.say(texts.METHOD), method_name(payment.provider)),
        Row(fmt.say(texts.REFERENCE), payment.provider_reference),
    ]
    if doc.invoice is None:
        return [*facts, Row(fmt.say(texts.APPLIED_TO), fmt.say(texts.ACCOUNT_BALANCE))]
    invoice = doc.invoice
    return [
        *facts,
        Row(fmt.say(texts.INVOICE), invoice.number),
        Row(fmt.say(texts.INVOICE_TOTAL), fmt.money(invoice.total)),
        Row(fmt.say(texts.STILL_DUE), fmt.money(invoice.amount_due), strong=True),
    ]
