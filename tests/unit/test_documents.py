"""Invoice and receipt PDFs, read back with pypdf: what a customer would see on the page."""

from __future__ import annotations

import io
import re
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from PIL import Image
from pypdf import PdfReader

from billing_client.types import (
    Account,
    InvoiceDetail,
    InvoiceItem,
    InvoiceStatus,
    InvoiceSummary,
    Money,
    Payment,
)
from bot.operator import Bank, OperatorConfig, Support, Upi
from bot.payqr import pay_qr_payload
from web.documents import InvoiceDocument, ReceiptDocument, invoice_pdf, receipt_pdf

PAY_URL = "https://pay.example.com/pay/tok-abc123"
TAX_RATE = Decimal("0.0825")
OPERATOR = OperatorConfig(
    name="Example Mobile",
    legal_name="Example Mobile Ltd.",
    address=("1 Main Street", "Springfield, IL 62701"),
    tax_id="US-12-3456789",
    support=Support(phone="+1 202 555 0199", email="help@example.com"),
    legal_footer="Example Mobile Ltd. is a registered telecoms provider.",
    bank=Bank(iban="DE89370400440532013000", bic="COBADEFFXXX", beneficiary="Example GmbH"),
    upi=Upi(vpa="examplemobile@okbank", payee="Example Mobile India"),
)
FONTS = Path(__file__).resolve().parents[2] / "web" / "documents" / "fonts"


def account(locale: str = "en_US", currency: str = "USD", tz: str = "America/New_York") -> Account:
    return Account(1002, "Jane Doe", "jane@example.com", locale, tz, currency, "postpaid")


def items(currency: str, count: int = 2) -> tuple[InvoiceItem, ...]:
    plans = tuple(
        InvoiceItem(f"Unlimited plan {n}", Decimal("1"), Money(4000, currency), f"+1202555010{n}")
        for n in range(count)
    )
    extras = (
        InvoiceItem("Roaming data (GB)", Decimal("2.5"), Money(1250, currency), "+12025550100"),
        InvoiceItem("Loyalty", Decimal("1"), Money(-500, currency)),
    )
    return plans + extras


def detail(
    *,
    locale: str = "en_US",
    currency: str = "USD",
    status: InvoiceStatus = "open",
    paid: int = 0,
    lines: tuple[InvoiceItem, ...] | None = None,
) -> InvoiceDetail:
    lines = items(currency) if lines is None else lines
    subtotal = sum(item.amount.minor for item in lines)
    tax = subtotal * 825 // 10_000
    summary = InvoiceSummary(
        id=7,
        number="INV-2025-0007",
        status=status,
        issued_on=date(2025, 3, 1),
        due_on=date(2025, 3, 15),
        period_start=date(2025, 2, 1),
        period_end=date(2025, 2, 28),
        subtotal=Money(subtotal, currency),
        tax=Money(tax, currency),
        total=Money(subtotal + tax, currency),
        amount_paid=Money(paid, currency),
    )
    return InvoiceDetail(summary, account(locale, currency), lines, TAX_RATE)


def payment(currency: str = "USD", minor: int = 1000, at: datetime | None = None) -> Payment:
    received = at or datetime(2025, 3, 5, 15, 0, tzinfo=UTC)
    return Payment(1, 1002, 7, Money(minor, currency), "stripe", "pi_123", received, True)


def document(invoice: InvoiceDetail, *payments: Payment) -> InvoiceDocument:
    """What the web layer would pass: a pay link and QR only while something is due."""
    due = invoice.summary.amount_due
    if due.minor <= 0:
        return InvoiceDocument(invoice, payments, OPERATOR, None, None)
    payload = pay_qr_payload(
        currency=due.currency,
        pay_url=PAY_URL,
        operator=OPERATOR,
        amount=due,
        invoice_number=invoice.summary.number,
    )
    return InvoiceDocument(invoice, payments, OPERATOR, PAY_URL, payload)


def flat(text: str) -> str:
    # babel puts no-break and narrow no-break spaces in amounts and times; pypdf gives them
    # back as it finds them. Compare with every run of white space as one plain space.
    return re.sub(r"\s+", " ", text).strip()


def pages_of(data: bytes) -> list[str]:
    return [flat(page.extract_text()) for page in PdfReader(io.BytesIO(data)).pages]


def text_of(data: bytes) -> str:
    return " ".join(pages_of(data))


def assert_shows(text: str, *expected: str) -> None:
    missing = [item for item in expected if flat(item) not in text]
    assert missing == [], f"not on the page: {missing}"


# --- invoice --------------------------------------------------------------------------------
def test_an_invoice_shows_parties_number_dates_and_status() -> None:
    text = text_of(invoice_pdf(document(detail())))

    assert_shows(
        text,
        "Example Mobile Ltd.",
        "1 Main Street",
        "Springfield, IL 62701",
        "Tax ID: US-12-3456789",
        "+1 202 555 0199 · help@example.com",
        "Bill to",
        "Jane Doe",
        "jane@example.com",
        "Account no. 1002",
        "Invoice INV-2025-0007",
        "Issue date Mar 1, 2025",
        "Due date Mar 15, 2025",
        "Billing period Feb 1, 2025 – Feb 28, 2025",
        "Status Open",
        "Example Mobile Ltd. is a registered telecoms provider.",
        "Page 1 of 1",
    )


def test_an_invoice_lists_each_item_with_its_number_quantity_and_net_amount() -> None:
    text = text_of(invoice_pdf(document(detail())))

    assert_shows(
        text,
        "Description Phone number Qty Amount (net)",
        "Unlimited plan 0 +1 202-555-0100 1 $40.00",
        "Unlimited plan 1 +1 202-555-0101 1 $40.00",
        "Roaming data (GB) +1 202-555-0100 2.5 $12.50",
    )


def test_a_discount_reads_as_a_discount() -> None:
    text = text_of(invoice_pdf(document(detail())))

    assert_shows(text, "Discount: Loyalty 1 -$5.00")


def test_an_invoice_shows_subtotal_tax_with_its_rate_total_paid_and_due() -> None:
    invoice = detail(paid=1000)
    summary = invoice.summary
    text = text_of(invoice_pdf(document(invoice, payment())))

    assert (summary.subtotal.format(), summary.tax.format()) == ("$87.50", "$7.21")
    assert_shows(
        text,
        "Subtotal $87.50",
        "Tax 8.25 % $7.21",
        "Total $94.71",
        "Amount paid $10.00",
        "Amount due $84.71",
    )


def test_an_open_invoice_says_how_to_pay_with_the_link() -> None:
    text = text_of(invoice_pdf(document(detail())))

    assert_shows(
        text,
        "How to pay",
        "Please pay $94.71 by Mar 15, 2025.",
        f"Pay online: {PAY_URL}",
        "Scan the code to open the payment page.",
    )
    assert "IBAN" not in text  # a dollar invoice has no SEPA transfer


def test_the_pay_link_is_clickable_and_the_qr_code_is_drawn() -> None:
    reader = PdfReader(io.BytesIO(invoice_pdf(document(detail()))))
    page = reader.pages[0]
    uris = [note.get_object()["/A"]["/URI"] for note in page.get("/Annots", [])]

    assert PAY_URL in uris
    assert len(page.images) == 1


def test_a_spanish_euro_invoice_speaks_spanish_and_shows_the_bank_details() -> None:
    invoice = detail(locale="es_ES", currency="EUR")
    text = text_of(invoice_pdf(document(invoice)))

    assert Money(1250, "EUR").format("es_ES") == "12,50\xa0€"
    assert_shows(
        text,
        "Factura INV-2025-0007",
        "Fecha de emisión 1 mar 2025",
        "Estado Pendiente",
        "Concepto Número Cant. Importe (neto)",
        "Roaming data (GB) +1 202-555-0100 2,5 12,50 €",
        "Descuento: Loyalty 1 -5,00 €",
        "Impuestos 8,25 % 7,21 €",
        "Importe pendiente 94,71 €",
        "Cómo pagar",
        "Escanea el código con la app de tu banco para pagar por transferencia.",
        "Transferencia bancaria",
        "Beneficiario Example GmbH",
        "IBAN DE89 3704 0044 0532 0130 00",
        "BIC COBADEFFXXX",
        "Referencia INV-2025-0007",
        "Página 1 de 1",
    )


def test_a_rupee_invoice_shows_the_upi_details() -> None:
    invoice = detail(locale="en_IN", currency="INR")
    text = text_of(invoice_pdf(document(invoice)))

    assert_shows(
        text,
        "₹94.71",
        "Scan the code with any UPI app to pay.",
        "UPI ID examplemobile@okbank",
        "Payee Example Mobile India",
    )
    assert "IBAN" not in text


def test_a_paid_invoice_shows_the_payment_and_no_way_to_pay() -> None:
    invoice = detail(status="paid", paid=9471)
    data = invoice_pdf(document(invoice, payment(minor=9471)))
    text = text_of(data)

    assert_shows(
        text,
        "Status Paid",
        "Amount due $0.00",
        "Payments received",
        "Date Method Amount Reference",
        "Mar 5, 2025, 10:00 AM Stripe $94.71 pi_123",  # 15:00 UTC in New York
    )
    assert "How to pay" not in text
    assert PAY_URL not in text
    assert len(PdfReader(io.BytesIO(data)).pages[0].images) == 0


@pytest.mark.parametrize(("status", "word"), [("overdue", "Overdue"), ("void", "Void")])
def test_the_status_is_printed_in_words(status: InvoiceStatus, word: str) -> None:
    text = text_of(invoice_pdf(document(detail(status=status))))

    assert_shows(text, f"Status {word}")


def test_a_void_invoice_asks_for_no_payment() -> None:
    text = text_of(invoice_pdf(document(detail(status="void"))))

    assert "How to pay" not in text


def test_an_unsupported_language_falls_back_to_english_words() -> None:
    text = text_of(invoice_pdf(document(detail(locale="fr_FR", currency="EUR"))))

    assert_shows(text, "Invoice INV-2025-0007", "Amount due", "94,71 €")


def test_many_items_flow_over_several_pages_numbered_n_of_total() -> None:
    lines = tuple(
        InvoiceItem(f"Usage line {n:03d}", Decimal("1"), Money(100, "USD")) for n in range(120)
    )
    pages = pages_of(invoice_pdf(document(detail(lines=lines))))
    total = len(pages)

    assert total >= 3
    for number, page in enumerate(pages, start=1):
        assert f"Page {number} of {total}" in page
    assert "Description Phone number Qty Amount (net)" in pages[1]  # headings repeat
    assert all(f"Usage line {n:03d}" in " ".join(pages) for n in range(120))
    assert "Usage line 119" not in pages[0]
    assert "Amount due $129.90" in pages[-1]


def test_the_pdf_metadata_names_the_invoice_and_operator_and_pins_the_date() -> None:
    reader = PdfReader(io.BytesIO(invoice_pdf(document(detail(locale="es_ES", currency="EUR")))))
    metadata = reader.metadata

    assert metadata is not None
    assert metadata.title == "Factura INV-2025-0007"
    assert metadata.author == "Example Mobile"
    assert metadata.creation_date == datetime(2025, 3, 1, tzinfo=UTC)
    assert str(reader.root_object["/Lang"]) == "es-ES"


def test_the_same_invoice_gives_the_same_bytes() -> None:
    doc = document(detail(locale="es_ES", currency="EUR"), payment("EUR"))

    assert invoice_pdf(doc) == invoice_pdf(doc)


def test_a_bad_iban_in_the_configuration_is_refused_not_printed() -> None:
    doc = document(detail(currency="EUR"))
    broken = replace(doc, operator=replace(OPERATOR, bank=Bank(iban="DE00370400440532013000")))

    with pytest.raises(ValueError, match="IBAN"):
        invoice_pdf(broken)


def test_a_png_logo_is_drawn_and_an_unreadable_one_is_left_out(tmp_path: Path) -> None:
    png = tmp_path / "logo.png"
    Image.new("RGB", (300, 100), (11, 92, 173)).save(png)
    broken = tmp_path / "logo.svg"
    broken.write_text('<svg xmlns="http://www.w3.org/2000/svg"><oops', encoding="utf-8")
    paid = detail(status="paid", paid=9471)  # no QR code: the logo is the only image

    with_logo = invoice_pdf(replace(document(paid), operator=replace(OPERATOR, logo=png)))
    without = invoice_pdf(replace(document(paid), operator=replace(OPERATOR, logo=broken)))

    assert len(PdfReader(io.BytesIO(with_logo)).pages[0].images) == 1
    assert_shows(text_of(without), "Invoice INV-2025-0007")


# --- receipt --------------------------------------------------------------------------------
def receipt(locale: str = "en_US", currency: str = "USD", **changes: object) -> ReceiptDocument:
    invoice = replace(detail(currency=currency).summary, amount_paid=Money(1000, currency))
    late_evening = datetime(2025, 3, 5, 2, 30, tzinfo=UTC)  # still March 4 in New York
    fields: dict[str, object] = {
        "payment": payment(currency, at=late_evening),
        "invoice": invoice,
        "account": account(locale, currency),
        "operator": OPERATOR,
    }
    fields.update(changes)
    return ReceiptDocument(**fields)  # type: ignore[arg-type]


def test_a_receipt_shows_amount_date_method_reference_and_what_remains() -> None:
    text = text_of(receipt_pdf(receipt()))

    assert_shows(
        text,
        "Example Mobile Ltd.",
        "Received from",
        "Jane Doe",
        "Payment receipt",
        "Amount received $10.00",
        "Date Mar 4, 2025, 9:30 PM",  # the account's clock, not UTC
        "Method Stripe",
        "Reference pi_123",
        "Invoice INV-2025-0007",
        "Invoice total $94.71",
        "Still due on this invoice $84.71",
        "Thank you for your payment.",
        "Page 1 of 1",
    )


def test_a_spanish_receipt_speaks_spanish() -> None:
    text = text_of(receipt_pdf(receipt("es_ES", "EUR")))

    assert_shows(
        text,
        "Recibo de pago",
        "Importe recibido 10,00 €",
        "Fecha 4 mar 2025, 21:30",
        "Pendiente en esta factura 84,71 €",
        "Gracias por tu pago.",
    )


def test_a_receipt_without_an_invoice_says_it_went_to_the_balance() -> None:
    text = text_of(receipt_pdf(receipt(invoice=None)))

    assert_shows(text, "Applied to Account balance")
    assert "Still due" not in text


def test_the_same_receipt_gives_the_same_bytes_dated_by_the_payment() -> None:
    doc = receipt()
    data = receipt_pdf(doc)
    metadata = PdfReader(io.BytesIO(data)).metadata

    assert data == receipt_pdf(doc)
    assert metadata is not None
    assert metadata.creation_date == datetime(2025, 3, 5, 2, 30, tzinfo=UTC)


# --- packaging ------------------------------------------------------------------------------
def test_the_unicode_fonts_ship_with_their_licence() -> None:
    names = {path.name for path in FONTS.iterdir()}

    assert {"DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "LICENSE"} <= names
    assert "Bitstream Vera" in (FONTS / "LICENSE").read_text(encoding="utf-8")
