"""What each billing event does, idempotently (docs/events.md), and the outcome it answers.

- `invoice.issued`: the invoice must be the account's; a scan of the account's alerts then
  queues its `bill_ready` at once (deferred past quiet hours as usual).
- `payment.succeeded`: the payment is recorded once per (provider, reference); its
  `payment_received` receipt is queued once per payment, where the account's alerts go; a scan
  of the account then withdraws a waiting reminder of the bill it paid.
- `usage.recorded`: the records go through the usage import (`billbot usage import`'s path),
  which counts each record once by its content (`source_id`); a scan of the accounts touched
  then queues their usage and spending-cap alerts.
- `ticket.updated`: the helpdesk's status and/or message is added to the ticket once per event
  (the message keyed by the event's id); its `ticket_updated` alert is queued once, where the
  account's alerts go.

Applied twice (a replay after a crash, two deliveries at once), each changes and queues nothing
the second time. `EventRefused` when the billing core does not know what the event names.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Iterable
from datetime import datetime
from typing import Any, cast

from billing_client import (
    Account,
    BillingClient,
    ConflictError,
    InvalidRequestError,
    InvoiceSummary,
    NewOutage,
    NotFoundError,
    Payment,
    Ticket,
    TicketUpdate,
)
from billing_client.types import OutageKind, TicketStatus
from billing_client.usage_csv import UsageFile, UsageImportReport
from bot import i18n
from bot.alerts import texts
from bot.alerts.planner import Decision
from bot.alerts.reach import AlertReach
from bot.alerts.service import AlertService
from bot.clock import Clock
from bot.events import (
    EventRefused,
    InvoiceIssued,
    OutageCleared,
    OutageStarted,
    PaymentSucceeded,
    PortOutRequested,
    SimActivated,
    TicketUpdated,
    UsageRecorded,
    describe_problems,
)
from bot.outbox import Outbox
from bot.security_desk import SecurityDesk
from bot.types import OutboundMessage, Reply

PAYMENT_RECEIVED, TICKET_UPDATED = "payment_received", "ticket_updated"
# What the billing core says when it will not record a payment (never "unavailable": a 503).
REFUSALS = (InvalidRequestError, NotFoundError, ConflictError)
UsageImporter = Callable[[UsageFile, datetime], Awaitable[UsageImportReport]]
"""Applies checked usage rows in one transaction (the embedded core's `import_usage_file`)."""


class EventEffects:
    """Applies events to the billing core and queues the alerts they cause."""

    def __init__(
        self,
        *,
        billing: BillingClient,
        alerts: AlertService,
        outbox: Outbox,
        reach: AlertReach,
        import_usage: UsageImporter | None,
        operator: str,
        clock: Clock,
        security: SecurityDesk | None = None,
    ) -> None:
        self._billing = billing
        self._alerts = alerts
        self._outbox = outbox
        self._reach = reach
        self._import_usage = import_usage
        self._operator = operator
        self._clock = clock
        self._security = security

    async def invoice_issued(self, data: InvoiceIssued) -> dict[str, Any]:
        account = await self._account(data.account)
        invoice = await self._invoice(account, data.invoice)
        alerts = await self._scan({account.id})
        return {"account": account.id, "invoice": invoice.number, "alerts": alerts}

    async def payment_succeeded(self, data: PaymentSucceeded) -> dict[str, Any]:
        account = await self._account(data.account)
        if data.amount.currency != account.currency:
            raise EventRefused(f"the account is billed in {account.currency}")
        invoice = await self._invoice(account, data.invoice) if data.invoice else None
        payment = await self._record(account, invoice, data)
        receipt = await self._receipt(account, invoice, payment)
        alerts = await self._scan({account.id})
        return {
            "account": account.id,
            "payment": _payment(payment, invoice),
            "alerts": [_decision(receipt), *alerts],
        }

    async def ticket_updated(self, data: TicketUpdated) -> dict[str, Any]:
        update = TicketUpdate(data.ticket, _status(data.status), data.message)
        try:
            ticket = await self._billing.update_ticket(
                update, idempotency_key=data.key, now=self._clock.now()
            )
        except REFUSALS as error:
            raise EventRefused(str(error)) from None
        account = await self._billing.get_account(ticket.account_id)
        key = f"alert:{TICKET_UPDATED}:{account.id}:{ticket.id}:{data.key[-16:]}"
        text = _ticket_text(account, ticket, data.message, self._operator)
        told = await self._tell(account, TICKET_UPDATED, key, text)
        return {
            "account": account.id,
            "ticket": ticket.reference,
            "status": ticket.status,
            "alerts": [_decision(told)],
        }

    async def outage_started(self, data: OutageStarted) -> dict[str, Any]:
        kind = cast(OutageKind, data.kind)  # `bot.events` checked it
        outage = NewOutage(
            data.area, kind, data.message, data.expected_end, source_id=_outage_source(data.outage)
        )
        try:
            added = await self._billing.add_outage(outage, actor="events", now=self._clock.now())
        except REFUSALS as error:
            raise EventRefused(str(error)) from None
        return {"outage": added.id, "area": added.area, "kind": added.kind}

    async def outage_cleared(self, data: OutageCleared) -> dict[str, Any]:
        try:
            found = await self._billing.outage_by_source(_outage_source(data.outage))
            if found is None:
                raise EventRefused(f"unknown outage {data.outage[:100]!r}")
            cleared = await self._billing.clear_outage(
                found.id, actor="events", now=self._clock.now()
            )
        except REFUSALS as error:
            raise EventRefused(str(error)) from None
        assert cleared.cleared_at is not None
        return {"outage": cleared.id, "cleared_at": cleared.cleared_at.isoformat()}

    async def port_out_requested(self, data: PortOutRequested) -> dict[str, Any]:
        desk = self._desk()
        try:
            transfer = await desk.request_port_out(
                data.msisdn, data.carrier, source_id=f"event:{data.request}", actor="events"
            )
        except REFUSALS as error:
            raise EventRefused(str(error)) from None
        return {"transfer": transfer.reference, "status": transfer.status}

    async def sim_activated(self, data: SimActivated) -> dict[str, Any]:
        desk = self._desk()
        try:
            order = await desk.activate_sim(data.order, iccid=data.iccid, actor="events")
        except REFUSALS as error:
            raise EventRefused(str(error)) from None
        return {"order": order.reference, "status": order.status}

    def _desk(self) -> SecurityDesk:
        if self._security is None:
            raise EventRefused("this billbot takes no SIM or transfer events")
        return self._security

    async def usage_recorded(self, data: UsageRecorded) -> dict[str, Any]:
        if self._import_usage is None:
            raise EventRefused("this billbot's billing system takes no usage events")
        report = await self._import_usage(UsageFile(data.rows, ()), self._clock.now())
        if report.problems:
            raise EventRefused(describe_problems(report.problems))
        alerts = await self._scan(report.accounts)
        return {
            "records": report.rows,
            "new": report.imported,
            "accounts": sorted(report.accounts),
            "alerts": alerts,
        }

    # --- steps --------------------------------------------------------------------------------
    async def _account(self, phone: str) -> Account:
        account = await self._billing.find_account_by_msisdn(phone)
        if account is None:
            raise EventRefused("unknown account: no line has this number")
        return account

    async def _invoice(self, account: Account, number: str) -> InvoiceSummary:
        invoice = await self._billing.find_invoice(account.id, number, now=self._clock.now())
        if invoice is None:
            raise EventRefused(f"unknown invoice {number!r} for this account")
        return invoice

    async def _record(
        self, account: Account, invoice: InvoiceSummary | None, data: PaymentSucceeded
    ) -> Payment:
        """The payment, recorded now or before (same provider and reference: the billing core
        answers a concurrent copy with the first one's payment)."""
        invoice_id = invoice.id if invoice else None
        try:
            return await self._pay(account, invoice_id, data)
        except REFUSALS as error:
            raise EventRefused(str(error)) from None

    async def _pay(
        self, account: Account, invoice_id: int | None, data: PaymentSucceeded
    ) -> Payment:
        return await self._billing.record_payment(
            account.id,
            invoice_id,
            data.amount,
            provider=data.provider,
            provider_reference=data.reference,
            now=self._clock.now(),
        )

    async def _receipt(
        self, account: Account, invoice: InvoiceSummary | None, payment: Payment
    ) -> Decision:
        """The receipt, once per payment."""
        key = f"alert:{PAYMENT_RECEIVED}:{account.id}:{payment.id}"
        text = _receipt_text(account, invoice, payment, self._operator)
        return await self._tell(account, PAYMENT_RECEIVED, key, text)

    async def _tell(self, account: Account, kind: str, key: str, text: str) -> Decision:
        """Queue `text` once by `key`, where the account's alerts go, at once (unless the
        customer turned this kind off)."""
        if not await self._reach.wants(account.id, kind):
            return Decision(kind, account.id, key, "skipped", "turned off by the customer")
        reach = await self._reach.reach_of(account.id)
        if reach is None:
            return Decision(kind, account.id, key, "skipped", "no channel reaches them")
        channel, address = reach
        message = OutboundMessage(channel, address, (Reply(text=text),), kind, key, account.id)
        new = await self._outbox.enqueue(message)
        outcome = "queued" if new else "already queued"
        return Decision(kind, account.id, key, outcome, f"by {channel}")

    async def _scan(self, account_ids: Collection[int]) -> list[dict[str, Any]]:
        """The accounts' alert scan now: what it queued, deferred, skipped or found queued."""
        if not account_ids:
            return []
        decisions = await self._alerts.run_once(self._clock.now(), account_ids=account_ids)
        return _decisions(decisions)


def _receipt_text(
    account: Account, invoice: InvoiceSummary | None, payment: Payment, operator: str
) -> str:
    case = "invoice" if invoice is not None else "top_up"
    return i18n.say(
        texts.PAYMENT_RECEIVED[case],
        account.locale,
        operator=operator,
        amount=payment.amount.format(account.locale),
        number=invoice.number if invoice is not None else "",
        reference=payment.provider_reference,
    )


def _outage_source(outage: str) -> str:
    """The billing core's `source_id` of the billing system's outage: one row per outage."""
    return f"event:outage:{outage}"


def _status(status: str | None) -> TicketStatus | None:
    """The event's status, one of TicketStatus (`bot.events` checked it)."""
    return cast(TicketStatus | None, status)


def _ticket_text(account: Account, ticket: Ticket, message: str | None, operator: str) -> str:
    status = i18n.say(texts.TICKET_STATUSES[ticket.status], account.locale)
    said = "" if message is None else _shortened(message)
    template = texts.TICKET_UPDATED if said else texts.TICKET_STATUS_ONLY
    return i18n.say(
        template,
        account.locale,
        operator=operator,
        reference=ticket.reference,
        status=status,
        message=said,
    )


def _shortened(message: str, limit: int = 280) -> str:
    flat = " ".join(message.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def _payment(payment: Payment, invoice: InvoiceSummary | None) -> dict[str, Any]:
    return {
        "id": payment.id,
        "amount": str(payment.amount.amount),
        "currency": payment.amount.currency,
        "invoice": invoice.number if invoice is not None else None,
        "provider": payment.provider,
        "reference": payment.provider_reference,
    }


def _decisions(decisions: Iterable[Decision]) -> list[dict[str, Any]]:
    return [_decision(decision) for decision in decisions]


def _decision(decision: Decision) -> dict[str, Any]:
    entry = {"kind": decision.kind, "key": decision.key, "outcome": decision.outcome}
    return {**entry, "why": decision.why} if decision.why else entry
