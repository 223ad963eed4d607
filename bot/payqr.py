"""What a payment QR code carries: the bank-native payload where one exists, else the pay link.

Formats per docs/reference billing_payments.md §5: EPC069-12 v002 ("GiroCode", SEPA credit
transfer, EUR) and the NPCI UPI deep link (INR). A bank app scanning these fills in payee,
amount and reference itself, so the customer types nothing; everywhere else the QR simply
opens the HTTPS pay page. Images are rendered with `qrcode` at error-correction level M, as
EPC069-12 requires (which also keeps a 331-byte payload within QR version 13).
"""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
from decimal import Decimal
from typing import Literal
from urllib.parse import quote

import qrcode
import qrcode.constants
import qrcode.image.svg

from billing_client.types import Money
from bot.operator import OperatorConfig

QrScheme = Literal["epc", "upi", "link"]

EPC_MAX_BYTES = 331
EPC_MAX_NAME = 70
EPC_MAX_TEXT = 140
EPC_MIN_MINOR = 1  # EUR 0.01
EPC_MAX_MINOR = 99_999_999_999  # EUR 999999999.99
_IBAN = re.compile(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}")
_BIC = re.compile(r"[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}(?:[A-Z0-9]{3})?")
_CREDITOR_REFERENCE = re.compile(r"RF[0-9]{2}[A-Z0-9]{1,21}")  # ISO 11649
_VPA = re.compile(r"[A-Za-z0-9._-]+@[A-Za-z0-9.-]+")
_NOT_ALPHANUMERIC = re.compile(r"[^A-Za-z0-9]")
QR_BOX_SIZE = 8
QR_BORDER = 4  # the quiet zone ISO/IEC 18004 asks for; scanners struggle with less


def epc_payload(
    *,
    bic: str,
    beneficiary: str,
    iban: str,
    amount: Money,
    reference_text: str = "",
    creditor_reference: str = "",
) -> str:
    """The EPC069-12 v002 SEPA credit-transfer payload; ValueError when a field breaks the spec.

    Character set 1 (UTF-8), no purpose code. The remittance is either free text (≤ 140) or an
    ISO 11649 creditor reference ("RF…"), never both. Trailing empty lines are left out.
    """
    if reference_text and creditor_reference:
        raise ValueError("EPC QR: give either a remittance text or a creditor reference")
    lines = [
        "BCD",
        "002",
        "1",  # UTF-8
        "SCT",
        _epc_bic(bic),
        _epc_name(beneficiary),
        normalize_iban(iban),
        _epc_amount(amount),
        "",  # purpose (AT-44): none
        _creditor_reference(creditor_reference),
        _epc_text(reference_text),
    ]
    payload = "\n".join(lines).rstrip("\n")
    if len(payload.encode("utf-8")) > EPC_MAX_BYTES:
        raise ValueError(f"EPC QR: the payload exceeds {EPC_MAX_BYTES} bytes")
    return payload


def upi_payload(*, vpa: str, payee: str, amount: Money, note: str, reference: str) -> str:
    """The NPCI UPI deep link `upi://pay?…`, every value percent-encoded (spaces as %20).

    An empty note or reference is left out. The link only starts a payment: success is known
    from the provider's confirmation, never from the link.
    """
    if amount.currency != "INR":
        raise ValueError(f"UPI QR: INR only, not {amount.currency}")
    if amount.minor <= 0:
        raise ValueError("UPI QR: the amount must be positive")
    if not _VPA.fullmatch(vpa):
        raise ValueError(f"UPI QR: {vpa!r} is not a UPI id (name@handle)")
    if not payee.strip():
        raise ValueError("UPI QR: the payee name is mandatory")
    params = [
        ("pa", quote(vpa, safe="@")),
        ("pn", quote(payee.strip(), safe="")),
        ("am", f"{amount.amount:.2f}"),
        ("cu", "INR"),
        ("tn", quote(note.strip(), safe="")),
        ("tr", quote(reference.strip(), safe="")),
    ]
    return "upi://pay?" + "&".join(f"{key}={value}" for key, value in params if value)


def qr_scheme(*, currency: str, operator: OperatorConfig) -> QrScheme:
    """Which payload an invoice in `currency` gets: a bank-native one when the operator has
    the account for it (IBAN for EUR, UPI id for INR), else the plain pay link."""
    if currency == "EUR" and operator.bank.iban:
        return "epc"
    if currency == "INR" and operator.upi.vpa:
        return "upi"
    return "link"


def payload_scheme(payload: str) -> QrScheme:
    """Which kind of payload `payload` is, so a page can say how to scan it."""
    if payload.startswith("BCD\n"):
        return "epc"
    if payload.startswith("upi://"):
        return "upi"
    return "link"


def pay_qr_payload(
    *, currency: str, pay_url: str, operator: OperatorConfig, amount: Money, invoice_number: str
) -> str:
    """What the payment QR of an invoice carries.

    Design: the HTTPS pay link is always shown as a link as well; the QR carries the
    bank-native payload where one exists (EPC for EUR with an IBAN, UPI for INR with a UPI
    id), because a banking app then pays without the customer typing anything. With no such
    account, or nothing to pay, the QR is the pay link itself. A bad IBAN or BIC in the
    operator's configuration raises ValueError rather than printing an unpayable code.
    """
    scheme = qr_scheme(currency=currency, operator=operator)
    if amount.minor <= 0 or scheme == "link":
        return pay_url
    if scheme == "epc":
        return epc_payload(
            bic=operator.bank.bic,
            beneficiary=bank_beneficiary(operator),
            iban=operator.bank.iban,
            amount=amount,
            reference_text=f"Invoice {invoice_number}",
        )
    return upi_payload(
        vpa=operator.upi.vpa,
        payee=upi_payee(operator),
        amount=amount,
        note=f"Bill {invoice_number}",
        reference=_NOT_ALPHANUMERIC.sub("", invoice_number),
    )


def bank_beneficiary(operator: OperatorConfig) -> str:
    """The account holder named on transfers: the configured one, else the legal name."""
    return operator.bank.beneficiary or operator.legal_name


def upi_payee(operator: OperatorConfig) -> str:
    """The payee name UPI apps show: the configured one, else the trading name."""
    return operator.upi.payee or operator.name


def qr_png(data: str) -> bytes:
    """PNG bytes of a QR code for `data` (CPU work: run it off the event loop)."""
    image = _qr(data).make_image()
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def qr_svg(data: str, label: str = "Payment QR code") -> str:
    """An inline `<svg role="img" aria-label=…>` QR code of `data`, for HTML pages.

    A white background is drawn in, so the code still scans on a page in dark mode; the
    path's fixed id is dropped so that two codes on one page do not share an id.
    """
    image = _qr(data).make_image(image_factory=qrcode.image.svg.SvgPathFillImage)
    root: ET.Element = image.get_image()
    root.set("role", "img")
    root.set("aria-label", label)
    for path in root.iter("path"):
        path.attrib.pop("id", None)
    return ET.tostring(root, encoding="unicode")


def normalize_iban(iban: str) -> str:
    """The IBAN without spaces, upper case; ValueError unless its mod-97 check digits hold."""
    compact = "".join(iban.split()).upper()
    if not _IBAN.fullmatch(compact) or not _mod97_ok(compact):
        raise ValueError("not a valid IBAN (format or check digits)")
    return compact


def format_iban(iban: str) -> str:
    """The IBAN in groups of four, as people read and type it: "DE89 3704 0044 …"."""
    compact = normalize_iban(iban)
    return " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))


def _qr(data: str) -> qrcode.QRCode:
    qr = qrcode.QRCode(
        error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=QR_BOX_SIZE, border=QR_BORDER
    )
    qr.add_data(data)
    qr.make(fit=True)
    return qr


def _mod97_ok(code: str) -> bool:
    # ISO 7064 MOD 97-10, shared by IBAN and ISO 11649: first four characters moved to the
    # end, letters as 10..35, the number must leave remainder 1.
    rearranged = code[4:] + code[:4]
    return int("".join(str(int(char, 36)) for char in rearranged)) % 97 == 1


def _epc_bic(bic: str) -> str:
    compact = bic.strip().upper()
    if compact and not _BIC.fullmatch(compact):
        raise ValueError(f"EPC QR: {bic!r} is not a BIC (8 or 11 characters)")
    return compact


def _epc_name(name: str) -> str:
    name = _one_line(name, "beneficiary name")
    if not name or len(name) > EPC_MAX_NAME:
        raise ValueError(f"EPC QR: the beneficiary name needs 1 to {EPC_MAX_NAME} characters")
    return name


def _epc_amount(amount: Money) -> str:
    if amount.currency != "EUR":
        raise ValueError(f"EPC QR: euro only, not {amount.currency}")
    if not EPC_MIN_MINOR <= amount.minor <= EPC_MAX_MINOR:
        raise ValueError("EPC QR: the amount must be 0.01 to 999999999.99 EUR")
    return f"EUR{amount.amount.quantize(Decimal('0.01')):f}"


def _epc_text(text: str) -> str:
    text = _one_line(text, "remittance text")
    if len(text) > EPC_MAX_TEXT:
        raise ValueError(f"EPC QR: the remittance text exceeds {EPC_MAX_TEXT} characters")
    return text


def _creditor_reference(reference: str) -> str:
    compact = "".join(reference.split()).upper()
    if compact and not (_CREDITOR_REFERENCE.fullmatch(compact) and _mod97_ok(compact)):
        raise ValueError(f"EPC QR: {reference!r} is not an ISO 11649 creditor reference")
    return compact


def _one_line(text: str, what: str) -> str:
    # A line break would shift every following element of the line-based payload.
    if "\n" in text or "\r" in text:
        raise ValueError(f"EPC QR: the {what} must be on one line")
    return text.strip()
