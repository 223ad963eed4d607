"""An in-memory billing client with what the support intents read: tickets with their
conversations, payments, and invoices with their items (`FakeBillingClient` plus those)."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from urllib.parse import urlsplit

from billing_client import (
    Account,
    BillingUnavailableError,
    InvoiceDetail,
    InvoiceItem,
    InvoiceSummary,
    Money,
    NotFoundError,
    Payment,
    Ticket,
    TicketMessage,
    TicketUpdate,
)
from bot.flow import FlowState, TurnContext
from bot.links import LinkSigner, OneUseClaim
from bot.nlu.types import Entity
from bot.operator import OperatorConfig
from bot.routing import Router
from bot.settings import Settings
from bot.store.conversations import ConversationState
from bot.types import InboundMessage, Reply
from intents.registry import default_registry
from tests.fakes import NOW, FakeBillingClient, parse, usd

SETTINGS = Settings(demo=True, secret_key="unit-test-secret-key-0123")
SIGNER = LinkSigner(SETTINGS.secret_key, SETTINGS.public_url)
ROUTER = Router(default_registry())

SAM_ID, MARIA_ID = 1, 2
SAM_LINE, JORDAN_LINE = "+12025550102", "+12025550103"
TAX = Decimal("0.07")


def item(description: str, amount: str, kind: str, msisdn: str = SAM_LINE) -> InvoiceItem:
    return InvoiceItem(description, Decimal(1), usd(amount), msisdn, kind)


def invoice(
    invoice_id: int, issued: date, items: list[InvoiceItem], status: str = "paid"
) -> InvoiceDetail:
    """An invoice of Sam's built from its items at 7 % tax, as the demo data is."""
    subtotal = sum(i.amount.minor for i in items)
    tax = int((Decimal(subtotal) * TAX).quantize(Decimal(1)))
    total = Money(subtotal + tax, "USD")
    paid = total if status == "paid" else usd("0")
    summary = InvoiceSummary(
        invoice_id,
        f"INV-{invoice_id}",
        status,  # type: ignore[arg-type]
        issued,
        issued + timedelta(days=21),
        issued - timedelta(days=31),
        issued - timedelta(days=1),
        Money(subtotal, "USD"),
        Money(tax, "USD"),
        total,
        paid,
    )
    account = FakeBillingClient().accounts[SAM_ID]
    return InvoiceDetail(summary, account, tuple(items), TAX)


class SupportBilling(FakeBillingClient):
    """`FakeBillingClient` that also keeps ticket conversations, payments and invoice items.

    `failing`: the names of methods that answer BillingUnavailableError (a billing error in
    the middle of a flow)."""

    def __init__(self) -> None:
        super().__init__()
        self.messages: dict[str, list[TicketMessage]] = {}
        self.update_keys: set[str] = set()
        self.payments: list[Payment] = []
        self.details: dict[int, InvoiceDetail] = {}
        self.failing: set[str] = set()

    # --- tickets --------------------------------------------------------------------------
    def add_ticket(
        self, account_id: int, subject: str, status: str = "open", *, hours_ago: int = 24
    ) -> Ticket:
        ticket_id = 123 + len(self.tickets)
        at = NOW - timedelta(hours=hours_ago)
        ticket = Ticket(
            ticket_id,
            f"T-{ticket_id:06d}",
            account_id,
            subject,
            status,
            at,
            updated_at=at,  # type: ignore[arg-type]
        )
        self.tickets[f"seeded:{ticket_id}"] = ticket
        self.messages[ticket.reference] = [TicketMessage("customer", subject, at)]
        return ticket

    def ticket(self, reference: str) -> Ticket:
        return next(t for t in self.tickets.values() if t.reference == reference)

    async def ticket_messages(self, account_id: int, reference: str) -> list[TicketMessage]:
        self._maybe_fail("ticket_messages")
        owned = [t for t in self.tickets.values() if t.reference == reference]
        if not owned or owned[0].account_id != account_id:
            raise NotFoundError("no such ticket")
        return list(self.messages.get(reference, []))

    async def update_ticket(
        self, update: TicketUpdate, *, idempotency_key: str, now: datetime
    ) -> Ticket:
        self._maybe_fail("update_ticket")
        key = next((k for k, t in self.tickets.items() if t.reference == update.reference), None)
        if key is None:
            raise NotFoundError(f"no ticket {update.reference}")
        if idempotency_key in self.update_keys:
            return replace(self.tickets[key], created=False)
        self.update_keys.add(idempotency_key)
        ticket = self.tickets[key]
        ticket = replace(ticket, status=update.status or ticket.status, updated_at=now)
        self.tickets[key] = ticket
        body = update.message or f"Status: {ticket.status}"
        self.messages.setdefault(ticket.reference, []).append(
            TicketMessage(update.author, body, now)
        )
        return ticket

    # --- payments and invoices ----------------------------------------------------------------
    async def list_payments(self, account_id: int, *, limit: int = 50) -> list[Payment]:
        self._maybe_fail("list_payments")
        own = [p for p in self.payments if p.account_id == account_id]
        return sorted(own, key=lambda p: p.received_at, reverse=True)[:limit]

    async def list_invoices(
        self, account_id: int, *, now: datetime, limit: int = 3
    ) -> list[InvoiceSummary]:
        if not self.details:
            return await super().list_invoices(account_id, now=now, limit=limit)
        own = [d.summary for d in self.details.values() if d.account.id == account_id]
        return sorted(own, key=lambda s: s.issued_on, reverse=True)[:limit]

    async def get_invoice(self, invoice_id: int, *, now: datetime) -> InvoiceDetail:
        self._maybe_fail("get_invoice")
        if invoice_id not in self.details:
            raise NotFoundError(f"invoice {invoice_id}")
        return self.details[invoice_id]

    def _maybe_fail(self, name: str) -> None:
        if name in self.failing:
            raise BillingUnavailableError(f"{name} is down")


class Talk:
    """One customer's messages through the real router (numbers pick options, "More…" pages
    the menu), each with its own message id, as the engine would pass them."""

    def __init__(
        self,
        account: Account | None,
        billing: SupportBilling | None = None,
        *,
        operator: OperatorConfig | None = None,
        router: Router | None = None,
    ) -> None:
        self.account = account
        self.billing = billing or SupportBilling()
        self.operator = operator or OperatorConfig()
        self.router = router or ROUTER
        self.conv = ConversationState(FlowState(), account.id if account else None)
        self.replies: list[Reply] = []
        self._ids = itertools.count(1)

    async def say(self, text: str, intent: str = "out_of_scope", *entities: Entity) -> Reply:
        phone = SAM_LINE if self.account is None or self.account.id == SAM_ID else "+12025550104"
        message = InboundMessage("web", "s1", text, f"m{next(self._ids)}", NOW, as_phone=phone)
        ctx = TurnContext(
            message=message,
            text=text,
            parse=parse(text, intent, *entities),
            account=self.account,
            state=self.conv.state,
            billing=self.billing,
            links=SIGNER,
            registry=self.router.registry,
            settings=SETTINGS,
            now=NOW,
            operator=self.operator,
        )
        self.replies, self.intent = await self.router.route(ctx, self.conv)
        return self.replies[-1]

    @property
    def text(self) -> str:
        return "\n".join(reply.text for reply in self.replies)

    @property
    def values(self) -> list[str]:
        return [option.value for option in self.replies[-1].options]


def claim_of(url: str) -> OneUseClaim:
    """Whose a sign-in link is and where it lands."""
    path = urlsplit(url).path
    assert path.startswith("/signin/link/"), url
    return SIGNER.login_claim(path.removeprefix("/signin/link/"))
