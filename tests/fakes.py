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
    ContactChange,
    InvalidRequestError,
    InvoiceDetail,
    InvoiceSummary,
    Line,
    LineBar,
    Money,
    NotFoundError,
    Payment,
    PaymentLink,
    PinChecksPausedError,
    Ticket,
    UnbarResult,
    UsageCounter,
    VerificationError,
)
from billing_client.contact import checked_email, checked_locale, checked_timezone
from billing_client.pin_rules import pin_problem
from bot.nlu.types import Entity, ParseResult

NOW = datetime(2026, 11, 21, 15, 0, tzinfo=UTC)
# The SQL core's PIN policy (billing_client/sql/pin_guard.py), kept in step by hand.
PIN_MAX_ATTEMPTS, PIN_LOCK = 5, timedelta(minutes=30)
PIN_DAILY_CAP, PIN_DAILY_WINDOW = 15, timedelta(hours=24)


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
        # (target, requester) -> [wrong PINs in a row, locked until]; see pin_guard.py.
        self.guards: dict[tuple[str, str], list[Any]] = {}
        self.pin_failures: list[tuple[str, datetime]] = []  # (subject, when)
        self.barrings: dict[str, BarResult] = {}
        self.tickets: dict[str, Ticket] = {}
        self.links: dict[str, PaymentLink] = {}
        self.audit: list[AuditEntry] = []
        self.unbarrings: dict[str, UnbarResult] = {}
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
        account = await self.get_account(account_id)
        target = f"account:{account_id}"
        await self._pin_attempt(target, target, account, pin, actor, now)

    async def verify_line_pin(
        self, msisdn: str, pin: str, *, requester: str, now: datetime
    ) -> Line:
        line = next((ln for ln in self.lines.values() if ln.msisdn == msisdn), None)
        account = self.accounts[line.account_id] if line else None
        subject = f"account:{account.id}" if account else f"number:{msisdn}"
        await self._pin_attempt(f"number:{msisdn}", subject, account, pin, requester, now)
        assert line is not None  # no account: no PIN is ever right
        return self.lines[line.id]

    async def _pin_attempt(
        self, target: str, subject: str, account: Account | None, pin: str, who: str, now: datetime
    ) -> None:
        recent = self._recent_failures(subject, now)
        if len(recent) >= PIN_DAILY_CAP:
            raise self._paused(subject, account, recent, now, started=False)
        guard = self.guards.setdefault((target, who), [0, None])
        if guard[1] is not None and now < guard[1]:
            raise AccountLockedError(
                guard[1], lock_id=f"{target}|{who}|{guard[1]}", holder=account
            )
        if guard[1] is not None:
            guard[:] = [0, None]
        entity = (account and str(account.id)) or subject
        if account is not None and pin == self.pins[account.id]:
            guard[0] = 0
            self.audit.insert(0, AuditEntry(now, who, "pin_ok", "account", entity, ""))
            return
        guard[0] += 1
        self.pin_failures.append((subject, now))
        self.audit.insert(0, AuditEntry(now, who, "pin_wrong", "account", entity, ""))
        recent = self._recent_failures(subject, now)
        if len(recent) >= PIN_DAILY_CAP:
            raise self._paused(subject, account, recent, now, started=True)
        if guard[0] >= PIN_MAX_ATTEMPTS:
            guard[1] = now + PIN_LOCK
            lock_id = f"{target}|{who}|{guard[1]}"
            raise AccountLockedError(guard[1], lock_id=lock_id, started=True, holder=account)
        raise VerificationError(min(PIN_MAX_ATTEMPTS - guard[0], PIN_DAILY_CAP - len(recent)))

    def _recent_failures(self, subject: str, now: datetime) -> list[datetime]:
        since = now - PIN_DAILY_WINDOW
        return sorted(
            (at for s, at in self.pin_failures if s == subject and at > since), reverse=True
        )

    def _paused(
        self,
        subject: str,
        account: Account | None,
        recent: list[datetime],
        now: datetime,
        *,
        started: bool,
    ) -> PinChecksPausedError:
        until = recent[PIN_DAILY_CAP - 1] + PIN_DAILY_WINDOW
        ticket = None
        if account is not None:
            key = f"pin_paused:{account.id}:{now.date().isoformat()}"
            ticket = self.tickets.get(key)
            if ticket is None and started:  # the attempt that reached the cap hands it over
                ticket = self._open_pause_ticket(account.id, key, now)
        return PinChecksPausedError(
            until,
            lock_id=f"{subject}|*|{until}",
            started=started,
            holder=account,
            ticket_reference=ticket.reference if ticket else None,
        )

    def _open_pause_ticket(self, account_id: int, key: str, now: datetime) -> Ticket:
        ticket_id = len(self.tickets) + 123
        ticket = Ticket(
            ticket_id, f"T-{ticket_id:06d}", account_id, "PIN checks paused", "open", now
        )
        self.tickets[key] = ticket
        return ticket

    async def bar_line(
        self, line_id: int, *, reason: str, idempotency_key: str, actor: str, now: datetime
    ) -> BarResult:
        if idempotency_key in self.barrings:
            return replace(self.barrings[idempotency_key], created=False, replayed=True)
        active = [bar for bar in self.barrings.values() if bar.line.id == line_id]
        if active and self.lines[line_id].status == "barred":  # one active bar per line
            return replace(active[-1], created=False)
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

    # --- account security (billing_client/sql/account_security.py, kept in step by hand) ----
    async def line_bar(self, line_id: int) -> LineBar | None:
        bar = self._active_bar(line_id)
        if bar is None:
            return None
        reason = bar.line.barred_reason or ""
        kind = "lost_stolen" if reason in ("lost", "stolen", "lost_stolen") else "full"
        return LineBar(bar.reference, kind, reason, bar.barred_at)

    async def unbar_line(
        self, line_id: int, *, actor: str, idempotency_key: str, now: datetime
    ) -> UnbarResult:
        if idempotency_key in self.unbarrings:
            return replace(self.unbarrings[idempotency_key], created=False, replayed=True)
        bar, line = await self.line_bar(line_id), self.lines[line_id]
        if bar is None:
            return UnbarResult("", line, None, created=False)
        if bar.kind == "lost_stolen":
            raise InvalidRequestError("a lost or stolen SIM stays barred")
        self.lines[line_id] = replace(line, status="active", barred_reason=None, barred_at=None)
        result = UnbarResult(bar.reference, self.lines[line_id], now, True, kind=bar.kind)
        self.unbarrings[idempotency_key] = result
        self.audit.insert(0, AuditEntry(now, actor, "line_unbarred", "line", str(line_id), ""))
        return result

    async def set_pin(
        self,
        account_id: int,
        pin: str,
        *,
        actor: str,
        now: datetime,
        idempotency_key: str | None = None,
    ) -> None:
        if pin_problem(pin) is not None:
            raise InvalidRequestError("that PIN is not allowed")
        self.pins[account_id] = pin
        subject = f"account:{account_id}"
        own = {subject} | {f"number:{ln.msisdn}" for ln in await self.list_lines(account_id)}
        self.guards = {k: g for k, g in self.guards.items() if k[0] not in own}
        self.pin_failures = [(s, at) for s, at in self.pin_failures if s != subject]
        entry = AuditEntry(now, actor, "pin_changed", "account", str(account_id), "")
        self.audit.insert(0, entry)

    async def record_audit(
        self, account_id: int, action: str, *, actor: str, detail: str = "", now: datetime
    ) -> None:
        self.audit.insert(0, AuditEntry(now, actor, action, "account", str(account_id), detail))

    async def update_contact(
        self, account_id: int, change: ContactChange, *, actor: str, now: datetime
    ) -> Account:
        account = await self.get_account(account_id)
        if change.email is not None:
            account = replace(account, email=checked_email(change.email))
        if change.locale is not None:
            account = replace(account, locale=checked_locale(change.locale))
        if change.timezone is not None:
            account = replace(account, timezone=checked_timezone(change.timezone))
        self.accounts[account_id] = account
        self.audit.insert(0, AuditEntry(now, actor, "contact", "account", str(account_id), ""))
        return account

    def _active_bar(self, line_id: int) -> BarResult | None:
        if self.lines[line_id].status != "barred":
            return None
        bars = [bar for bar in self.barrings.values() if bar.line.id == line_id]
        return bars[-1] if bars else None
