"""The PaymentProvider port: how billbot takes money without ever touching card data.

Every provider works by redirect (PCI DSS SAQ A): billbot asks for a hosted checkout (a one-off
payment) or a hosted setup (a saved payment method for autopay), sends the customer there, and
learns the outcome twice — from the customer's return (`confirm_*`) and from the provider's
signed webhook (`parse_webhook`) — and applies it once, keyed by the provider's reference.
Autopay charges a saved method off-session with an idempotency key, so a retried charge is
the same charge. Only the provider's references (customer, payment method, payment) are kept.

Providers: `SandboxProvider` (bot/payments/sandbox.py, demo default: approves at once, no
network) and `StripeProvider` (bot/payments/stripe_provider.py, the official `stripe` library).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from billing_client import Money


class PaymentError(Exception):
    """The provider could not be reached or refused the request (not a card decline)."""


class WebhookSignatureError(ValueError):
    """A webhook whose signature, timestamp or body does not check out (→ 400, nothing done)."""


@dataclass(frozen=True, slots=True)
class CheckoutRequest:
    """A one-off payment of `amount` for billbot's `reference` (a pay link's id)."""

    reference: str
    amount: Money
    description: str  # "Invoice INV-2026-0012"
    locale: str  # "en_US", "es_ES": the hosted page's language
    success_url: str  # the provider appends its own reference (see `confirm_checkout`)
    cancel_url: str
    customer_email: str | None = None
    whole: bool = True  # the whole amount of the link (False: a part payment)


@dataclass(frozen=True, slots=True)
class SetupRequest:
    """Save a payment method for the account's autopay."""

    account_id: int
    name: str
    email: str
    currency: str
    locale: str
    success_url: str
    cancel_url: str


@dataclass(frozen=True, slots=True)
class Redirect:
    """Where to send the customer, and the provider's id of what was started there."""

    url: str
    provider_reference: str


@dataclass(frozen=True, slots=True)
class Settled:
    """A one-off payment the provider confirmed: `reference` is billbot's (the pay link id),
    `payment_reference` the provider's unique id of the money moved (idempotency key)."""

    reference: str
    payment_reference: str
    amount: Money


@dataclass(frozen=True, slots=True)
class SavedMethod:
    """A payment method saved for an account's autopay: references only, and a label
    ("Visa •••• 4242") to show the customer which card it is."""

    account_id: int
    customer_reference: str
    method_reference: str
    label: str


@dataclass(frozen=True, slots=True)
class ChargeOutcome:
    """An off-session autopay charge: succeeded, or declined with the provider's reason."""

    succeeded: bool
    payment_reference: str
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Ignored:
    """A webhook event billbot has nothing to do for (acknowledged with 200)."""

    type: str


@dataclass(frozen=True, slots=True)
class SetupCompleted:
    """A hosted setup finished. The webhook does not carry the saved method's details, so the
    caller completes it with `confirm_setup(provider_reference)` (the same call as the return)."""

    provider_reference: str


WebhookOutcome = Settled | SavedMethod | SetupCompleted | ChargeOutcome | Ignored


@dataclass(frozen=True, slots=True)
class WebhookEvent:
    """A verified webhook: the provider's event id (idempotency key) and what it means."""

    id: str
    type: str
    outcome: WebhookOutcome


class PaymentProvider(Protocol):
    """See the module docstring. Implementations raise PaymentError when unreachable."""

    name: str

    async def checkout(self, request: CheckoutRequest) -> Redirect: ...

    async def confirm_checkout(self, provider_reference: str) -> Settled | None:
        """The payment, once the hosted checkout `provider_reference` is paid; else None."""

    async def setup(self, request: SetupRequest) -> Redirect: ...

    async def confirm_setup(self, provider_reference: str) -> SavedMethod | None:
        """The saved method, once the hosted setup `provider_reference` completed; else None."""

    async def charge(
        self, method: SavedMethod, amount: Money, *, idempotency_key: str, description: str
    ) -> ChargeOutcome:
        """Charge a saved method off-session; the same key never charges twice."""

    async def refund(self, payment_reference: str, amount: Money, *, idempotency_key: str) -> None:
        """Give back (part of) a payment: the part of a late payment nothing was owed for."""

    def parse_webhook(self, payload: bytes, signature: str) -> WebhookEvent:
        """The verified event; WebhookSignatureError when forged, stale or malformed."""
