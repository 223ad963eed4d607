"""Test doubles built on the real ports: an in-memory BillingClient, a recording outbox."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from billing_client import (
    Account,
    AccountLockedError,
    AuditEntry,
    Balance,
    BarResult,
    BillingClient,
    InvalidRequestError,
    InvoiceDetail,
    InvoiceSummary,
    Line,
    Money,
    NotFoundError,
    Payment,
    PaymentLink,
    Ticket,
    UsageCounter,
    VerificationError,
)
from bot.nlu.types import Entity, ParseResult

NOW = datetime(2026, 11, 21, 15, 0, tzinfo=UTC)


def usd(amount: str) -> Money:
    return Money.from_decimal(Decimal(amount), "USD")


def parse(text: str, intent: str = "out_of_scope", *entities: Entity) -> ParseResult:
    return ParseResult(text, intent, 0.9, tuple(entities), ((intent, 0.9),))


class FakeBillingClient(BillingClient):
    """Small, honest in-memory billing: one postpaid two-line account and one prepaid one."""

    def __init__(self) -> None:
        self.accounts = {
            1: Account(
                1, "Sam Lee", "sam@example.com", "en_US", "America/Chicago", "USD", "postpaid"
            ),
            2: Account(
                2, "María García", "maria@example.com", "es_ES", "Europe/Madrid", "USD", "prepaid"
            ),
        }
        self.lines = {
            10: Line(10, 1, "+12025550102", "8901", "Sam Lee", "Family", "active"),
            11: Line(11, 1, "+12025550103", "8902", "Jordan Lee", "Family", "active"),
            20: Line(20, 2, "+12025550104", "8903", "María García", "Prepago", "active"),
        }
        self.invoices = {
            100: InvoiceSummary(
                100,
                "INV-100",
                "open",
                date(2026, 11, 1),
                date(2026, 11, 16),
                date(2026, 10, 1),
                date(2026, 10, 31),
                usd("109.42"),
                usd("9.03"),
                usd("118.45"),
                usd("0"),
            ),
        }
        self.pins = {1: "1357", 2: "9753"}
        self.failures: dict[int, int] = {}
        self.locked_until: dict[int, datetime] = {}
        self.barrings: dict[str, BarResult] = {}
        self.tickets: dict[str, Ticket] = {}
        self.links: dict[str, PaymentLink] = {}
        self.audit: list[AuditEntry] = []
        self._ids = itertools.count(1)

    async def find_account_by_msisdn(self, msisdn: str) -> Account | None:
        line = next((ln for ln in self.lines.values() if ln.msisdn == msisdn), None)
        return self.accounts[line.account_id] if line else None

    async def get_account(self, account_id: int) -> Account:
        if account_id not in self.accounts:
            raise NotFoundError(f"account {account_id}")
        return self.accounts[account_id]

    async def list_lines(self, account_id: int) -> list[Line]:
        return [ln for ln in self.lines.values() if ln.account_id == account_id]

    async def get_balance(self, account_id: int, *, now: datetime) -> Balance:
        account = await self.get_account(account_id)
        if account.billing_type == "prepaid":
            return Balance(account, usd("0"), (), None, False, usd("0"), usd("12.50"))
        open_ = tuple(i for i in self.invoices.values() if i.status in ("open", "overdue"))
        due = sum((i.amount_due.minor for i in open_), 0)
        next_due = min((i.due_on for i in open_), default=None)
        overdue = next_due is not None and next_due < now.date()
        return Balance(account, Money(due, "USD"), open_, next_due, overdue, usd("3.10"), None)

    async def list_invoices(
        self, account_id: int, *, now: datetime, limit: int = 3
    ) -> list[InvoiceSummary]:
        return list(self.invoices.values())[:limit] if account_id == 1 else []

    async def get_invoice(self, invoice_id: int, *, now: datetime) -> InvoiceDetail:
        raise NotFoundError(f"invoice {invoice_id}")

    async def get_usage(self, account_id: int, *, now: datetime) -> list[UsageCounter]:
        start, end = date(2026, 11, 1), date(2026, 11, 30)
        return [
            UsageCounter("+12025550102", "data", "MB", 16896, 20480, start, end),
            UsageCounter("+12025550103", "data", "MB", 512, 20480, start, end),
        ]

    async def create_payment_link(
        self, account_id: int, invoice_id: int, *, now: datetime, ttl_seconds: int
    ) -> PaymentLink:
        invoice = self.invoices[invoice_id]
        if invoice.amount_due.minor <= 0:
            raise InvalidRequestError("nothing due")
        link = PaymentLink(
            f"link{next(self._ids)}",
            account_id,
            invoice_id,
            invoice.amount_due,
            now,
            now + timedelta(seconds=ttl_seconds),
            "active",
        )
        self.links[link.id] = link
        return link

    async def get_payment_link(self, link_id: str, *, now: datetime) -> PaymentLink:
        return self.links[link_id]

    async def pay_link(
        self, link_id: str, *, provider: str, provider_reference: str, now: datetime
    ) -> Payment:
        raise NotImplementedError

    async def record_payment(
        self, account_id: int, invoice_id: int | None, amount: Money, **kwargs: Any
    ) -> Payment:
        raise NotImplementedError

    async def verify_pin(self, account_id: int, pin: str, *, actor: str, now: datetime) -> None:
        until = self.locked_until.get(account_id)
        if until is not None and until > now:
            raise AccountLockedError(until)
        if pin == self.pins[account_id]:
            self.failures[account_id] = 0
            return
        self.failures[account_id] = self.failures.get(account_id, 0) + 1
        if self.failures[account_id] >= 5:
            self.locked_until[account_id] = now + timedelta(minutes=30)
            raise AccountLockedError(self.locked_until[account_id])
        raise VerificationError(5 - self.failures[account_id])

    async def bar_line(
        self, line_id: int, *, reason: str, idempotency_key: str, actor: str, now: datetime
    ) -> BarResult:
        if idempotency_key in self.barrings:
            return replace(self.barrings[idempotency_key], created=False)
        line = replace(self.lines[line_id], status="barred", barred_reason=reason, barred_at=now)
        self.lines[line_id] = line
        result = BarResult(f"B-{len(self.barrings) + 1:06d}", line, now, True)
        self.barrings[idempotency_key] = result
        return result

    async def create_ticket(
        self,
        account_id: int,
        *,
        subject: str,
        description: str,
        channel: str,
        idempotency_key: str,
        now: datetime,
    ) -> Ticket:
        if idempotency_key in self.tickets:
            return replace(self.tickets[idempotency_key], created=False)
        ticket = Ticket(
            len(self.tickets) + 123,
            f"T-{len(self.tickets) + 123:06d}",
            account_id,
            subject,
            "open",
            now,
        )
        self.tickets[idempotency_key] = ticket
        return ticket

    async def list_tickets(self, account_id: int) -> list[Ticket]:
        return [t for t in self.tickets.values() if t.account_id == account_id]

    async def list_audit(self, *, limit: int = 50) -> list[AuditEntry]:
        return self.audit[:limit]
