"""Payment QR payloads, checked against the worked examples of billing_payments.md §5."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
import qrcode
import qrcode.constants

from billing_client.types import Money
from bot.operator import Bank, OperatorConfig, Upi
from bot.payqr import (
    EPC_MAX_BYTES,
    epc_payload,
    format_iban,
    normalize_iban,
    pay_qr_payload,
    payload_scheme,
    qr_png,
    qr_scheme,
    qr_svg,
    upi_payload,
)

IBAN = "DE89370400440532013000"
PAY_URL = "https://pay.example.com/pay/tok123"
EUR_4990 = Money(4990, "EUR")
INR_799 = Money(79900, "INR")


def _epc(**overrides: object) -> str:
    fields: dict[str, object] = {
        "bic": "",
        "beneficiary": "Example Telecom GmbH",
        "iban": IBAN,
        "amount": EUR_4990,
        "reference_text": "Invoice INV-2024-001",
    }
    fields.update(overrides)
    return epc_payload(**fields)  # type: ignore[arg-type]


# --- EPC069-12 ------------------------------------------------------------------------------
def test_epc_reproduces_the_references_creditor_reference_example() -> None:
    payload = _epc(reference_text="", creditor_reference="RF18539007547034")

    assert payload == (
        "BCD\n002\n1\nSCT\n\nExample Telecom GmbH\nDE89370400440532013000\nEUR49.90\n\n"
        "RF18539007547034"
    )


def test_epc_reproduces_the_references_unstructured_variant() -> None:
    payload = _epc(reference_text="Invoice INV-2024-001 Acct 1002003")

    assert payload.split("\n") == [
        "BCD",
        "002",
        "1",
        "SCT",
        "",
        "Example Telecom GmbH",
        IBAN,
        "EUR49.90",
        "",
        "",
        "Invoice INV-2024-001 Acct 1002003",
    ]


def test_epc_carries_a_bic_when_given_and_normalises_it() -> None:
    assert _epc(bic="cobadeffxxx").split("\n")[4] == "COBADEFFXXX"
    assert _epc(bic="COBADEFF").split("\n")[4] == "COBADEFF"


def test_epc_refuses_a_malformed_bic() -> None:
    with pytest.raises(ValueError, match="BIC"):
        _epc(bic="COBADE")


def test_epc_without_remittance_ends_at_the_amount_line() -> None:
    payload = _epc(reference_text="")

    assert payload.endswith("\nEUR49.90")
    assert not payload.endswith("\n")


def test_epc_accepts_an_iban_written_with_spaces_and_lower_case() -> None:
    payload = _epc(iban="de89 3704 0044 0532 0130 00")

    assert payload.split("\n")[6] == IBAN


def test_epc_refuses_an_iban_whose_check_digits_fail() -> None:
    with pytest.raises(ValueError, match="IBAN"):
        _epc(iban="DE88370400440532013000")


def test_epc_refuses_an_iban_with_a_mistyped_digit() -> None:
    with pytest.raises(ValueError, match="IBAN"):
        _epc(iban="DE89370400440532013001")


def test_epc_refuses_a_name_longer_than_seventy_characters() -> None:
    assert _epc(beneficiary="N" * 70).split("\n")[5] == "N" * 70
    with pytest.raises(ValueError, match="beneficiary name"):
        _epc(beneficiary="N" * 71)


def test_epc_refuses_an_empty_name() -> None:
    with pytest.raises(ValueError, match="beneficiary name"):
        _epc(beneficiary="  ")


def test_epc_refuses_a_line_break_inside_a_field() -> None:
    with pytest.raises(ValueError, match="one line"):
        _epc(reference_text="Invoice\nINV-1")


@pytest.mark.parametrize("currency", ["USD", "INR", "CHF"])
def test_epc_refuses_anything_but_euro(currency: str) -> None:
    with pytest.raises(ValueError, match="euro only"):
        _epc(amount=Money(4990, currency))


@pytest.mark.parametrize("minor", [0, -1, 100_000_000_000])
def test_epc_refuses_an_amount_outside_its_range(minor: int) -> None:
    with pytest.raises(ValueError, match="amount"):
        _epc(amount=Money(minor, "EUR"))


@pytest.mark.parametrize(
    ("minor", "text"), [(1, "EUR0.01"), (1200, "EUR12.00"), (99_999_999_999, "EUR999999999.99")]
)
def test_epc_writes_the_amount_with_two_decimals(minor: int, text: str) -> None:
    assert _epc(amount=Money(minor, "EUR")).split("\n")[7] == text


def test_epc_refuses_a_remittance_text_over_140_characters() -> None:
    assert _epc(reference_text="x" * 140).endswith("\n" + "x" * 140)
    with pytest.raises(ValueError, match="140"):
        _epc(reference_text="x" * 141)


def test_epc_takes_a_text_or_a_creditor_reference_not_both() -> None:
    with pytest.raises(ValueError, match="either"):
        _epc(reference_text="Invoice 1", creditor_reference="RF18539007547034")


def test_epc_refuses_a_creditor_reference_with_bad_check_digits() -> None:
    with pytest.raises(ValueError, match="11649"):
        _epc(reference_text="", creditor_reference="RF19539007547034")


def test_epc_counts_the_331_byte_limit_in_utf8_bytes() -> None:
    # 70 + 140 two-byte characters: within the character limits, over the byte limit.
    with pytest.raises(ValueError, match=str(EPC_MAX_BYTES)):
        _epc(beneficiary="é" * 70, reference_text="é" * 140)


def test_a_payload_at_the_byte_limit_fits_qr_version_13_at_level_m() -> None:
    payload = _epc(bic="COBADEFFXXX", beneficiary="N" * 70, reference_text="é" * 100)
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M)
    qr.add_data(payload)
    qr.make(fit=True)

    assert len(payload.encode("utf-8")) == EPC_MAX_BYTES
    assert qr.version <= 13
    with pytest.raises(ValueError, match=str(EPC_MAX_BYTES)):
        _epc(bic="COBADEFFXXX", beneficiary="N" * 70, reference_text="é" * 100 + "x")


def test_iban_helpers_normalise_and_group() -> None:
    assert normalize_iban(" de89 3704 0044 0532 0130 00 ") == IBAN
    assert format_iban(IBAN) == "DE89 3704 0044 0532 0130 00"


# --- UPI ------------------------------------------------------------------------------------
def test_upi_reproduces_the_references_example() -> None:
    link = upi_payload(
        vpa="examplebroadband@okaxis",
        payee="Example Broadband Pvt Ltd",
        amount=INR_799,
        note="Bill INV-2024-001",
        reference="INV2024001",
    )

    assert link == (
        "upi://pay?pa=examplebroadband@okaxis&pn=Example%20Broadband%20Pvt%20Ltd&am=799.00"
        "&cu=INR&tn=Bill%20INV-2024-001&tr=INV2024001"
    )


def test_upi_percent_encodes_spaces_and_ampersands_in_the_note() -> None:
    link = upi_payload(
        vpa="shop@okbank", payee="A & B", amount=INR_799, note="Top up & save", reference="R1"
    )

    assert "pn=A%20%26%20B&" in link
    assert "tn=Top%20up%20%26%20save&" in link
    assert link.count("&") == 5  # only the separators of the six parameters


def test_upi_leaves_out_an_empty_note_and_reference() -> None:
    link = upi_payload(vpa="shop@okbank", payee="Shop", amount=INR_799, note="", reference="")

    assert link == "upi://pay?pa=shop@okbank&pn=Shop&am=799.00&cu=INR"


def test_upi_refuses_other_currencies() -> None:
    with pytest.raises(ValueError, match="INR only"):
        upi_payload(vpa="a@b", payee="Shop", amount=EUR_4990, note="", reference="")


@pytest.mark.parametrize("vpa", ["", "no-handle", "two@@ats", "sp ace@bank"])
def test_upi_refuses_a_malformed_upi_id(vpa: str) -> None:
    with pytest.raises(ValueError, match="UPI id"):
        upi_payload(vpa=vpa, payee="Shop", amount=INR_799, note="", reference="")


# --- choosing the payload -------------------------------------------------------------------
EUR_OPERATOR = OperatorConfig(
    name="Example", legal_name="Example Mobile Ltd.", bank=Bank(iban=IBAN, bic="COBADEFFXXX")
)
INR_OPERATOR = OperatorConfig(name="Example Mobile", upi=Upi(vpa="examplemobile@okbank"))


def _pay(currency: str, operator: OperatorConfig, minor: int = 4990) -> str:
    return pay_qr_payload(
        currency=currency,
        pay_url=PAY_URL,
        operator=operator,
        amount=Money(minor, currency),
        invoice_number="INV-2025-0007",
    )


def test_a_euro_invoice_with_an_iban_gets_the_epc_payload() -> None:
    assert _pay("EUR", EUR_OPERATOR).split("\n") == [
        "BCD",
        "002",
        "1",
        "SCT",
        "COBADEFFXXX",
        "Example Mobile Ltd.",  # no beneficiary configured: the legal name
        IBAN,
        "EUR49.90",
        "",
        "",
        "Invoice INV-2025-0007",
    ]


def test_a_rupee_invoice_with_a_upi_id_gets_the_upi_link() -> None:
    assert _pay("INR", INR_OPERATOR, 79900) == (
        "upi://pay?pa=examplemobile@okbank&pn=Example%20Mobile&am=799.00&cu=INR"
        "&tn=Bill%20INV-2025-0007&tr=INV20250007"
    )


@pytest.mark.parametrize(
    ("currency", "operator"),
    [("USD", EUR_OPERATOR), ("EUR", OperatorConfig()), ("INR", EUR_OPERATOR)],
)
def test_without_a_bank_native_scheme_the_qr_is_the_pay_link(
    currency: str, operator: OperatorConfig
) -> None:
    assert qr_scheme(currency=currency, operator=operator) == "link"
    assert _pay(currency, operator) == PAY_URL


def test_nothing_to_pay_gives_the_pay_link_not_an_invalid_epc_code() -> None:
    assert _pay("EUR", EUR_OPERATOR, 0) == PAY_URL


def test_a_bad_iban_in_the_configuration_is_refused_not_printed() -> None:
    operator = OperatorConfig(bank=Bank(iban="DE00370400440532013000"))

    with pytest.raises(ValueError, match="IBAN"):
        _pay("EUR", operator)


def test_the_kind_of_payload_is_told_from_its_text() -> None:
    assert payload_scheme(_pay("EUR", EUR_OPERATOR)) == "epc"
    assert payload_scheme(_pay("INR", INR_OPERATOR, 79900)) == "upi"
    assert payload_scheme(PAY_URL) == "link"


# --- images ---------------------------------------------------------------------------------
def test_qr_png_returns_png_bytes() -> None:
    assert qr_png(_pay("EUR", EUR_OPERATOR)).startswith(b"\x89PNG\r\n\x1a\n")


def test_qr_svg_is_an_inline_labelled_image() -> None:
    svg = qr_svg(PAY_URL, label="Pay & scan")
    root = ET.fromstring(svg)

    assert svg.startswith("<svg")
    assert "<?xml" not in svg
    assert root.get("role") == "img"
    assert root.get("aria-label") == "Pay & scan"
    assert 'id="' not in svg  # two codes on one page must not share an id


def test_the_same_data_gives_the_same_images() -> None:
    assert qr_png(PAY_URL) == qr_png(PAY_URL)
    assert qr_svg(PAY_URL) == qr_svg(PAY_URL)
