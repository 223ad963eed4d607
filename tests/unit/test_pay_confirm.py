"""The 'payment received' message itself: its words, its language and its once-only key."""

from __future__ import annotations

from billing_client import Payment
from bot.pay_confirm import KIND, receipt
from bot.store.pay_origins import Origin
from tests.fakes import NOW, usd

PAYMENT = Payment(
    id=7,
    account_id=1,
    invoice_id=100,
    amount=usd("64.20"),
    provider="sandbox",
    provider_reference="sandbox:link1",
    received_at=NOW,
    created=True,
)


def test_the_receipt_thanks_names_the_amount_invoice_and_reference() -> None:
    message = receipt(
        PAYMENT, invoice_number="INV-100", locale="en_US", to=Origin("whatsapp", "+12025550101")
    )

    [reply] = message.replies
    assert reply.text == (
        "billbot: thank you! We received $64.20 for invoice INV-100. Reference: sandbox:link1."
    )
    assert (message.channel, message.address) == ("whatsapp", "+12025550101")


def test_the_receipt_is_one_message_per_payment() -> None:
    web = receipt(PAYMENT, invoice_number="INV-100", locale="en_US", to=Origin("web", "tab1"))
    sms = receipt(PAYMENT, invoice_number="INV-100", locale="en_US", to=Origin("sms", "+1202"))

    assert web.dedupe_key == sms.dedupe_key == "payment_received:7"
    assert web.kind == KIND and web.account_id == 1


def test_the_receipt_speaks_the_customers_language_and_names_the_operator() -> None:
    message = receipt(
        PAYMENT,
        invoice_number="F-9",
        locale="es_ES",
        to=Origin("sms", "+12025550104"),
        operator="Acme Móvil",
    )

    text = message.replies[0].text
    assert text.startswith("Acme Móvil: ¡gracias! Hemos recibido")
    assert "64,20" in text and "factura F-9" in text and "Referencia: sandbox:link1" in text


def test_a_payment_without_an_invoice_is_thanked_without_one() -> None:
    message = receipt(PAYMENT, invoice_number="", locale="en_US", to=Origin("sms", "+1202"))

    assert message.replies[0].text == (
        "billbot: thank you! We received $64.20. Reference: sandbox:link1."
    )
