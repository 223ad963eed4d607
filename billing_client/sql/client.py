"""SqlBillingClient: the BillingClient port on the embedded SQL billing core.

Side effects happen once because the database says so: unique keys on payments
(provider + reference), barrings and tickets (idempotency_key), one active barring per line and
one payment per link. A request that loses a race gets an IntegrityError, and we answer it
with the row the winner wrote (`created=False`). Rows that decide a write (the account being
verified, the line being barred, the link being paid) are locked first (FOR UPDATE on
PostgreSQL, BEGIN IMMEDIATE on SQLite), so the usual replay never reaches the constraint.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Callable, Collection, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import date, datetime, timedelta
from functools import partial
from typing import TypeVar

from sqlalchemy import Connection, case, func, select
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import joinedload, selectinload

from billing_client import security_types as sec
from billing_client import types as dto
from billing_client.errors import (
    BillingUnavailableError,
    ConflictError,
    InvalidRequestError,
    NotFoundError,
)
from billing_client.interface import BillingClient
from billing_client.sql import (
    account_security,
    add_ons,
    alert_scan,
    balance_scan,
    caps,
    field_service,
    pin_guard,
    plans,
    portal,
    reads,
    sim_security,
    topups,
)
from billing_client.sql.audit import audit
from billing_client.sql.database import WRITE_INTENT
from billing_client.sql.models import (
    Account,
    AuditLog,
    Barring,
    Invoice,
    InvoiceItem,
    Line,
    Payment,
    PaymentLink,
    PrepaidTransaction,
    Ticket,
    TicketMessage,
    UsageCounter,
)
from billing_client.sql.pin_guard import hash_pin as hash_pin  # the seed hashes demo PINs
from billing_client.sql.reads import local_today
from billing_client.sql.transactions import Transactions

_USAGE_ORDER = {"data": 0, "voice": 1, "sms": 2}
# Errors that mean "the database is not answering", as opposed to a refused write.
_UNAVAILABLE = (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError, OSError)
T = TypeVar("T")


class SqlBillingClient(BillingClient):
    """The embedded billing core: every port method on one SQL database."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        transactions: Transactions | None = None,
    ) -> None:
        """`transactions` runs the per-turn reads (`reads`); by default on the sessions' engine."""
        self._sessions = sessions
        self._transactions = transactions

    # --- identity -----------------------------------------------------------------------------
    async def find_account_by_msisdn(self, msisdn: str) -> dto.Account | None:
        return await self._read(lambda connection: reads.account_by_msisdn(connection, msisdn))

    async def get_account(self, account_id: int) -> dto.Account:
        async with self._reading() as session:
            return (await _account(session, account_id)).to_dto()

    async def list_lines(self, account_id: int) -> list[dto.Line]:
        async with self._reading() as session:
            await _account(session, account_id)
            lines = await session.scalars(
                select(Line)
                .options(joinedload(Line.plan))
                .where(Line.account_id == account_id)
                .order_by(Line.id)
            )
            return [line.to_dto() for line in lines]

    # --- money --------------------------------------------------------------------------------
    async def get_balance(self, account_id: int, *, now: datetime) -> dto.Balance:
        """Open invoices, unbilled charges and (prepaid) the ledger balance.

        `unbilled` is every rated charge not on an invoice yet (usage, roaming, one-offs),
        which is the current cycle's unless invoicing fell behind. The plan's recurring fee is
        not accrued: it is billed in advance on the cycle's invoice.
        """
        return await self._read(lambda connection: reads.balance(connection, account_id, now))

    async def list_invoices(
        self, account_id: int, *, now: datetime, limit: int = 3
    ) -> list[dto.InvoiceSummary]:
        """Newest first; status "overdue" derived from `now`."""
        async with self._reading() as session:
            account = await _account(session, account_id)
            invoices = await session.scalars(
                select(Invoice)
                .where(Invoice.account_id == account_id, Invoice.status != "draft")
                .order_by(Invoice.issued_on.desc(), Invoice.id.desc())
                .limit(limit)
            )
            today = local_today(account.timezone, now)
            return [invoice.summary(today) for invoice in invoices]

    async def find_invoice(
        self, account_id: int, number: str, *, now: datetime
    ) -> dto.InvoiceSummary | None:
        """The account's issued (not draft) invoice with this number, or None."""
        async with self._reading() as session:
            account = await _account(session, account_id)
            invoice = await session.scalar(
                select(Invoice).where(
                    Invoice.account_id == account_id,
                    Invoice.number == number,
                    Invoice.status != "draft",
                )
            )
            return None if invoice is None else invoice.summary(local_today(account.timezone, now))

    async def get_invoice(self, invoice_id: int, *, now: datetime) -> dto.InvoiceDetail:
        async with self._reading() as session:
            invoice = await session.scalar(
                select(Invoice)
                .options(selectinload(Invoice.items).joinedload(InvoiceItem.line))
                .where(Invoice.id == invoice_id)
            )
            if invoice is None:
                raise NotFoundError(f"invoice {invoice_id} not found")
            account = await _account(session, invoice.account_id)
            return dto.InvoiceDetail(
                summary=invoice.summary(local_today(account.timezone, now)),
                account=account.to_dto(),
                items=tuple(_item_dto(item, invoice.currency) for item in invoice.items),
                tax_rate=invoice.tax_rate,
            )

    async def get_usage(self, account_id: int, *, now: datetime) -> list[dto.UsageCounter]:
        """Counters of the cycle containing the customer's local today, per line."""
        async with self._reading() as session:
            account = await _account(session, account_id)
            today = local_today(account.timezone, now)
            rows = await session.execute(
                select(UsageCounter, Line.msisdn)
                .join(Line)
                .where(Line.account_id == account_id)
                .where(UsageCounter.cycle_start <= today, UsageCounter.cycle_end >= today)
                .order_by(Line.id, case(_USAGE_ORDER, value=UsageCounter.kind, else_=9))
            )
            return [_usage_dto(counter, msisdn) for counter, msisdn in rows]

    async def create_payment_link(
        self, account_id: int, invoice_id: int, *, now: datetime, ttl_seconds: int
    ) -> dto.PaymentLink:
        """A link for the invoice's amount due; raises InvalidRequestError if nothing is due."""
        if ttl_seconds <= 0:
            raise InvalidRequestError("a payment link needs a positive lifetime")
        async with self._writing() as session:
            invoice = await _owned_invoice(session, account_id, invoice_id)
            _require_payable(invoice, invoice.amount_due_minor)
            link = PaymentLink(
                id=secrets.token_urlsafe(24),
                account_id=account_id,
                invoice_id=invoice.id,
                amount_minor=invoice.amount_due_minor,
                currency=invoice.currency,
                created_at=now,
                expires_at=now + timedelta(seconds=ttl_seconds),
                status="active",
            )
            session.add(link)
            audit(session, now, "billing", "payment_link_created", "invoice", invoice.id)
            return link.to_dto(now)

    async def get_payment_link(self, link_id: str, *, now: datetime) -> dto.PaymentLink:
        async with self._reading() as session:
            link = await session.get(PaymentLink, link_id)
            if link is None:
                raise NotFoundError("payment link not found")
            return link.to_dto(now)

    async def pay_link(
        self, link_id: str, *, provider: str, provider_reference: str, now: datetime
    ) -> dto.Payment:
        """Record the payment for a link once; a replayed reference returns the first payment.

        The link's amount is what the provider collected, so a link whose invoice balance
        dropped below it since (another payment came in) is refused rather than overpaying.
        """
        try:
            return await self._pay_link_once(link_id, provider, provider_reference, now)
        except sa_exc.IntegrityError:
            # A concurrent request for this link or reference committed first: report its payment.
            return await self._replayed_link_payment(link_id, provider, provider_reference)

    async def record_payment(
        self,
        account_id: int,
        invoice_id: int | None,
        amount: dto.Money,
        *,
        provider: str,
        provider_reference: str,
        now: datetime,
    ) -> dto.Payment:
        """Record a (possibly partial) payment; unique on (provider, provider_reference).

        With an invoice it pays (part of) that invoice; without one it tops up a prepaid
        account. Overpaying an invoice is refused: the core keeps no account credit.
        """
        if amount.minor <= 0:
            raise InvalidRequestError("a payment must be a positive amount")
        try:
            return await self._record_once(
                account_id, invoice_id, amount, provider, provider_reference, now
            )
        except sa_exc.IntegrityError:
            return await self._replayed_payment(provider, provider_reference)

    # --- verification and barring -------------------------------------------------------------
    async def verify_pin(self, account_id: int, pin: str, *, actor: str, now: datetime) -> None:
        """Check the account's PIN for the requester `actor`; the policy is in `pin_guard`.

        VerificationError on a wrong PIN; AccountLockedError when this requester is locked out
        (the fifth wrong PIN in a row already raises it); PinChecksPausedError at the daily cap.
        Every attempt is audited, including refused ones.
        """
        async with self._writing() as session:
            account = await _account(session, account_id, lock=True)
            check = pin_guard.account_check(account, actor, now)
            failure = await pin_guard.attempt(session, check, pin)
        if failure is not None:
            raise failure

    async def verify_line_pin(
        self, msisdn: str, pin: str, *, requester: str, now: datetime
    ) -> dto.Line:
        """The line once its account's PIN is right; a number with no line is just never right.

        Known and unknown numbers do the same work (one argon2 check, the same counters and
        locks) and raise the same errors, so nothing tells them apart before a right PIN.
        """
        async with self._writing() as session:
            check, line = await pin_guard.line_check(session, msisdn, requester, now)
            failure = await pin_guard.attempt(session, check, pin)
        if failure is not None:
            raise failure
        assert line is not None  # without a line the dummy hash decided, and it never matches
        return line.to_dto()

    async def bar_line(
        self, line_id: int, *, reason: str, idempotency_key: str, actor: str, now: datetime
    ) -> dto.BarResult:
        """Bar the line once. A replayed key returns the original result with created=False.

        Barring a line that already has an active bar returns that bar (created=False).
        """
        try:
            return await self._bar_once(line_id, reason, idempotency_key, actor, now)
        except sa_exc.IntegrityError:
            # Another request with this key, or for this line, committed first.
            return await self._replayed_bar(line_id, idempotency_key)

    # --- account security (the rules are in `account_security`) -------------------------------
    async def line_bar(self, line_id: int) -> dto.LineBar | None:
        async with self._reading() as session:
            return await account_security.line_bar(session, line_id)

    async def unbar_line(
        self, line_id: int, *, actor: str, idempotency_key: str, now: datetime
    ) -> dto.UnbarResult:
        async with self._writing() as session:
            return await account_security.unbar(
                session, line_id, key=idempotency_key, actor=actor, now=now
            )

    async def set_pin(
        self,
        account_id: int,
        pin: str,
        *,
        actor: str,
        now: datetime,
        idempotency_key: str | None = None,
    ) -> None:
        async with self._writing() as session:
            await account_security.set_pin(
                session, account_id, pin, key=idempotency_key, actor=actor, now=now
            )

    async def record_audit(
        self, account_id: int, action: str, *, actor: str, detail: str = "", now: datetime
    ) -> None:
        async with self._writing() as session:
            await account_security.record(
                session, account_id, action, actor=actor, detail=detail, now=now
            )

    async def low_balance_facts(
        self, *, account_ids: Collection[int] | None = None
    ) -> tuple[dto.LowBalanceFact, ...]:
        return await self._read(partial(balance_scan.low_balances, accounts=account_ids))

    # --- spending caps ------------------------------------------------------------------------
    async def get_bill_limit(self, account_id: int, *, now: datetime) -> dto.BillLimit:
        async with self._reading() as session:
            return await caps.read(session, await _account(session, account_id), now)

    async def set_bill_limit(
        self, account_id: int, change: dto.LimitChange, *, actor: str, now: datetime
    ) -> dto.BillLimit:
        async with self._writing() as session:
            account = await _account(session, account_id, lock=True)
            return await caps.set_limit(session, account, change, actor=actor, now=now)

    async def continue_past_limit(
        self, account_id: int, *, actor: str, now: datetime
    ) -> dto.BillLimit:
        async with self._writing() as session:
            account = await _account(session, account_id, lock=True)
            return await caps.consent(session, account, actor=actor, now=now)

    async def bar_over_limit(
        self, account_id: int, *, actor: str, now: datetime
    ) -> dto.CapBarResult:
        try:
            async with self._writing() as session:
                account = await _account(session, account_id, lock=True)
                return await caps.bar_if_reached(session, account, actor=actor, now=now)
        except sa_exc.IntegrityError:
            # A concurrent scan barred these lines first (the cap bar's key or the one
            # active bar per line): nothing more to bar.
            return dto.CapBarResult(await self.get_bill_limit(account_id, now=now))

    # --- SIM changes, transfers and their lock (the rules are in `sim_security`) ---------------
    async def security_lock(self, account_id: int) -> sec.SecurityLock:
        async with self._reading() as session:
            await _account(session, account_id)
            return await sim_security.lock_of(session, account_id)

    async def set_security_lock(
        self, account_id: int, locked: bool, *, actor: str, now: datetime
    ) -> sec.SecurityLock:
        async with self._writing() as session:
            return await sim_security.set_lock(session, account_id, locked, actor=actor, now=now)

    async def order_sim(
        self, line_id: int, kind: sec.SimKind, *, idempotency_key: str, actor: str, now: datetime
    ) -> sec.SimOrder:
        order = partial(sim_security.order_sim, line_id=line_id, kind=kind, actor=actor, now=now)
        try:
            async with self._writing() as session:
                return await order(session, key=idempotency_key)
        except sa_exc.IntegrityError:  # a concurrent copy (or another order) committed first
            async with self._writing() as session:
                return await order(session, key=idempotency_key)

    async def activate_sim(
        self, reference: str, *, iccid: str | None, actor: str, now: datetime
    ) -> sec.SimOrder:
        try:
            async with self._writing() as session:
                return await sim_security.activate_sim(
                    session, reference, iccid=iccid, actor=actor, now=now
                )
        except sa_exc.IntegrityError:  # the ICCID is another line's
            raise InvalidRequestError("that ICCID belongs to another SIM") from None

    async def cancel_sim_order(
        self, reference: str, *, reason: str, actor: str, now: datetime
    ) -> sec.SimOrder:
        async with self._writing() as session:
            return await sim_security.cancel_sim(
                session, reference, reason=reason, actor=actor, now=now
            )

    async def list_sim_orders(self, account_id: int) -> list[sec.SimOrder]:
        async with self._reading() as session:
            return await sim_security.sim_orders(session, account_id)

    async def request_port_out(
        self, msisdn: str, carrier: str, *, source_id: str, actor: str, now: datetime
    ) -> sec.PortOut:
        request = partial(
            sim_security.request_port_out, msisdn=msisdn, carrier=carrier, actor=actor, now=now
        )
        try:
            async with self._writing() as session:
                return await request(session, source_id=source_id)
        except sa_exc.IntegrityError:  # the same source id, committed at the same moment
            async with self._writing() as session:
                return await request(session, source_id=source_id)

    async def decide_port_out(
        self,
        reference: str,
        status: sec.PortOutStatus,
        *,
        reason: str = "",
        actor: str,
        now: datetime,
    ) -> sec.PortOut:
        async with self._writing() as session:
            return await sim_security.decide_port_out(
                session, reference, status, reason=reason, actor=actor, now=now
            )

    async def list_port_outs(
        self, *, account_id: int | None = None, open_only: bool = False
    ) -> list[sec.PortOut]:
        async with self._reading() as session:
            return await sim_security.port_outs(
                session, account_id=account_id, open_only=open_only
            )

    # --- plans, add-ons and prepaid top-ups (plans.py, add_ons.py, topups.py) ----------------
    async def plan_options(
        self, account_id: int, line_id: int, *, now: datetime
    ) -> dto.PlanOptions:
        async with self._writing() as session:  # a pending change whose day came is applied
            account = await _account(session, account_id, lock=True)
            return await plans.options(session, account, line_id, now)

    async def change_plan(
        self,
        account_id: int,
        line_id: int,
        plan_code: str,
        *,
        expected_charge: dto.Money,
        idempotency_key: str,
        actor: str,
        now: datetime,
    ) -> dto.PlanChangeResult:
        request = plans.Request(line_id, plan_code, expected_charge.minor, idempotency_key, actor)
        try:
            async with self._writing() as session:
                account = await _account(session, account_id, lock=True)
                return await plans.change(session, account, request, now)
        except sa_exc.IntegrityError:  # a concurrent copy committed first: report its change
            async with self._reading() as session:
                return await plans.replayed_change(session, account_id, request)

    async def add_on_options(
        self, account_id: int, line_id: int, *, now: datetime
    ) -> dto.AddOnOptions:
        async with self._reading() as session:
            account = await _account(session, account_id)
            return await add_ons.options(session, account, line_id, now)

    async def buy_add_on(
        self,
        account_id: int,
        line_id: int,
        code: str,
        *,
        expected_price: dto.Money,
        idempotency_key: str,
        actor: str,
        now: datetime,
    ) -> dto.AddOnPurchase:
        request = plans.Request(line_id, code, expected_price.minor, idempotency_key, actor)
        try:
            async with self._writing() as session:
                account = await _account(session, account_id, lock=True)
                return await add_ons.buy(session, account, request, now)
        except sa_exc.IntegrityError:  # a concurrent copy committed first: report its purchase
            async with self._reading() as session:
                return await add_ons.replayed_purchase(session, account_id, request)

    async def apply_due_plan_changes(self, *, now: datetime) -> int:
        async with self._writing() as session:
            return await plans.apply_due(session, now)

    async def create_top_up_link(
        self, account_id: int, amount: dto.Money, *, now: datetime, ttl_seconds: int
    ) -> dto.PaymentLink:
        async with self._writing() as session:
            account = await _account(session, account_id)
            return topups.create_link(session, account, amount, now, ttl_seconds)

    async def get_low_balance_alert(self, account_id: int) -> dto.Money | None:
        async with self._reading() as session:
            return topups.low_balance_level(await _account(session, account_id))

    async def set_low_balance_alert(
        self, account_id: int, level: dto.Money | None, *, actor: str, now: datetime
    ) -> dto.Money | None:
        async with self._writing() as session:
            account = await _account(session, account_id, lock=True)
            return topups.set_level(session, account, level, actor, now)

    # --- tickets ------------------------------------------------------------------------------
    async def create_ticket(
        self,
        account_id: int,
        *,
        subject: str,
        description: str,
        channel: str,
        idempotency_key: str,
        now: datetime,
    ) -> dto.Ticket:
        try:
            return await self._ticket_once(
                account_id, subject, description, channel, idempotency_key, now
            )
        except sa_exc.IntegrityError:
            return await self._replayed_ticket(account_id, idempotency_key)

    async def list_tickets(self, account_id: int) -> list[dto.Ticket]:
        """Newest first."""
        async with self._reading() as session:
            tickets = await session.scalars(
                select(Ticket)
                .where(Ticket.account_id == account_id)
                .order_by(Ticket.created_at.desc(), Ticket.id.desc())
            )
            return [ticket.to_dto() for ticket in tickets]

    async def update_ticket(
        self, update: dto.TicketUpdate, *, idempotency_key: str, now: datetime
    ) -> dto.Ticket:
        try:
            return await self._update_once(update, idempotency_key, now)
        except sa_exc.IntegrityError:  # a concurrent copy of this update committed first
            return await self._replayed_update(update.reference)

    async def _update_once(self, update: dto.TicketUpdate, key: str, now: datetime) -> dto.Ticket:
        async with self._writing() as session:
            ticket = await _ticket_by_reference(session, update.reference, lock=True)
            if await _message_by_key(session, key) is not None:
                return ticket.to_dto(created=False)
            if update.status is not None:
                ticket.status = update.status
            body = update.message or f"Status: {ticket.status}"
            author = update.author[:40]
            session.add(
                TicketMessage(
                    ticket_id=ticket.id,
                    author=author,
                    body=body,
                    idempotency_key=key,
                    created_at=now,
                )
            )
            ticket.updated_at = now
            await session.flush()
            audit(session, now, author, "ticket_updated", "ticket", ticket.id, ticket.status)
            return ticket.to_dto()

    async def _replayed_update(self, reference: str) -> dto.Ticket:
        async with self._reading() as session:
            return (await _ticket_by_reference(session, reference)).to_dto(created=False)

    # --- audit --------------------------------------------------------------------------------
    async def alert_facts(
        self,
        *,
        now: datetime,
        issued_since: date,
        due_until: date,
        usage_floor: int,
        account_ids: Collection[int] | None = None,
        changed_since: datetime | None = None,
        dated: Mapping[str, dto.BillDays] | None = None,
    ) -> dto.AlertFacts:
        window = alert_scan.Window(now.date(), issued_since, due_until, usage_floor)
        if account_ids is not None:
            only = sorted(account_ids)
            return await self._read(lambda c: alert_scan.facts(c, window, accounts=only))
        async with self._writing() as session:  # SQLite: no write is half done meanwhile
            dialect = session.get_bind().dialect.name
            watermark = await session.scalar(alert_scan.watermark_query(dialect))
        if changed_since is None:
            facts = await self._read(lambda c: alert_scan.facts(c, window, dated=dated))
        else:
            since, days = changed_since, dated or {}
            facts = await self._read(lambda c: alert_scan.changes(c, window, since, days))
        return replace(facts, watermark=watermark)

    async def ticket_messages(self, account_id: int, reference: str) -> list[dto.TicketMessage]:
        async with self._reading() as session:
            return await portal.ticket_messages(session, account_id, reference)

    # --- the customer's own records (web view) ----------------------------------------------
    async def list_payments(self, account_id: int, *, limit: int = 50) -> list[dto.Payment]:
        async with self._reading() as session:
            return await portal.payments(session, account_id, limit)

    async def get_payment(self, account_id: int, payment_id: int) -> dto.Payment:
        async with self._reading() as session:
            return await portal.payment(session, account_id, payment_id)

    async def update_contact(
        self, account_id: int, change: dto.ContactChange, *, actor: str, now: datetime
    ) -> dto.Account:
        async with self._writing() as session:
            account = await _account(session, account_id, lock=True)
            await portal.update_contact(session, account, change, actor, now)
            return account.to_dto()

    async def list_audit(self, *, limit: int = 50) -> list[dto.AuditEntry]:
        """Newest first."""
        async with self._reading() as session:
            rows = await session.scalars(
                select(AuditLog).order_by(AuditLog.id.desc()).limit(limit)
            )
            return [row.to_dto() for row in rows]

    # --- field service (the rules are in `field_service`) --------------------------------------
    async def service_status(self, account_id: int, *, now: datetime) -> dto.ServiceStatus:
        async with self._reading() as session:
            await _account(session, account_id)
            return await field_service.service_status(session, account_id, now)

    async def list_outages(self, *, now: datetime, active_only: bool = True) -> list[dto.Outage]:
        async with self._reading() as session:
            return await field_service.list_outages(session, now, active_only=active_only)

    async def add_outage(self, outage: dto.NewOutage, *, actor: str, now: datetime) -> dto.Outage:
        try:
            async with self._writing() as session:
                return await field_service.add_outage(session, outage, actor=actor, now=now)
        except sa_exc.IntegrityError:  # the same source_id, added at the same moment
            async with self._reading() as session:
                earlier = await field_service.outage_by_source(session, outage.source_id)
            if earlier is None:
                raise BillingUnavailableError("outage conflict could not be resolved") from None
            return earlier

    async def clear_outage(self, outage_id: int, *, actor: str, now: datetime) -> dto.Outage:
        async with self._writing() as session:
            return await field_service.clear_outage(session, outage_id, actor=actor, now=now)

    async def outage_by_source(self, source_id: str) -> dto.Outage | None:
        async with self._reading() as session:
            return await field_service.outage_by_source(session, source_id)

    async def technician_slots(
        self, account_id: int, *, now: datetime, limit: int = 8
    ) -> list[dto.TechnicianSlot]:
        async with self._reading() as session:
            await _account(session, account_id)
            return await field_service.free_slots(session, account_id, now, limit)

    async def list_appointments(self, account_id: int, *, now: datetime) -> list[dto.Appointment]:
        async with self._reading() as session:
            await _account(session, account_id)
            return await field_service.upcoming(session, account_id, now)

    async def book_appointment(
        self,
        account_id: int,
        slot_id: int,
        *,
        reason: str,
        idempotency_key: str,
        actor: str,
        now: datetime,
    ) -> dto.AppointmentChange:
        try:
            async with self._writing() as session:
                return await field_service.book(
                    session,
                    account_id,
                    slot_id,
                    reason=reason,
                    key=idempotency_key,
                    actor=actor,
                    now=now,
                )
        except sa_exc.IntegrityError:  # a concurrent copy of this booking committed first
            async with self._reading() as session:
                earlier = await field_service.by_key(session, idempotency_key)
                if earlier is None:
                    raise BillingUnavailableError(
                        "booking conflict could not be resolved"
                    ) from None
                return await field_service.replayed_booking(session, earlier, account_id)

    async def reschedule_appointment(
        self, account_id: int, appointment_id: int, slot_id: int, *, actor: str, now: datetime
    ) -> dto.AppointmentChange:
        async with self._writing() as session:
            return await field_service.reschedule(
                session, account_id, appointment_id, slot_id, actor=actor, now=now
            )

    async def cancel_appointment(
        self, account_id: int, appointment_id: int, *, actor: str, now: datetime
    ) -> dto.AppointmentChange:
        async with self._writing() as session:
            return await field_service.cancel(
                session, account_id, appointment_id, actor=actor, now=now
            )

    # --- transactions -------------------------------------------------------------------------
    async def _read(self, work: Callable[[Connection], T]) -> T:
        """One of the per-turn reads, as one plain transaction (see `reads`)."""
        if self._transactions is None:
            self._transactions = Transactions(_engine_of(self._sessions))
        try:
            return await self._transactions.read(work)
        except _UNAVAILABLE as exc:
            raise BillingUnavailableError("the billing database is not available") from exc

    @asynccontextmanager
    async def _reading(self) -> AsyncIterator[AsyncSession]:
        try:
            async with self._sessions() as session, session.begin():
                yield session
        except _UNAVAILABLE as exc:
            raise BillingUnavailableError("the billing database is not available") from exc

    @asynccontextmanager
    async def _writing(self) -> AsyncIterator[AsyncSession]:
        """A transaction that holds the write lock from its start on SQLite."""
        try:
            async with self._sessions() as session, session.begin():
                await session.connection(execution_options=WRITE_INTENT)
                yield session
        except _UNAVAILABLE as exc:
            raise BillingUnavailableError("the billing database is not available") from exc

    # --- payments -----------------------------------------------------------------------------
    async def _pay_link_once(
        self, link_id: str, provider: str, reference: str, now: datetime
    ) -> dto.Payment:
        async with self._writing() as session:
            link = await session.scalar(
                select(PaymentLink).where(PaymentLink.id == link_id).with_for_update()
            )
            if link is None:
                raise NotFoundError("payment link not found")
            earlier = await _payment_by_reference(session, provider, reference)
            earlier = earlier or await _payment_of_link(session, link.id)
            if earlier is not None:
                return _replay_for_link(earlier, link.id)
            if link.shown_status(now) == "expired":
                raise InvalidRequestError("this payment link has expired; ask for a new one")
            invoice = await _link_target(session, link, f"{provider}:{reference}", now)
            link.status, link.paid_at = "paid", now
            amount = dto.Money(link.amount_minor, link.currency)
            payment = _new_payment(link.account_id, invoice, amount, now)
            payment.payment_link_id = link.id
            return await _store_payment(session, payment, provider, reference)

    async def _replayed_link_payment(
        self, link_id: str, provider: str, reference: str
    ) -> dto.Payment:
        async with self._reading() as session:
            payment = await _payment_by_reference(session, provider, reference)
            payment = payment or await _payment_of_link(session, link_id)
            if payment is None:
                raise BillingUnavailableError("payment conflict could not be resolved")
            return _replay_for_link(payment, link_id)

    async def _record_once(
        self,
        account_id: int,
        invoice_id: int | None,
        amount: dto.Money,
        provider: str,
        reference: str,
        now: datetime,
    ) -> dto.Payment:
        async with self._writing() as session:
            # The account is locked before the replay check: a concurrent copy of this payment
            # (another process) waits here and then finds the first one's row, instead of
            # finding the invoice already paid.
            account = await _account(session, account_id, lock=True)
            earlier = await _payment_by_reference(session, provider, reference)
            if earlier is not None:
                return _replay_for_account(earlier, account_id)
            if amount.currency != account.currency:
                raise InvalidRequestError(f"this account is billed in {account.currency}")
            invoice = await _payment_target(session, account, invoice_id, amount, now)
            payment = _new_payment(account.id, invoice, amount, now)
            if invoice is None:
                session.add(_top_up(account, amount.minor, f"{provider}:{reference}", now))
            return await _store_payment(session, payment, provider, reference)

    async def _replayed_payment(self, provider: str, reference: str) -> dto.Payment:
        async with self._reading() as session:
            payment = await _payment_by_reference(session, provider, reference)
            if payment is None:
                raise BillingUnavailableError("payment conflict could not be resolved")
            return payment.to_dto(created=False)

    # --- barring ------------------------------------------------------------------------------
    async def _bar_once(
        self, line_id: int, reason: str, key: str, actor: str, now: datetime
    ) -> dto.BarResult:
        async with self._writing() as session:
            line = await _line(session, line_id, lock=True)
            earlier = await _barring_by_key(session, key) or await _active_barring(session, line)
            if earlier is not None and _replaceable(earlier, key):
                await _replace_cap_bar(session, earlier, actor, now)
                earlier = None
            if earlier is not None:
                return _replayed_bar_result(earlier, line, key)
            if line.status == "terminated":
                raise InvalidRequestError("this line is terminated and cannot be barred")
            barring = _new_barring(line, reason, key, actor, now)
            session.add(barring)
            await session.flush()
            audit(session, now, actor, "line_barred", "line", line.id, _bar_detail(barring))
            return dto.BarResult(barring.reference, line.to_dto(), now, created=True)

    async def _replayed_bar(self, line_id: int, key: str) -> dto.BarResult:
        async with self._reading() as session:
            line = await _line(session, line_id)
            earlier = await _barring_by_key(session, key) or await _active_barring(session, line)
            if earlier is None:
                raise BillingUnavailableError("barring conflict could not be resolved")
            return _replayed_bar_result(earlier, line, key)

    # --- tickets ------------------------------------------------------------------------------
    async def _ticket_once(
        self,
        account_id: int,
        subject: str,
        description: str,
        channel: str,
        key: str,
        now: datetime,
    ) -> dto.Ticket:
        async with self._writing() as session:
            earlier = await _ticket_by_key(session, key)
            if earlier is not None:
                return _replayed_ticket(earlier, account_id)
            await _account(session, account_id)
            ticket = _new_ticket(account_id, subject, channel, key, now)
            session.add(ticket)
            await session.flush()
            session.add(_first_message(ticket, description, now))
            actor = f"customer:{channel}"
            audit(session, now, actor, "ticket_opened", "ticket", ticket.id, ticket.reference)
            return ticket.to_dto(created=True)

    async def _replayed_ticket(self, account_id: int, key: str) -> dto.Ticket:
        async with self._reading() as session:
            ticket = await _ticket_by_key(session, key)
            if ticket is None:
                raise BillingUnavailableError("ticket conflict could not be resolved")
            return _replayed_ticket(ticket, account_id)


# --- lookups ----------------------------------------------------------------------------------
async def _account(session: AsyncSession, account_id: int, *, lock: bool = False) -> Account:
    query = select(Account).where(Account.id == account_id)
    account = await session.scalar(query.with_for_update() if lock else query)
    if account is None:
        raise NotFoundError(f"account {account_id} not found")
    return account


async def _line(session: AsyncSession, line_id: int, *, lock: bool = False) -> Line:
    query = select(Line).options(joinedload(Line.plan, innerjoin=True)).where(Line.id == line_id)
    line = await session.scalar(query.with_for_update(of=Line) if lock else query)
    if line is None:
        raise NotFoundError(f"line {line_id} not found")
    return line


async def _owned_invoice(
    session: AsyncSession, account_id: int, invoice_id: int, *, lock: bool = False
) -> Invoice:
    """The invoice if it belongs to the account; someone else's invoice is "not found"."""
    query = select(Invoice).where(Invoice.id == invoice_id, Invoice.account_id == account_id)
    invoice = await session.scalar(query.with_for_update() if lock else query)
    if invoice is None:
        raise NotFoundError(f"invoice {invoice_id} not found for account {account_id}")
    return invoice


async def _open_invoices(session: AsyncSession, account: Account) -> Sequence[Invoice]:
    """Open invoices with something left to pay, oldest due first."""
    rows = await session.scalars(
        select(Invoice)
        .where(Invoice.account_id == account.id, Invoice.status == "open")
        .where(Invoice.total_minor > Invoice.amount_paid_minor)
        .order_by(Invoice.due_on, Invoice.id)
    )
    return rows.all()


async def _prepaid_balance(session: AsyncSession, account: Account) -> dto.Money | None:
    if account.billing_type != "prepaid":
        return None
    total = await session.scalar(
        select(func.coalesce(func.sum(PrepaidTransaction.amount_minor), 0)).where(
            PrepaidTransaction.account_id == account.id
        )
    )
    return dto.Money(int(total or 0), account.currency)


async def _payment_by_reference(
    session: AsyncSession, provider: str, reference: str
) -> Payment | None:
    return await session.scalar(
        select(Payment).where(
            Payment.provider == provider, Payment.provider_reference == reference
        )
    )


async def _payment_of_link(session: AsyncSession, link_id: str) -> Payment | None:
    return await session.scalar(select(Payment).where(Payment.payment_link_id == link_id))


async def _barring_by_key(session: AsyncSession, key: str) -> Barring | None:
    return await session.scalar(select(Barring).where(Barring.idempotency_key == key))


async def _active_barring(session: AsyncSession, line: Line) -> Barring | None:
    return await session.scalar(
        select(Barring).where(Barring.line_id == line.id, Barring.lifted_at.is_(None))
    )


async def _ticket_by_reference(
    session: AsyncSession, reference: str, *, lock: bool = False
) -> Ticket:
    """The ticket "T-000123" names; NotFoundError for anything else."""
    prefix, _, digits = reference.strip().upper().partition("-")
    if prefix != "T" or not digits.isdigit() or len(digits) > 12:
        raise NotFoundError(f"no ticket {reference[:20]!r}")
    query = select(Ticket).where(Ticket.id == int(digits))
    ticket = await session.scalar(query.with_for_update() if lock else query)
    if ticket is None:
        raise NotFoundError(f"no ticket {reference[:20]!r}")
    return ticket


async def _message_by_key(session: AsyncSession, key: str) -> TicketMessage | None:
    query = select(TicketMessage).where(TicketMessage.idempotency_key == key)
    return await session.scalar(query)


async def _ticket_by_key(session: AsyncSession, key: str) -> Ticket | None:
    return await session.scalar(select(Ticket).where(Ticket.idempotency_key == key))


# --- payments ---------------------------------------------------------------------------------
def _require_payable(invoice: Invoice, amount_minor: int) -> None:
    if invoice.status == "void":
        raise InvalidRequestError(f"invoice {invoice.number} is void")
    if invoice.amount_due_minor <= 0:
        raise InvalidRequestError(f"nothing is due on invoice {invoice.number}")
    if amount_minor > invoice.amount_due_minor:
        raise InvalidRequestError(f"the amount is more than is due on invoice {invoice.number}")


def _apply_payment(invoice: Invoice, amount_minor: int, now: datetime) -> None:
    _require_payable(invoice, amount_minor)
    invoice.amount_paid_minor += amount_minor
    if invoice.amount_paid_minor >= invoice.total_minor:
        invoice.status, invoice.paid_at = "paid", now


async def _payment_target(
    session: AsyncSession,
    account: Account,
    invoice_id: int | None,
    amount: dto.Money,
    now: datetime,
) -> Invoice | None:
    """The invoice a payment settles (updated), or None for a prepaid top-up."""
    if invoice_id is None:
        if account.billing_type != "prepaid":
            raise InvalidRequestError("a postpaid payment must name the invoice it pays")
        return None
    invoice = await _owned_invoice(session, account.id, invoice_id, lock=True)
    _apply_payment(invoice, amount.minor, now)
    return invoice


async def _link_target(
    session: AsyncSession, link: PaymentLink, key: str, now: datetime
) -> Invoice | None:
    """What paying the link settles: its invoice (updated), or for a top-up link (no invoice)
    the prepaid balance, credited here with a ledger row keyed by the payment reference."""
    if link.invoice_id is None:
        account = await _account(session, link.account_id, lock=True)
        session.add(_top_up(account, link.amount_minor, key, now))
        return None
    invoice = await _owned_invoice(session, link.account_id, link.invoice_id, lock=True)
    _apply_payment(invoice, link.amount_minor, now)
    return invoice


def _new_payment(
    account_id: int, invoice: Invoice | None, amount: dto.Money, now: datetime
) -> Payment:
    return Payment(
        account_id=account_id,
        invoice_id=invoice.id if invoice else None,
        amount_minor=amount.minor,
        currency=amount.currency,
        received_at=now,
    )


def _top_up(account: Account, amount_minor: int, key: str, now: datetime) -> PrepaidTransaction:
    return PrepaidTransaction(
        account_id=account.id,
        kind="top_up",
        description="Top-up",
        amount_minor=amount_minor,
        currency=account.currency,
        at=now,
        idempotency_key=f"payment:{key}",
    )


async def _store_payment(
    session: AsyncSession, payment: Payment, provider: str, reference: str
) -> dto.Payment:
    payment.provider, payment.provider_reference = provider, reference
    session.add(payment)
    await session.flush()
    detail = f"{payment.amount_minor} {payment.currency} via {provider}"
    if payment.invoice_id is None:
        entity, entity_id = "account", payment.account_id
    else:
        entity, entity_id = "invoice", payment.invoice_id
    audit(session, payment.received_at, provider, "payment_received", entity, entity_id, detail)
    return payment.to_dto(created=True)


def _replay_for_link(payment: Payment, link_id: str) -> dto.Payment:
    if payment.payment_link_id not in (None, link_id):
        raise ConflictError("this payment reference was used for another payment link")
    return payment.to_dto(created=False)


def _replay_for_account(payment: Payment, account_id: int) -> dto.Payment:
    if payment.account_id != account_id:
        raise ConflictError("this payment reference was used for another account")
    return payment.to_dto(created=False)


# --- barring ----------------------------------------------------------------------------------
def _barring_type(reason: str) -> str:
    """Lost or stolen SIMs get the lost_stolen bar (full bar + SIM block); others a full bar."""
    return "lost_stolen" if reason.lower() in ("lost", "stolen", "lost_stolen") else "full"


def _new_barring(line: Line, reason: str, key: str, actor: str, now: datetime) -> Barring:
    line.status, line.barred_reason, line.barred_at = "barred", reason[:200], now
    return Barring(
        line_id=line.id,
        type=_barring_type(reason),
        reason=reason[:200],
        applied_by=actor[:80],
        applied_at=now,
        idempotency_key=key,
    )


def _replaceable(barring: Barring, key: str) -> bool:
    """A lost-or-stolen (or full) bar asked for on a line the spending cap barred replaces the
    cap bar, which only bars chargeable usage."""
    return barring.type == caps.CAP_BAR and barring.idempotency_key != key


async def _replace_cap_bar(
    session: AsyncSession, barring: Barring, actor: str, now: datetime
) -> None:
    barring.lifted_at = now
    detail = f"{barring.reference} {caps.CAP_BAR} replaced"
    audit(session, now, actor, "line_unbarred", "line", barring.line_id, detail)
    await session.flush()


def _bar_detail(barring: Barring) -> str:
    return f"{barring.reference} {barring.type}: {barring.reason}"


def _replayed_bar_result(barring: Barring, line: Line, key: str) -> dto.BarResult:
    if barring.line_id != line.id:
        raise ConflictError("this idempotency key was used to bar another line")
    replayed = barring.idempotency_key == key
    return dto.BarResult(
        barring.reference, line.to_dto(), barring.applied_at, created=False, replayed=replayed
    )


# --- tickets ----------------------------------------------------------------------------------
def _new_ticket(account_id: int, subject: str, channel: str, key: str, now: datetime) -> Ticket:
    return Ticket(
        account_id=account_id,
        subject=subject.strip()[:200] or "Support request",
        status="open",
        channel=channel[:20],
        idempotency_key=key,
        created_at=now,
        updated_at=now,
    )


def _first_message(ticket: Ticket, description: str, now: datetime) -> TicketMessage:
    return TicketMessage(ticket_id=ticket.id, author="customer", body=description, created_at=now)


def _replayed_ticket(ticket: Ticket, account_id: int) -> dto.Ticket:
    if ticket.account_id != account_id:
        raise ConflictError("this idempotency key was used for another account's ticket")
    return ticket.to_dto(created=False)


# --- small helpers ----------------------------------------------------------------------------
def _item_dto(item: InvoiceItem, currency: str) -> dto.InvoiceItem:
    return dto.InvoiceItem(
        description=item.description,
        quantity=item.quantity,
        amount=dto.Money(item.amount_minor, currency),
        msisdn=item.line.msisdn if item.line else None,
        kind=item.kind,
    )


def _usage_dto(counter: UsageCounter, msisdn: str) -> dto.UsageCounter:
    return dto.UsageCounter(
        line_msisdn=msisdn,
        kind=counter.kind,
        unit=counter.unit,
        used=counter.used,
        allowance=counter.allowance,
        cycle_start=counter.cycle_start,
        cycle_end=counter.cycle_end,
    )


def _engine_of(sessions: async_sessionmaker[AsyncSession]) -> AsyncEngine:
    engine = sessions.kw.get("bind")
    if not isinstance(engine, AsyncEngine):
        raise TypeError("SqlBillingClient needs sessions bound to an AsyncEngine")
    return engine
