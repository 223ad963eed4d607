"""The Stripe adapter of the PaymentProvider port, on the official `stripe` library.

One-off payments and saved cards both go through Stripe-hosted Checkout (`payment` and `setup`
mode), so no card number ever reaches billbot; autopay is an off-session PaymentIntent on the
saved method; a refund goes back to the PaymentIntent. Every create carries an idempotency key
made of billbot's reference and a digest of the request: a double click, or a retry after a lost
answer, is one object at Stripe, while a changed request (another amount or language) is a new
object instead of the error Stripe gives for a key reused with other parameters.

The customer's return (`confirm_*`) and the webhook (`parse_webhook`) read Stripe's objects
through the same functions, so both paths agree on what happened. Card declines are outcomes;
everything else (unreachable, refused, misconfigured) is a PaymentError whose message never holds
the secret key and whose cause is dropped, because the HTTP error underneath keeps the request
with its Authorization header.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Awaitable, Mapping
from typing import Any, Protocol, TypeVar, cast
from urllib.parse import urlsplit, urlunsplit

import stripe
from stripe.params import CustomerCreateParams, PaymentIntentCreateParams, RefundCreateParams
from stripe.params.checkout import SessionCreateParams, SessionRetrieveParams

from billing_client import Money
from bot.payments import (
    ChargeOutcome,
    CheckoutRequest,
    Ignored,
    PaymentError,
    Redirect,
    SavedMethod,
    Settled,
    SetupCompleted,
    SetupRequest,
    WebhookEvent,
    WebhookOutcome,
    WebhookSignatureError,
)

T = TypeVar("T")

TIMEOUT_SECONDS = 30.0  # the library waits 80 s; a customer is waiting for the hosted page
REFERENCE = "billbot_reference"  # metadata: billbot's pay link id, on sessions and intents
ACCOUNT = "billbot_account"  # metadata: the account a customer or a saved card is for
AUTOPAY = "billbot_autopay"  # metadata: marks billbot's off-session charges among all intents
PLACEHOLDER = "{CHECKOUT_SESSION_ID}"  # Stripe writes the session id there on the way back
SETUP_EXPAND = ["setup_intent", "setup_intent.payment_method"]
PAID_EVENTS = ("checkout.session.completed", "checkout.session.async_payment_succeeded")
CHARGE_EVENTS = {"payment_intent.succeeded": True, "payment_intent.payment_failed": False}
LOCALES = ("en", "es")  # the languages billbot speaks; Stripe picks for the others ("auto")
BRANDS = {
    "amex": "American Express",
    "cartes_bancaires": "Cartes Bancaires",
    "diners": "Diners Club",
    "discover": "Discover",
    "eftpos_au": "eftpos",
    "jcb": "JCB",
    "mastercard": "Mastercard",
    "unionpay": "UnionPay",
    "visa": "Visa",
}
SECRET_KEYS = re.compile(r"\b(?:sk|rk)_(?:test|live)_[A-Za-z0-9]+")


class _MissingError(PaymentError):
    """Stripe has no such object: a return URL with a made-up id is not an outage."""


class _Closable(Protocol):
    async def close_async(self) -> None: ...


class StripeProvider:
    """PaymentProvider on Stripe (see the module docstring); `aclose` releases its connections."""

    name = "stripe"

    def __init__(
        self,
        *,
        secret_key: str,
        webhook_secret: str,
        api_base: str | None = None,
        max_network_retries: int = 2,
    ) -> None:
        # No usage telemetry to Stripe, and no id file in the home folder: billbot talks to the
        # configured API for payments only.
        stripe.enable_telemetry = False
        self._secret_key = secret_key
        self._webhook_secret = webhook_secret
        self._api_base = api_base
        self._max_network_retries = max_network_retries
        self._http: stripe.AIOHTTPClient | None = None
        self._client: stripe.StripeClient | None = None

    def __repr__(self) -> str:
        return f"StripeProvider(api_base={self._api_base!r})"  # never the keys

    async def checkout(self, request: CheckoutRequest) -> Redirect:
        params = checkout_params(request)
        options: stripe.RequestOptions = {
            "idempotency_key": idempotency_key("checkout", request.reference, params)
        }
        sessions = self._stripe().v1.checkout.sessions
        return redirect(await self._call(sessions.create_async(params, options)))

    async def confirm_checkout(self, provider_reference: str) -> Settled | None:
        session = await self._find_session(provider_reference, expand=[])
        return None if session is None else settled(session)

    async def setup(self, request: SetupRequest) -> Redirect:
        params = setup_params(request, customer=await self._customer(request))
        options: stripe.RequestOptions = {
            "idempotency_key": idempotency_key("setup", str(request.account_id), params)
        }
        sessions = self._stripe().v1.checkout.sessions
        return redirect(await self._call(sessions.create_async(params, options)))

    async def confirm_setup(self, provider_reference: str) -> SavedMethod | None:
        session = await self._find_session(provider_reference, expand=SETUP_EXPAND)
        return None if session is None else saved_method(session)

    async def charge(
        self, method: SavedMethod, amount: Money, *, idempotency_key: str, description: str
    ) -> ChargeOutcome:
        params = charge_params(method, amount, description)
        options: stripe.RequestOptions = {"idempotency_key": f"billbot-charge:{idempotency_key}"}
        try:
            intent = await self._stripe().v1.payment_intents.create_async(params, options)
        except stripe.CardError as error:
            return declined(error)
        except stripe.StripeError as error:
            raise self._error(error) from None
        return charged(intent.to_dict())

    async def refund(self, payment_reference: str, amount: Money, *, idempotency_key: str) -> None:
        params: RefundCreateParams = {"payment_intent": payment_reference, "amount": amount.minor}
        options: stripe.RequestOptions = {"idempotency_key": f"billbot-refund:{idempotency_key}"}
        await self._call(self._stripe().v1.refunds.create_async(params, options))

    def parse_webhook(self, payload: bytes, signature: str) -> WebhookEvent:
        try:
            event = stripe.Webhook.construct_event(payload, signature, self._webhook_secret)
            data = event.to_dict()
        except (stripe.SignatureVerificationError, ValueError, TypeError, AttributeError) as error:
            # The library's error keeps the payload (customer data): only its message goes on.
            raise WebhookSignatureError(f"Stripe webhook refused: {error}") from None
        return webhook_event(data)

    async def aclose(self) -> None:
        """Close the HTTP connections; used again after this, it opens new ones."""
        http, self._http, self._client = self._http, None, None
        if http is not None:
            await cast(_Closable, http).close_async()  # unannotated in the library

    def _stripe(self) -> stripe.StripeClient:
        """The client, built on first use so its connection pool is the running loop's.

        aiohttp, not the library's default httpx client: that one hands httpx the encoded body
        as `data=`, which httpx deprecates (a DeprecationWarning on every request).
        """
        if self._client is None:
            self._http = stripe.AIOHTTPClient(timeout=TIMEOUT_SECONDS)
            self._client = stripe.StripeClient(
                self._secret_key,
                base_addresses={"api": self._api_base} if self._api_base else None,
                max_network_retries=self._max_network_retries,
                http_client=self._http,
            )
        return self._client

    async def _customer(self, request: SetupRequest) -> str:
        params: CustomerCreateParams = {
            "name": request.name,
            "email": request.email,
            "metadata": {ACCOUNT: str(request.account_id)},
        }
        options: stripe.RequestOptions = {
            "idempotency_key": idempotency_key("customer", str(request.account_id), params)
        }
        customer = await self._call(self._stripe().v1.customers.create_async(params, options))
        return customer.id

    async def _find_session(self, session_id: str, *, expand: list[str]) -> dict[str, Any] | None:
        if not session_id.startswith("cs_"):  # not Stripe's: no need to ask
            return None
        params: SessionRetrieveParams = {"expand": expand} if expand else {}
        sessions = self._stripe().v1.checkout.sessions
        try:
            session = await self._call(sessions.retrieve_async(session_id, params))
        except _MissingError:
            return None
        return session.to_dict()

    async def _call(self, pending: Awaitable[T]) -> T:
        try:
            return await pending
        except stripe.InvalidRequestError as error:
            if error.code == "resource_missing":
                raise _MissingError(self._describe(error)) from None
            raise self._error(error) from None
        except stripe.StripeError as error:
            raise self._error(error) from None

    def _error(self, error: stripe.StripeError) -> PaymentError:
        return PaymentError(self._describe(error))

    def _describe(self, error: stripe.StripeError) -> str:
        facts = [type(error).__name__]
        facts += [f"HTTP {error.http_status}"] if error.http_status else []
        facts += [f"code {error.code}"] if error.code else []
        text = f"Stripe ({', '.join(facts)}): {error.user_message or 'no message'}"
        return redact(text, self._secret_key)


# --- what billbot sends ---------------------------------------------------------------------
def checkout_params(request: CheckoutRequest) -> SessionCreateParams:
    """A hosted payment of one line; the reference rides along on the session and the intent."""
    metadata = {REFERENCE: request.reference}
    params: SessionCreateParams = {
        "mode": "payment",
        "line_items": [
            {
                "quantity": 1,
                "price_data": {
                    "currency": request.amount.currency.lower(),
                    "unit_amount": request.amount.minor,
                    "product_data": {"name": request.description},
                },
            }
        ],
        "client_reference_id": request.reference,
        "metadata": metadata,
        "payment_intent_data": {"metadata": metadata, "description": request.description},
        "locale": stripe_locale(request.locale),
        "success_url": returning_to(request.success_url, "session_id"),
        "cancel_url": request.cancel_url,
    }
    if request.customer_email:
        params["customer_email"] = request.customer_email
    return params


def setup_params(request: SetupRequest, *, customer: str) -> SessionCreateParams:
    """A hosted setup for `customer`; `currency` picks which payment methods Stripe offers."""
    metadata = {ACCOUNT: str(request.account_id)}
    return {
        "mode": "setup",
        "currency": request.currency.lower(),
        "customer": customer,
        "client_reference_id": str(request.account_id),
        "metadata": metadata,
        "setup_intent_data": {"metadata": metadata},
        "locale": stripe_locale(request.locale),
        "success_url": returning_to(request.success_url, "setup_id"),
        "cancel_url": request.cancel_url,
    }


def charge_params(
    method: SavedMethod, amount: Money, description: str
) -> PaymentIntentCreateParams:
    """An off-session charge, confirmed at once. Redirecting methods are excluded: nobody is
    there to follow a redirect, and Stripe would otherwise demand a `return_url`."""
    return {
        "amount": amount.minor,
        "currency": amount.currency.lower(),
        "customer": method.customer_reference,
        "payment_method": method.method_reference,
        "off_session": True,
        "confirm": True,
        "automatic_payment_methods": {"enabled": True, "allow_redirects": "never"},
        "description": description,
        "metadata": {AUTOPAY: "1", ACCOUNT: str(method.account_id)},
    }


def idempotency_key(kind: str, reference: str, params: Mapping[str, Any]) -> str:
    """`billbot-<kind>:<reference>:<digest of the request>`: the same request is the same key."""
    digest = hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()[:24]
    return f"billbot-{kind}:{reference[:150]}:{digest}"


def returning_to(url: str, name: str) -> str:
    """`url` with `name={CHECKOUT_SESSION_ID}` added, braces left as they are: Stripe replaces
    only the literal placeholder (urlencode would write %7B…%7D)."""
    parts = urlsplit(url)
    query = "&".join(part for part in (parts.query, f"{name}={PLACEHOLDER}") if part)
    return urlunsplit(parts._replace(query=query))


def stripe_locale(locale: str) -> str:
    """The hosted page's language: billbot's when Stripe has it, else the browser's."""
    language = locale.replace("-", "_").split("_", 1)[0].lower()
    return language if language in LOCALES else "auto"


# --- what Stripe answers --------------------------------------------------------------------
def redirect(session: stripe.checkout.Session) -> Redirect:
    if not session.url:
        raise PaymentError(f"Stripe returned checkout session {session.id} without a URL")
    return Redirect(session.url, session.id)


def settled(session: Mapping[str, Any]) -> Settled | None:
    """The payment of a paid billbot checkout session; None for anything else."""
    reference = session.get("client_reference_id")
    ours = reference and (session.get("metadata") or {}).get(REFERENCE) == reference
    paid = session.get("mode") == "payment" and session.get("payment_status") == "paid"
    total, currency = session.get("amount_total"), session.get("currency")
    if not (ours and paid and isinstance(total, int) and currency):
        return None
    return Settled(
        reference=str(reference),
        payment_reference=object_id(session.get("payment_intent")) or str(session["id"]),
        amount=Money(total, str(currency).upper()),
    )


def saved_method(session: Mapping[str, Any]) -> SavedMethod | None:
    """The card a billbot setup session saved (its setup intent and payment method expanded)."""
    account = str(session.get("client_reference_id") or "")
    intent = session.get("setup_intent")
    if session.get("mode") != "setup" or not account.isdigit() or not isinstance(intent, dict):
        return None
    method = intent.get("payment_method")
    customer = object_id(session.get("customer")) or object_id(intent.get("customer"))
    if intent.get("status") != "succeeded" or not isinstance(method, dict) or not customer:
        return None
    return SavedMethod(
        account_id=int(account),
        customer_reference=customer,
        method_reference=str(method["id"]),
        label=label(method),
    )


def label(method: Mapping[str, Any]) -> str:
    """ "Visa •••• 4242": enough for the customer to know the card, nothing more."""
    kind = str(method.get("type") or "card")
    details = method.get(kind) or {}
    brand = details.get("brand") if kind == "card" else None
    name = BRANDS.get(str(brand), str(brand).title()) if brand else kind.replace("_", " ").title()
    last4 = details.get("last4")
    return f"{name} •••• {last4}" if last4 else name


def charged(intent: Mapping[str, Any]) -> ChargeOutcome:
    """A created intent: succeeded, or (rare off-session: "processing") not yet money."""
    status = intent.get("status")
    if status == "succeeded":
        return ChargeOutcome(succeeded=True, payment_reference=str(intent["id"]))
    reason = f"the payment is {status}"
    return ChargeOutcome(succeeded=False, payment_reference=str(intent["id"]), reason=reason)


def declined(error: stripe.CardError) -> ChargeOutcome:
    """A decline (or `authentication_required`): Stripe's message is meant for the customer."""
    intent = error.error.payment_intent if error.error else None
    reference = intent.id if intent else ""
    reason = str(error.user_message or error.code or "declined")
    return ChargeOutcome(succeeded=False, payment_reference=reference, reason=reason)


def object_id(value: Any) -> str | None:
    """The id of an expandable field, expanded or not."""
    if isinstance(value, dict):
        value = value.get("id")
    return value if isinstance(value, str) and value else None


def redact(text: str, secret: str) -> str:
    """`text` without the secret key, nor anything shaped like a Stripe secret key."""
    if secret:
        text = text.replace(secret, "[redacted]")
    return SECRET_KEYS.sub("[redacted]", text)


# --- webhooks -------------------------------------------------------------------------------
def webhook_event(event: Mapping[str, Any]) -> WebhookEvent:
    """A verified event's meaning; WebhookSignatureError when it is not shaped like an event."""
    data = event.get("data")
    subject = data.get("object") if isinstance(data, dict) else None
    event_id, event_type = event.get("id"), event.get("type")
    if not (isinstance(event_id, str) and isinstance(event_type, str)):
        raise WebhookSignatureError("Stripe webhook refused: not an event")
    if not isinstance(subject, dict):
        raise WebhookSignatureError("Stripe webhook refused: the event has no object")
    return WebhookEvent(id=event_id, type=event_type, outcome=outcome(event_type, subject))


def outcome(event_type: str, subject: Mapping[str, Any]) -> WebhookOutcome:
    """Paid checkouts, finished setups and billbot's autopay charges; the rest is ignored."""
    found: WebhookOutcome | None = None
    if event_type in PAID_EVENTS and subject.get("mode") == "setup":
        found = setup_completed(subject)
    elif event_type in PAID_EVENTS:
        found = settled(subject)
    elif event_type in CHARGE_EVENTS and AUTOPAY in (subject.get("metadata") or {}):
        found = charge_outcome(event_type, subject)
    return found or Ignored(event_type)


def setup_completed(session: Mapping[str, Any]) -> SetupCompleted | None:
    ours = ACCOUNT in (session.get("metadata") or {})
    return SetupCompleted(str(session["id"])) if ours and session.get("id") else None


def charge_outcome(event_type: str, intent: Mapping[str, Any]) -> ChargeOutcome:
    if CHARGE_EVENTS[event_type]:
        return ChargeOutcome(succeeded=True, payment_reference=str(intent["id"]))
    failure = intent.get("last_payment_error") or {}
    reason = str(failure.get("message") or failure.get("code") or "declined")
    return ChargeOutcome(succeeded=False, payment_reference=str(intent["id"]), reason=reason)
