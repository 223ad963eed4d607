"""SqlBillingClient on real SQLite and PostgreSQL: verification, barring, payments, tickets."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from billing_client import (
    Account,
    AccountLockedError,
    ConflictError,
    InvalidRequestError,
    Money,
    NotFoundError,
    VerificationError,
)
from billing_client.sql.client import SqlBillingClient
from billing_client.sql.models import Barring, ContactAddress, Payment, Ticket

ALEX, SAM, JORDAN, MARIA = "+12025550101", "+12025550102", "+12025550103", "+12025550104"


def usd(amount: str) -> Money:
    return Money.from_decimal(amount, "USD")


async def account_of(billing: SqlBillingClient, phone: str) -> Account:
    account = await billing.find_account_by_msisdn(phone)
    assert account is not None, phone
    return account


async def rows(sessions: async_sessionmaker[AsyncSession], model: type[object]) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def open_invoice_id(billing: SqlBillingClient, phone: str, now: datetime) -> int:
    account = await account_of(billing, phone)
    balance = await billing.get_balance(account.id, now=now)
    return balance.open_invoices[0].id


async def line_id(billing: SqlBillingClient, phone: str) -> int:
    account = await account_of(billing, phone)
    (line,) = [line for line in await billing.list_lines(account.id) if line.msisdn == phone]
    return line.id


# --- identity ---------------------------------------------------------------------------------
async def test_unknown_msisdn_finds_no_account(demo_billing: SqlBillingClient) -> None:
    assert await demo_billing.find_account_by_msisdn("+12025550199") is None


async def test_second_line_finds_the_account_holder(demo_billing: SqlBillingClient) -> None:
    account = await account_of(demo_billing, JORDAN)
    assert account.name == "Sam Lee"


async def test_contact_address_finds_the_account(
    demo_billing: SqlBillingClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    maria = await account_of(demo_billing, MARIA)
    async with sessions.begin() as session:
        session.add(
            ContactAddress(account_id=maria.id, channel="whatsapp", address="+34600000001")
        )

    assert await demo_billing.find_account_by_msisdn("+34600000001") == maria


async def test_unknown_account_is_not_found(demo_billing: SqlBillingClient, now: datetime) -> None:
    with pytest.raises(NotFoundError):
        await demo_billing.get_account(999_999)
    with pytest.raises(NotFoundError):
        await demo_billing.get_balance(999_999, now=now)
    with pytest.raises(NotFoundError):
        await demo_billing.get_invoice(999_999, now=now)


# --- PIN verification -------------------------------------------------------------------------
async def test_correct_pin_verifies_and_is_audited(
    demo_billing: SqlBillingClient, now: datetime
) -> None:
    alex = await account_of(demo_billing, ALEX)

    await demo_billing.verify_pin(alex.id, "2468", actor="sms:+12025550101", now=now)

    (entry, *_) = await demo_billing.list_audit()
    assert (entry.action, entry.actor, entry.entity, entry.entity_id) == (
        "pin_ok",
        "sms:+12025550101",
        "account",
        str(alex.id),
    )
    assert entry.at == now


async def test_wrong_pin_reports_attempts_left(
    demo_billing: SqlBillingClient, now: datetime
) -> None:
    alex = await account_of(demo_billing, ALEX)

    with pytest.raises(VerificationError) as first:
        await demo_billing.verify_pin(alex.id, "0000", actor="test", now=now)
    with pytest.raises(VerificationError) as second:
        await demo_billing.verify_pin(alex.id, "1357", actor="test", now=now)

    assert (first.value.attempts_left, second.value.attempts_left) == (4, 3)


async def test_five_wrong_pins_lock_verification_for_30_minutes(
    demo_billing: SqlBillingClient, now: datetime
) -> None:
    alex = await account_of(demo_billing, ALEX)
    for _ in range(4):
        with pytest.raises(VerificationError):
            await demo_billing.verify_pin(alex.id, "0000", actor="test", now=now)

    with pytest.raises(AccountLockedError) as fifth:
        await demo_billing.verify_pin(alex.id, "0000", actor="test", now=now)
    assert fifth.value.until == now + timedelta(minutes=30)

    # While locked even the right PIN is refused.
    with pytest.raises(AccountLockedError):
        await demo_billing.verify_pin(
            alex.id, "2468", actor="test", now=now + timedelta(minutes=29)
        )

    await demo_billing.verify_pin(alex.id, "2468", actor="test", now=now + timedelta(minutes=30))


async def test_lock_expiry_gives_a_fresh_set_of_attempts(
    demo_billing: SqlBillingClient, now: datetime
) -> None:
    alex = await account_of(demo_billing, ALEX)
    for _ in range(4):
        with pytest.raises(VerificationError):
            await demo_billing.verify_pin(alex.id, "0000", actor="test", now=now)
    with pytest.raises(AccountLockedError):
        await demo_billing.verify_pin(alex.id, "0000", actor="test", now=now)

    with pytest.raises(VerificationError) as after_lock:
        await demo_billing.verify_pin(alex.id, "0000", actor="test", now=now + timedelta(hours=1))

    assert after_lock.value.attempts_left == 4


async def test_correct_pin_resets_the_failure_count(
    demo_billing: SqlBillingClient, now: datetime
) -> None:
    alex = await account_of(demo_billing, ALEX)
    for _ in range(4):
        with pytest.raises(VerificationError):
            await demo_billing.verify_pin(alex.id, "0000", actor="test", now=now)
    await demo_billing.verify_pin(alex.id, "2468", actor="test", now=now)

    with pytest.raises(VerificationError) as wrong:
        await demo_billing.verify_pin(alex.id, "0000", actor="test", now=now)

    assert wrong.value.attempts_left == 4


async def test_every_pin_attempt_is_audited(demo_billing: SqlBillingClient, now: datetime) -> None:
    alex = await account_of(demo_billing, ALEX)
    attempts = ["1111", "2222", "3333", "4444", "5555", "2468"]
    for pin in attempts:
        with pytest.raises((VerificationError, AccountLockedError)):
            await demo_billing.verify_pin(alex.id, pin, actor="test", now=now)

    entries = await demo_billing.list_audit(limit=len(attempts))

    assert [entry.action for entry in reversed(entries)] == [
        "pin_wrong",
        "pin_wrong",
        "pin_wrong",
        "pin_wrong",
        "pin_locked",
        "pin_locked",
    ]
    assert all("2468" not in entry.detail for entry in entries)


async def test_overlong_or_odd_pins_are_just_wrong(
    demo_billing: SqlBillingClient, now: datetime
) -> None:
    alex = await account_of(demo_billing, ALEX)
    for pin in ("", "9" * 10_000, "'; DROP TABLE accounts; --", "２４６８"):
        with pytest.raises(VerificationError):
            await demo_billing.verify_pin(alex.id, pin, actor="test", now=now)


# --- barring ----------------------------------------------------------------------------------
async def test_replayed_bar_request_bars_the_line_once(
    demo_billing: SqlBillingClient, sessions: async_sessionmaker[AsyncSession], now: datetime
) -> None:
    jordan = await line_id(demo_billing, JORDAN)

    first = await demo_billing.bar_line(
        jordan, reason="lost_stolen", idempotency_key="bar-1", actor="sms:+12025550102", now=now
    )
    replay = await demo_billing.bar_line(
        jordan,
        reason="lost_stolen",
        idempotency_key="bar-1",
        actor="sms:+12025550102",
        now=now + timedelta(minutes=1),
    )

    assert first.created and not replay.created
    assert replay.reference == first.reference
    assert replay.barred_at == first.barred_at == now
    assert first.reference.startswith("B-") and len(first.reference) == 8
    assert first.line.status == "barred"
    assert (first.line.barred_reason, first.line.barred_at) == ("lost_stolen", now)
    assert await rows(sessions, Barring) == 1


async def test_barring_a_barred_line_returns_the_active_bar(
    demo_billing: SqlBillingClient, sessions: async_sessionmaker[AsyncSession], now: datetime
) -> None:
    alex = await line_id(demo_billing, ALEX)
    first = await demo_billing.bar_line(
        alex, reason="lost", idempotency_key="k-1", actor="test", now=now
    )

    again = await demo_billing.bar_line(
        alex, reason="stolen", idempotency_key="k-2", actor="test", now=now
    )

    assert not again.created
    assert again.reference == first.reference
    assert await rows(sessions, Barring) == 1


async def test_bar_key_reused_for_another_line_is_a_conflict(
    demo_billing: SqlBillingClient, now: datetime
) -> None:
    sam, jordan = await line_id(demo_billing, SAM), await line_id(demo_billing, JORDAN)
    await demo_billing.bar_line(sam, reason="lost", idempotency_key="k", actor="test", now=now)

    with pytest.raises(ConflictError):
        await demo_billing.bar_line(
            jordan, reason="lost", idempotency_key="k", actor="test", now=now
        )


async def test_barring_is_audited_and_shows_on_the_line(
    demo_billing: SqlBillingClient, now: datetime
) -> None:
    alex_account = await account_of(demo_billing, ALEX)
    alex = await line_id(demo_billing, ALEX)

    result = await demo_billing.bar_line(
        alex, reason="lost_stolen", idempotency_key="k", actor="web:demo", now=now
    )

    (line,) = await demo_billing.list_lines(alex_account.id)
    assert line.status == "barred"
    assert line.barred_at == now and line.barred_at.tzinfo == UTC
    (entry, *_) = await demo_billing.list_audit()
    assert (entry.action, entry.actor, entry.entity_id) == ("line_barred", "web:demo", str(alex))
    assert result.reference in entry.detail


async def test_barring_an_unknown_line_is_not_found(
    demo_billing: SqlBillingClient, now: datetime
) -> None:
    with pytest.raises(NotFoundError):
        await demo_billing.bar_line(
            999_999, reason="lost", idempotency_key="k", actor="t", now=now
        )


async def test_concurrent_bar_requests_with_the_same_key_bar_once(
    demo_billing: SqlBillingClient, sessions: async_sessionmaker[AsyncSession], now: datetime
) -> None:
    jordan = await line_id(demo_billing, JORDAN)

    results = await asyncio.gather(
        *(
            demo_billing.bar_line(
                jordan, reason="lost", idempotency_key="same", actor="worker", now=now
            )
            for _ in range(4)
        )
    )

    assert sorted(result.created for result in results) == [False, False, False, True]
    assert len({result.reference for result in results}) == 1
    assert await rows(sessions, Barring) == 1


async def test_concurrent_bar_requests_with_different_keys_bar_once(
    demo_billing: SqlBillingClient, sessions: async_sessionmaker[AsyncSession], now: datetime
) -> None:
    jordan = await line_id(demo_billing, JORDAN)

    results = await asyncio.gather(
        *(
            demo_billing.bar_line(
                jordan, reason="lost", idempotency_key=f"key-{n}", actor="worker", now=now
            )
            for n in range(4)
        )
    )

    assert [result.created for result in results].count(True) == 1
    assert await rows(sessions, Barring) == 1


# --- payment links ----------------------------------------------------------------------------
async def test_pay_link_twice_pays_once_and_settles_the_invoice(
    demo_billing: SqlBillingClient, sessions: async_sessionmaker[AsyncSession], now: datetime
) -> None:
    alex = await account_of(demo_billing, ALEX)
    invoice_id = await open_invoice_id(demo_billing, ALEX, now)
    link = await demo_billing.create_payment_link(alex.id, invoice_id, now=now, ttl_seconds=3600)
    assert (link.amount, link.status) == (usd("64.20"), "active")
    payments_before = await rows(sessions, Payment)

    paid_at = now + timedelta(minutes=5)
    first = await demo_billing.pay_link(
        link.id, provider="stripe", provider_reference="pi_1", now=paid_at
    )
    replay = await demo_billing.pay_link(
        link.id, provider="stripe", provider_reference="pi_1", now=paid_at
    )

    assert first.created and not replay.created
    assert replay.id == first.id
    assert first.amount == usd("64.20")
    assert await rows(sessions, Payment) == payments_before + 1
    balance = await demo_billing.get_balance(alex.id, now=paid_at)
    assert balance.amount_due == usd("0") and balance.open_invoices == ()
    invoice = await demo_billing.get_invoice(invoice_id, now=paid_at)
    assert invoice.summary.status == "paid"
    assert (await demo_billing.get_payment_link(link.id, now=paid_at)).status == "paid"


async def test_second_reference_on_a_paid_link_returns_the_first_payment(
    demo_billing: SqlBillingClient, now: datetime
) -> None:
    alex = await account_of(demo_billing, ALEX)
    invoice_id = await open_invoice_id(demo_billing, ALEX, now)
    link = await demo_billing.create_payment_link(alex.id, invoice_id, now=now, ttl_seconds=60)

    first = await demo_billing.pay_link(link.id, provider="p", provider_reference="a", now=now)
    second = await demo_billing.pay_link(link.id, provider="p", provider_reference="b", now=now)

    assert not second.created
    assert (second.id, second.provider_reference) == (first.id, "a")


async def test_concurrent_double_click_pays_once(
    demo_billing: SqlBillingClient, sessions: async_sessionmaker[AsyncSession], now: datetime
) -> None:
    sam = await account_of(demo_billing, SAM)
    invoice_id = await open_invoice_id(demo_billing, SAM, now)
    link = await demo_billing.create_payment_link(sam.id, invoice_id, now=now, ttl_seconds=60)
    before = await rows(sessions, Payment)

    payments = await asyncio.gather(
        *(
            demo_billing.pay_link(link.id, provider="p", provider_reference=ref, now=now)
            for ref in ("click-1", "click-2", "click-1", "click-2")
        )
    )

    assert [payment.created for payment in payments].count(True) == 1
    assert len({payment.id for payment in payments}) == 1
    assert await rows(sessions, Payment) == before + 1
    assert (await demo_billing.get_balance(sam.id, now=now)).amount_due == usd("0")


async def test_expired_link_is_refused(demo_billing: SqlBillingClient, now: datetime) -> None:
    alex = await account_of(demo_billing, ALEX)
    invoice_id = await open_invoice_id(demo_billing, ALEX, now)
    link = await demo_billing.create_payment_link(alex.id, invoice_id, now=now, ttl_seconds=600)
    later = now + timedelta(seconds=600)

    assert (await demo_billing.get_payment_link(link.id, now=later)).status == "expired"
    with pytest.raises(InvalidRequestError, match="expired"):
        await demo_billing.pay_link(link.id, provider="p", provider_reference="late", now=later)
    assert (await demo_billing.get_balance(alex.id, now=later)).amount_due == usd("64.20")


async def test_link_for_another_accounts_invoice_is_not_found(
    demo_billing: SqlBillingClient, now: datetime
) -> None:
    alex = await account_of(demo_billing, ALEX)
    sams_invoice = await open_invoice_id(demo_billing, SAM, now)

    with pytest.raises(NotFoundError):
        await demo_billing.create_payment_link(alex.id, sams_invoice, now=now, ttl_seconds=60)


async def test_link_for_a_paid_invoice_is_refused(
    demo_billing: SqlBillingClient, now: datetime
) -> None:
    alex = await account_of(demo_billing, ALEX)
    paid = (await demo_billing.list_invoices(alex.id, now=now))[1]
    assert paid.status == "paid"

    with pytest.raises(InvalidRequestError, match="nothing is due"):
        await demo_billing.create_payment_link(alex.id, paid.id, now=now, ttl_seconds=60)


async def test_unknown_link_is_not_found(demo_billing: SqlBillingClient, now: datetime) -> None:
    with pytest.raises(NotFoundError):
        await demo_billing.get_payment_link("no-such-link", now=now)
    with pytest.raises(NotFoundError):
        await demo_billing.pay_link("no-such-link", provider="p", provider_reference="r", now=now)


async def test_payment_link_ids_are_long_and_random(
    demo_billing: SqlBillingClient, now: datetime
) -> None:
    alex = await account_of(demo_billing, ALEX)
    invoice_id = await open_invoice_id(demo_billing, ALEX, now)

    links = [
        await demo_billing.create_payment_link(alex.id, invoice_id, now=now, ttl_seconds=60)
        for _ in range(3)
    ]

    assert len({link.id for link in links}) == 3
    assert all(len(link.id) >= 32 for link in links)


# --- payments ---------------------------------------------------------------------------------
async def test_partial_payment_leaves_the_rest_due(
    demo_billing: SqlBillingClient, now: datetime
) -> None:
    sam = await account_of(demo_billing, SAM)
    invoice_id = await open_invoice_id(demo_billing, SAM, now)

    payment = await demo_billing.record_payment(
        sam.id, invoice_id, usd("50.00"), provider="bank", provider_reference="tx-1", now=now
    )
    replay = await demo_billing.record_payment(
        sam.id, invoice_id, usd("50.00"), provider="bank", provider_reference="tx-1", now=now
    )

    assert payment.created and not replay.created and replay.id == payment.id
    balance = await demo_billing.get_balance(sam.id, now=now)
    assert balance.amount_due == usd("68.45")
    assert balance.open_invoices[0].amount_paid == usd("50.00")
    assert balance.overdue  # still overdue until paid in full
    link = await demo_billing.create_payment_link(sam.id, invoice_id, now=now, ttl_seconds=60)
    assert link.amount == usd("68.45")


async def test_overpayment_is_refused(demo_billing: SqlBillingClient, now: datetime) -> None:
    sam = await account_of(demo_billing, SAM)
    invoice_id = await open_invoice_id(demo_billing, SAM, now)

    with pytest.raises(InvalidRequestError):
        await demo_billing.record_payment(
            sam.id, invoice_id, usd("200.00"), provider="bank", provider_reference="x", now=now
        )


async def test_stale_link_after_a_partial_payment_is_refused(
    demo_billing: SqlBillingClient, now: datetime
) -> None:
    sam = await account_of(demo_billing, SAM)
    invoice_id = await open_invoice_id(demo_billing, SAM, now)
    link = await demo_billing.create_payment_link(sam.id, invoice_id, now=now, ttl_seconds=60)
    await demo_billing.record_payment(
        sam.id, invoice_id, usd("10.00"), provider="bank", provider_reference="tx", now=now
    )

    with pytest.raises(InvalidRequestError):
        await demo_billing.pay_link(link.id, provider="p", provider_reference="r", now=now)


async def test_prepaid_top_up_raises_the_balance(
    demo_billing: SqlBillingClient, now: datetime
) -> None:
    maria = await account_of(demo_billing, MARIA)

    payment = await demo_billing.record_payment(
        maria.id, None, usd("10.00"), provider="card", provider_reference="t-1", now=now
    )

    assert payment.invoice_id is None
    balance = await demo_billing.get_balance(maria.id, now=now)
    assert balance.prepaid_balance == usd("22.50")


async def test_postpaid_payment_without_an_invoice_is_refused(
    demo_billing: SqlBillingClient, now: datetime
) -> None:
    alex = await account_of(demo_billing, ALEX)
    with pytest.raises(InvalidRequestError):
        await demo_billing.record_payment(
            alex.id, None, usd("10.00"), provider="card", provider_reference="t", now=now
        )


async def test_payment_in_another_currency_or_non_positive_is_refused(
    demo_billing: SqlBillingClient, now: datetime
) -> None:
    alex = await account_of(demo_billing, ALEX)
    invoice_id = await open_invoice_id(demo_billing, ALEX, now)
    for amount in (Money(1000, "EUR"), usd("0"), usd("-5.00")):
        with pytest.raises(InvalidRequestError):
            await demo_billing.record_payment(
                alex.id, invoice_id, amount, provider="card", provider_reference="t", now=now
            )


async def test_overdue_starts_at_midnight_after_the_due_date_in_the_customers_zone(
    demo_billing: SqlBillingClient, now: datetime
) -> None:
    alex = await account_of(demo_billing, ALEX)
    (invoice,) = (await demo_billing.get_balance(alex.id, now=now)).open_invoices
    midnight = datetime.combine(
        invoice.due_on + timedelta(days=1), time(), ZoneInfo("America/New_York")
    )

    on_due_day = await demo_billing.get_balance(alex.id, now=midnight - timedelta(minutes=1))
    after = await demo_billing.list_invoices(alex.id, now=midnight)

    assert not on_due_day.overdue
    assert after[0].status == "overdue"


# --- invoices ---------------------------------------------------------------------------------
async def test_invoice_detail_has_items_per_line_and_the_tax_rate(
    demo_billing: SqlBillingClient, now: datetime
) -> None:
    invoice_id = await open_invoice_id(demo_billing, SAM, now)

    detail = await demo_billing.get_invoice(invoice_id, now=now)

    assert detail.summary.status == "overdue"
    assert str(detail.tax_rate) == "0.0700"
    assert [item.msisdn for item in detail.items] == [SAM, JORDAN, SAM]
    assert sum(item.amount.minor for item in detail.items) == 11070
    assert detail.account.name == "Sam Lee"


async def test_list_invoices_honours_the_limit(
    demo_billing: SqlBillingClient, now: datetime
) -> None:
    alex = await account_of(demo_billing, ALEX)
    invoices = await demo_billing.list_invoices(alex.id, now=now, limit=2)
    assert len(invoices) == 2
    assert invoices[0].issued_on > invoices[1].issued_on


# --- tickets ----------------------------------------------------------------------------------
async def test_ticket_reference_is_t_and_the_six_digit_id(
    demo_billing: SqlBillingClient, now: datetime
) -> None:
    alex = await account_of(demo_billing, ALEX)

    ticket = await demo_billing.create_ticket(
        alex.id,
        subject="Internet keeps dropping",
        description="Since Monday, every evening.",
        channel="sms",
        idempotency_key="t-1",
        now=now,
    )

    assert ticket.reference == f"T-{ticket.id:06d}"
    assert (ticket.status, ticket.created, ticket.created_at) == ("open", True, now)


async def test_replayed_ticket_request_opens_one_ticket(
    demo_billing: SqlBillingClient, sessions: async_sessionmaker[AsyncSession], now: datetime
) -> None:
    alex = await account_of(demo_billing, ALEX)
    request = {
        "subject": "Billing question",
        "description": "Why is my bill higher?",
        "channel": "whatsapp",
        "idempotency_key": "wamid.1",
        "now": now,
    }

    first = await demo_billing.create_ticket(alex.id, **request)  # type: ignore[arg-type]
    replay = await demo_billing.create_ticket(alex.id, **request)  # type: ignore[arg-type]

    assert first.created and not replay.created
    assert replay.reference == first.reference
    assert await rows(sessions, Ticket) == 1


async def test_concurrent_ticket_requests_with_one_key_open_one_ticket(
    demo_billing: SqlBillingClient, sessions: async_sessionmaker[AsyncSession], now: datetime
) -> None:
    alex = await account_of(demo_billing, ALEX)

    tickets = await asyncio.gather(
        *(
            demo_billing.create_ticket(
                alex.id, subject="s", description="d", channel="sms", idempotency_key="k", now=now
            )
            for _ in range(3)
        )
    )

    assert [ticket.created for ticket in tickets].count(True) == 1
    assert await rows(sessions, Ticket) == 1


async def test_list_tickets_newest_first(demo_billing: SqlBillingClient, now: datetime) -> None:
    alex = await account_of(demo_billing, ALEX)
    for n in range(3):
        await demo_billing.create_ticket(
            alex.id,
            subject=f"Problem {n}",
            description="…",
            channel="web",
            idempotency_key=f"k-{n}",
            now=now + timedelta(hours=n),
        )

    tickets = await demo_billing.list_tickets(alex.id)

    assert [ticket.subject for ticket in tickets] == ["Problem 2", "Problem 1", "Problem 0"]
    assert (await demo_billing.list_audit())[0].action == "ticket_opened"
