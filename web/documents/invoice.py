"""The invoice PDF: parties, dates, line items, totals, payments and how to pay what is due."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time

from fpdf import FPDF

from billing_client.types import InvoiceDetail, InvoiceItem, Payment
from bot.operator import OperatorConfig
from bot.payqr import (
    bank_beneficiary,
    format_iban,
    payload_scheme,
    qr_png,
    qr_scheme,
    upi_payee,
)
from bot.phones import display
from web.documents import texts
from web.documents.canvas import (
    MARGIN,
    PageSetup,
    Row,
    image,
    link,
    open_document,
    paragraph,
    rows,
    section,
    table,
    title,
    to_bytes,
)
from web.documents.formats import Formats, method_name
from web.documents.parties import draw_parties

ITEM_WIDTHS = (80.0, 40.0, 18.0, 36.0)  # description, number, quantity, net: 174 mm
PAYMENT_WIDTHS = (50.0, 36.0, 36.0, 52.0)  # date, method, amount, reference
TOTALS_WIDTH = 90.0
QR_SIZE = 36.0
PAYABLE = ("open", "overdue")


@dataclass(frozen=True, slots=True)
class InvoiceDocument:
    """Everything an invoice PDF shows. `pay_url` is None when nothing is due; `qr_payload`
    (from bot.payqr.pay_qr_payload) is drawn as a QR code when given."""

    detail: InvoiceDetail
    payments: tuple[Payment, ...]
    operator: OperatorConfig
    pay_url: str | None
    qr_payload: str | None


def invoice_pdf(doc: InvoiceDocument) -> bytes:
    """The invoice in the account's language; the same document always gives the same bytes.

    ValueError when the operator's IBAN is invalid: an invoice must not print bank details
    that would send the customer's money astray.
    """
    fmt = Formats.of(doc.detail.account)
    with open_document(_setup(doc, fmt)) as pdf:
        draw_parties(pdf, doc.operator, doc.detail.account, fmt, buyer=texts.BILL_TO)
        _heading(pdf, doc.detail, fmt)
        _items(pdf, doc.detail.items, fmt)
        _totals(pdf, doc.detail, fmt)
        _payments(pdf, doc.payments, fmt)
        if _payable(doc.detail):
            _how_to_pay(pdf, doc, fmt)
        return to_bytes(pdf)


def _setup(doc: InvoiceDocument, fmt: Formats) -> PageSetup:
    summary = doc.detail.summary
    return PageSetup(
        title=fmt.say(texts.INVOICE_TITLE, number=summary.number),
        author=doc.operator.name,
        created=datetime.combine(summary.issued_on, time(), tzinfo=UTC),
        language=fmt.language_tag,
        footer=doc.operator.legal_footer,
        page_label=fmt.template(texts.PAGE, "page", "pages"),
    )


def _payable(detail: InvoiceDetail) -> bool:
    return detail.summary.status in PAYABLE and detail.summary.amount_due.minor > 0


def _heading(pdf: FPDF, detail: InvoiceDetail, fmt: Formats) -> None:
    summary = detail.summary
    title(pdf, fmt.say(texts.INVOICE_TITLE, number=summary.number))
    period = fmt.say(
        texts.PERIOD_RANGE, start=fmt.day(summary.period_start), end=fmt.day(summary.period_end)
    )
    facts = [
        Row(fmt.say(texts.ISSUED_ON), fmt.day(summary.issued_on)),
        Row(fmt.say(texts.DUE_ON), fmt.day(summary.due_on)),
        Row(fmt.say(texts.PERIOD), period),
        Row(fmt.say(texts.STATUS), fmt.say(texts.STATUS_WORDS[summary.status]), strong=True),
    ]
    rows(pdf, facts, x=MARGIN, label_width=45, width=110)
    pdf.ln(4)


def _items(pdf: FPDF, items: Sequence[InvoiceItem], fmt: Formats) -> None:
    headings = [
        fmt.say(texts.COLUMN_DESCRIPTION),
        fmt.say(texts.COLUMN_NUMBER),
        fmt.say(texts.COLUMN_QUANTITY),
        fmt.say(texts.COLUMN_NET),
    ]
    table(pdf, headings, [_item_cells(item, fmt) for item in items], widths=ITEM_WIDTHS, right=2)


def _item_cells(item: InvoiceItem, fmt: Formats) -> list[str]:
    description = item.description
    if item.amount.minor < 0:  # a discount reads as one, not as a negative charge
        description = fmt.say(texts.DISCOUNT, description=description)
    number = display(item.msisdn) if item.msisdn else ""
    return [description, number, fmt.number(item.quantity), fmt.money(item.amount)]


def _totals(pdf: FPDF, detail: InvoiceDetail, fmt: Formats) -> None:
    summary = detail.summary
    lines = [
        Row(fmt.say(texts.SUBTOTAL), fmt.money(summary.subtotal)),
        Row(fmt.say(texts.TAX, rate=fmt.rate(detail.tax_rate)), fmt.money(summary.tax)),
        Row(fmt.say(texts.TOTAL), fmt.money(summary.total), strong=True),
        Row(fmt.say(texts.AMOUNT_PAID), fmt.money(summary.amount_paid)),
        Row(fmt.say(texts.AMOUNT_DUE), fmt.money(summary.amount_due), strong=True),
    ]
    if pdf.will_page_break(len(lines) * 6 + 4):
        pdf.add_page()  # the totals stay together
    pdf.ln(3)
    x = pdf.w - MARGIN - TOTALS_WIDTH
    rows(pdf, lines, x=x, label_width=TOTALS_WIDTH * 0.6, width=TOTALS_WIDTH, numbers=True)


def _payments(pdf: FPDF, payments: Sequence[Payment], fmt: Formats) -> None:
    if not payments:
        return
    section(pdf, fmt.say(texts.PAYMENTS))
    headings = [
        fmt.say(texts.DATE),
        fmt.say(texts.METHOD),
        fmt.say(texts.AMOUNT),
        fmt.say(texts.REFERENCE),
    ]
    body = [_payment_cells(payment, fmt) for payment in payments]
    table(pdf, headings, body, widths=PAYMENT_WIDTHS, right=0)


def _payment_cells(payment: Payment, fmt: Formats) -> list[str]:
    return [
        fmt.moment(payment.received_at),
        method_name(payment.provider),
        fmt.money(payment.amount),
        payment.provider_reference,
    ]


def _how_to_pay(pdf: FPDF, doc: InvoiceDocument, fmt: Formats) -> None:
    summary = doc.detail.summary
    section(pdf, fmt.say(texts.HOW_TO_PAY))
    due = fmt.day(summary.due_on)
    paragraph(pdf, fmt.say(texts.PAY_BY, amount=fmt.money(summary.amount_due), due=due))
    if doc.pay_url:
        link(pdf, fmt.say(texts.PAY_ONLINE), doc.pay_url)
    pdf.ln(2)
    details = _account_details(doc, fmt)
    if doc.qr_payload:
        _qr_with_details(pdf, doc.qr_payload, details, fmt)
    elif details:
        rows(pdf, details, x=MARGIN, label_width=32, width=120)


def _qr_with_details(pdf: FPDF, payload: str, details: Sequence[Row], fmt: Formats) -> None:
    """The QR on the left, what it is for and the account details beside it, kept on one
    page together."""
    if pdf.will_page_break(QR_SIZE + 2):
        pdf.add_page()
    top = pdf.get_y()
    image(pdf, qr_png(payload), x=MARGIN, y=top, size=QR_SIZE)
    x = MARGIN + QR_SIZE + 6
    pdf.set_y(top + 2)
    paragraph(pdf, fmt.say(texts.SCAN[payload_scheme(payload)]), x=x, width=pdf.w - MARGIN - x)
    pdf.ln(1)
    rows(pdf, details, x=x, label_width=32, width=pdf.w - MARGIN - x)
    pdf.set_y(max(pdf.get_y(), top + QR_SIZE) + 2)


def _account_details(doc: InvoiceDocument, fmt: Formats) -> list[Row]:
    """Bank (EPC, EUR) or UPI (INR) details, so the customer can also pay without scanning."""
    operator = doc.operator
    scheme = qr_scheme(currency=doc.detail.summary.amount_due.currency, operator=operator)
    if scheme == "epc":
        bank = [
            Row(fmt.say(texts.BANK_TRANSFER), "", strong=True),
            Row(fmt.say(texts.BENEFICIARY), bank_beneficiary(operator)),
            Row("IBAN", format_iban(operator.bank.iban)),
            Row("BIC", operator.bank.bic),
            Row(fmt.say(texts.REFERENCE), doc.detail.summary.number),
        ]
        return [row for row in bank if row.value or row.strong]
    if scheme == "upi":
        return [
            Row(fmt.say(texts.UPI), "", strong=True),
            Row(fmt.say(texts.UPI_ID), operator.upi.vpa),
            Row(fmt.say(texts.PAYEE), upi_payee(operator)),
        ]
    return []
