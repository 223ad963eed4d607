"""The sandbox provider: demo mode's payments. It approves at once and moves no money.

It has no hosted page: `checkout` and `setup` send the customer straight back to the success
URL with a sandbox reference, which `confirm_*` accept. It keeps no state (any server process
confirms any reference): a checkout reference carries the pay link, the amount and, for a part
payment, a nonce. The whole amount of a link is always the payment `sandbox:<link id>`, so a
repeated click is the same payment; each part payment is its own. No webhooks:
`parse_webhook` refuses everything.
"""

from __future__ import annotations

import hashlib
import secrets
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from billing_client import Money
from bot.payments import (
    ChargeOutcome,
    CheckoutRequest,
    Redirect,
    SavedMethod,
    Settled,
    SetupRequest,
    WebhookEvent,
    WebhookSignatureError,
)

CHECKOUT_PREFIX = "sandbox_cs_"
SETUP_PREFIX = "sandbox_seti_"
LABEL = "Sandbox card •••• 4242"


class SandboxProvider:
    name = "sandbox"

    async def checkout(self, request: CheckoutRequest) -> Redirect:
        amount = request.amount
        nonce = "" if request.whole else secrets.token_urlsafe(6).replace("-", "x")
        reference = (
            f"{CHECKOUT_PREFIX}{request.reference}~{amount.minor}~{amount.currency}~{nonce}"
        )
        return Redirect(with_query(request.success_url, session_id=reference), reference)

    async def confirm_checkout(self, provider_reference: str) -> Settled | None:
        parts = provider_reference.removeprefix(CHECKOUT_PREFIX).split("~")
        if not provider_reference.startswith(CHECKOUT_PREFIX) or len(parts) != 4:
            return None
        link_id, minor, currency, nonce = parts
        if not minor.isdigit():
            return None
        payment = f"sandbox:{link_id}" + (f":{nonce}" if nonce else "")
        return Settled(
            reference=link_id, payment_reference=payment, amount=Money(int(minor), currency)
        )

    async def setup(self, request: SetupRequest) -> Redirect:
        reference = f"{SETUP_PREFIX}{request.account_id}"
        return Redirect(with_query(request.success_url, setup_id=reference), reference)

    async def confirm_setup(self, provider_reference: str) -> SavedMethod | None:
        if not provider_reference.startswith(SETUP_PREFIX):
            return None
        account = provider_reference.removeprefix(SETUP_PREFIX)
        if not account.isdigit():
            return None
        return SavedMethod(
            account_id=int(account),
            customer_reference=f"sandbox_cus_{account}",
            method_reference=f"sandbox_pm_{account}",
            label=LABEL,
        )

    async def charge(
        self, method: SavedMethod, amount: Money, *, idempotency_key: str, description: str
    ) -> ChargeOutcome:
        digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:24]
        return ChargeOutcome(succeeded=True, payment_reference=f"sandbox_pi_{digest}")

    async def refund(self, payment_reference: str, amount: Money, *, idempotency_key: str) -> None:
        return None

    def parse_webhook(self, payload: bytes, signature: str) -> WebhookEvent:
        raise WebhookSignatureError("the sandbox provider sends no webhooks")


def with_query(url: str, **values: str) -> str:
    """`url` with `values` added to its query string."""
    parts = urlsplit(url)
    query = [*parse_qsl(parts.query), *values.items()]
    return urlunsplit(parts._replace(query=urlencode(query)))
