"""`payment_history` with an in-memory billing client: the latest payments in the customer's
time zone and language, and single-use sign-in links to their receipts."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from billing_client import Payment
from tests.fakes import FakeBillingClient, usd
from tests.support_fakes import MARIA_ID, SAM_ID, SupportBilling, Talk, claim_of

SAM = FakeBillingClient().accounts[SAM_ID]
MARIA = FakeBillingClient().accounts[MARIA_ID]


def payment(
    payment_id: int,
    at: datetime,
    amount: str,
    provider: str = "stripe",
    invoice_id: int | None = 100,
    account_id: int = SAM_ID,
) -> Payment:
    return Payment(
        payment_id, account_id, invoice_id, usd(amount), provider, f"ref-{payment_id}", at, False
    )


@pytest.fixture
def billing() -> SupportBilling:
    return SupportBilling()


async def test_payments_are_listed_newest_first_with_date_method_and_invoice(
    billing: SupportBilling,
) -> None:
    billing.payments = [
        payment(7, datetime(2026, 10, 14, 18, 0, tzinfo=UTC), "96.30", "bank"),
        # 3 a.m. UTC on the 21st is still the 20th in Chicago
        payment(9, datetime(2026, 11, 21, 3, 0, tzinfo=UTC), "118.45"),
    ]

    reply = await Talk(SAM, billing).say("payment history", "payment_history")

    lines = reply.text.splitlines()
    assert lines[:3] == [
        "Your latest payments:",
        "• November 20, 2026: $118.45 by card — invoice INV-100",
        "• October 14, 2026: $96.30 by bank transfer — invoice INV-100",
    ]


async def test_the_links_sign_in_to_the_latest_receipt_and_to_all_payments(
    billing: SupportBilling,
) -> None:
    billing.payments = [
        payment(7, datetime(2026, 10, 14, tzinfo=UTC), "96.30"),
        payment(9, datetime(2026, 11, 14, tzinfo=UTC), "118.45"),
    ]

    reply = await Talk(SAM, billing).say("my payments", "payment_history")

    assert reply.link is not None and reply.link_label == "Latest receipt"
    latest = claim_of(reply.link)
    assert (latest.account_id, latest.value) == (SAM_ID, "/account/payments/9")
    [receipt, every] = [word for word in reply.text.split() if "/signin/link/" in word]
    assert receipt == reply.link
    assert claim_of(every).value == "/account/payments"
    assert "works for 15 minutes" in reply.text


async def test_a_single_payment_links_to_its_receipt_only(billing: SupportBilling) -> None:
    billing.payments = [payment(9, datetime(2026, 11, 14, tzinfo=UTC), "118.45")]

    reply = await Talk(SAM, billing).say("my payments", "payment_history")

    assert reply.text.count("/signin/link/") == 1 and "All your payments" not in reply.text


async def test_no_payments_says_so_and_offers_to_pay(billing: SupportBilling) -> None:
    reply = await Talk(SAM, billing).say("payment history", "payment_history")

    assert reply.text == "I don't see any payments on your account yet."
    assert [o.value for o in reply.options] == ["intent:pay_bill"]
    assert reply.link is None


async def test_a_prepaid_top_up_reads_as_a_top_up_in_spanish(billing: SupportBilling) -> None:
    at = datetime(2026, 11, 15, 10, 0, tzinfo=UTC)
    billing.payments = [payment(3, at, "10.00", "card", None, MARIA_ID)]

    reply = await Talk(MARIA, billing).say("mis pagos", "payment_history")

    assert (
        reply.text.splitlines()[1]
        == "• 15 de noviembre de 2026: 10,00\xa0US$ con tarjeta — recarga"
    )
    assert reply.link_label == "Último recibo"


async def test_an_unknown_way_of_paying_is_named_plainly(billing: SupportBilling) -> None:
    billing.payments = [payment(4, datetime(2026, 11, 2, tzinfo=UTC), "5.00", "moneygram")]

    reply = await Talk(SAM, billing).say("my payments", "payment_history")

    assert "$5.00 by other payment method" in reply.text


async def test_the_prepaid_customer_without_payments_is_not_offered_a_bill_to_pay(
    billing: SupportBilling,
) -> None:
    reply = await Talk(MARIA, billing).say("historial de pagos", "payment_history")

    assert reply.text == "Todavía no veo ningún pago en tu cuenta." and reply.options == ()
