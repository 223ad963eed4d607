"""A fake Stripe on 127.0.0.1: the API the real `stripe` library calls, the hosted Checkout
page a browser visits, and the signed webhooks Stripe sends back.

`async with FakeStripe(webhook_url=...) as fake:` serves on a free port inside the test's event
loop; `with FakeStripe.start_in_thread(webhook_url=...) as fake:` runs the same server in a
thread of its own for sync tests (Playwright's sync API). Point billbot at it with
BILLBOT_PAYMENT_PROVIDER=stripe, BILLBOT_STRIPE_API_BASE=`fake.api_base`,
BILLBOT_STRIPE_SECRET_KEY=`fake.secret_key`, BILLBOT_STRIPE_WEBHOOK_SECRET=`fake.webhook_secret`.

The API speaks what the library sends: form bodies nested as `a[b][0][c]=`, `expand[0]=` (or
`expand[]=`) query parameters, `Authorization: Bearer sk_test_…` (any other key: 401 and
Stripe's error JSON, the key masked), `Idempotency-Key` (the same key and request: the same
answer with `Idempotent-Replayed: true`; the same key with other parameters: 400
idempotency_error). It serves customers, checkout sessions (with `expand`), setup intents,
payment methods, payment intents (off-session confirm; the decline cards answer 402
card_error with the intent inside) and refunds, and refuses what Stripe refuses where a
billbot mistake could hide (setup mode without `currency`, a confirm that could redirect,
unknown ids). `fail_next` scripts outages (not remembered under the idempotency key).

A session's `url` is `{api_base}/checkout/{id}`: GET shows a small page ("Pay $64.20", or
"Save card" with a "Use a card that will be declined later" box), POST completes the session,
sends the signed `checkout.session.completed` webhook and redirects (303) to `success_url`
with `{CHECKOUT_SESSION_ID}` filled in. `await fake.complete(id)` does the same without a
browser. Webhooks go to `webhook_url` through `webhook_client` when set (e.g. an httpx client
on billbot's ASGI app), else over the network; both may be set after the fake has started
(billbot needs `api_base` first). With `hold_webhooks = True`, or no `webhook_url`, they wait
in `held` until `release_webhooks()` (so do those billbot did not answer with 2xx);
`send_webhook(event_id)` sends one now, again if already sent (Stripe's retry: the same body,
freshly signed).
Autopay: `send_charge_webhook(pi_id)` sends `payment_intent.succeeded` or
`payment_intent.payment_failed` for a charge made through the API. Every request is in
`requests`, every event in `events`, every webhook sent in `deliveries`.
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import hmac
import html
import json
import re
import secrets
import string
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Literal, TypeVar

import httpx
from aiohttp import web

from billing_client import Money

T = TypeVar("T")
Card = Literal["ok", "decline", "authentication_required"]
Params = dict[str, Any]
Operation = Callable[[Params, Mapping[str, str]], Params]

SECRET_KEY = "sk_test_51FakeBillbot" + "0" * 24
WEBHOOK_SECRET = "whsec_fakebillbot" + "0" * 16
API_VERSION = "2026-10-28.endive"  # what events say when no request named a version
PLACEHOLDER = "{CHECKOUT_SESSION_ID}"
# Stripe's test cards: 4242 pays; 0341 saves but every charge is declined; 3184 saves but an
# off-session charge needs the customer (authentication_required).
CARDS: dict[str, tuple[str, str]] = {
    "ok": ("visa", "4242"),
    "decline": ("visa", "0341"),
    "authentication_required": ("visa", "3184"),
}
DECLINES = {
    "0341": ("card_declined", "generic_decline", "Your card was declined."),
    "3184": (
        "authentication_required",
        "authentication_required",
        "Your card was declined. This transaction requires authentication.",
    ),
}
LOCALES = re.compile(r"auto|[a-z]{2,3}(-[A-Z0-9]{2,3})?")  # "en", "es-419", "pt-BR"
NO_KEY = (
    "You did not provide an API key. You need to provide your API key in the Authorization "
    "header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY')."
)
MUST_RETURN = (
    "This PaymentIntent is configured to accept payment methods enabled in your Dashboard. "
    "Because some of these payment methods might redirect your customer off of your page, you "
    "must provide a `return_url`. If you don't want to accept redirect-based payment methods, "
    "set `automatic_payment_methods[enabled]` to `true` and "
    "`automatic_payment_methods[allow_redirects]` to `never`."
)
ALPHANUMERIC = string.ascii_letters + string.digits


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One request as received: query and form pairs exactly as the library encoded them."""

    method: str
    path: str
    params: tuple[tuple[str, str], ...]
    idempotency_key: str | None
    authorized: bool

    def get(self, name: str) -> str | None:
        """The first value of parameter `name` (e.g. "line_items[0][quantity]"), or None."""
        return next((value for key, value in self.params if key == name), None)

    @property
    def text(self) -> str:
        """Everything sent, as one string: what a test greps for card numbers."""
        return "&".join(f"{key}={value}" for key, value in self.params)


@dataclass(frozen=True, slots=True)
class Delivery:
    """One webhook sent: billbot's status code (None: not reached) and what was signed."""

    event_id: str
    event_type: str
    status: int | None
    payload: bytes
    signature: str
    error: str = ""


@dataclass(frozen=True, slots=True)
class Failure:
    """A scripted error answer."""

    status: int
    type: str
    message: str
    code: str | None = None
    should_retry: bool | None = None


class Problem(Exception):
    """An error answer (Stripe's `{"error": {...}}`) raised by an operation."""

    def __init__(self, status: int, error: Params) -> None:
        super().__init__(error.get("message", ""))
        self.status = status
        self.error = error


class FakeStripe:
    """The fake's state: objects by id, requests, events and webhook deliveries."""

    def __init__(
        self,
        *,
        secret_key: str = SECRET_KEY,
        webhook_secret: str = WEBHOOK_SECRET,
        webhook_url: str | None = None,
        webhook_client: httpx.AsyncClient | None = None,
        hold_webhooks: bool = False,
    ) -> None:
        self.secret_key = secret_key
        self.webhook_secret = webhook_secret
        self.webhook_url = webhook_url
        self.hold_webhooks = hold_webhooks
        self.api_base = ""
        self.requests: list[RecordedRequest] = []
        self.objects: dict[str, Params] = {}  # every object made, by id
        self.events: list[Params] = []
        self.held: list[str] = []  # event ids not delivered yet (or refused: to retry)
        self.deliveries: list[Delivery] = []
        self.charges: list[str] = []  # payment intents created through the API, in order
        self._extras: dict[str, Params] = {}  # session id → what the session object hides
        self._refunded: dict[str, int] = {}
        self._payloads: dict[str, bytes] = {}
        self._idempotent: dict[str, tuple[tuple[Any, ...], int, bytes]] = {}
        self._failures: deque[Failure] = deque()
        self._api_version = API_VERSION
        self.webhook_client = webhook_client  # settable later, e.g. once billbot's app exists
        self._own_client: httpx.AsyncClient | None = None
        self._runner: web.AppRunner | None = None

    # --- lifecycle ---------------------------------------------------------------------------
    async def __aenter__(self) -> FakeStripe:
        self._own_client = httpx.AsyncClient(timeout=10)
        self._runner = web.AppRunner(self._app(), access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        host, port = self._runner.addresses[0][:2]
        self.api_base = f"http://{host}:{port}"
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._own_client is not None:
            await self._own_client.aclose()
            self._own_client = None

    @classmethod
    def start_in_thread(cls, **options: Any) -> ThreadedFakeStripe:
        """The fake serving from its own thread and loop (stop it, or use `with`)."""
        threaded = ThreadedFakeStripe(cls(**options))
        threaded.start()
        return threaded

    def _app(self) -> web.Application:
        app = web.Application()
        routes: list[tuple[str, str, Operation]] = [
            ("POST", "/v1/customers", self._create_customer),
            ("GET", "/v1/customers/{id}", self._getter("customer")),
            ("POST", "/v1/checkout/sessions", self._create_session),
            ("GET", "/v1/checkout/sessions/{id}", self._getter("checkout.session")),
            ("GET", "/v1/setup_intents/{id}", self._getter("setup_intent")),
            ("GET", "/v1/payment_methods/{id}", self._getter("payment_method")),
            ("POST", "/v1/payment_intents", self._create_payment_intent),
            ("GET", "/v1/payment_intents/{id}", self._getter("payment_intent")),
            ("POST", "/v1/refunds", self._create_refund),
            ("GET", "/v1/refunds/{id}", self._getter("refund")),
        ]
        for method, path, operation in routes:
            app.router.add_route(method, path, self._endpoint(operation))
        app.router.add_route("*", "/v1/{tail:.*}", self._endpoint(_unknown_url))
        app.router.add_get("/checkout/{id}", self._page)
        app.router.add_post("/checkout/{id}", self._submit)
        return app

    # --- scripting ---------------------------------------------------------------------------
    def fail_next(
        self,
        status: int,
        *,
        type: str = "api_error",
        message: str = "Something went wrong on Stripe's end.",
        code: str | None = None,
        should_retry: bool | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next `times` authorized API requests with this error."""
        self._failures.extend([Failure(status, type, message, code, should_retry)] * times)

    async def complete(self, session_id: str, *, card: Card = "ok") -> str:
        """Complete a session as the customer would on the hosted page; the event's id."""
        session = self._object("checkout.session", session_id, "session")
        if session["status"] != "open":
            raise ValueError(f"checkout session {session_id} is {session['status']}")
        if session["mode"] == "payment":
            self._pay(session)
        else:
            self._save_card(session, card)
        session.update(status="complete", url=None)
        return await self._announce("checkout.session.completed", session)

    async def send_charge_webhook(self, payment_intent_id: str | None = None) -> str:
        """`payment_intent.succeeded` or `.payment_failed` for a charge (default: the last)."""
        intent = self._object("payment_intent", payment_intent_id or self.charges[-1], "intent")
        succeeded = intent["status"] == "succeeded"
        kind = "payment_intent.succeeded" if succeeded else "payment_intent.payment_failed"
        return await self._announce(kind, intent)

    async def release_webhooks(self) -> list[Delivery]:
        """Send every held event, oldest first."""
        return [await self.send_webhook(event_id) for event_id in list(self.held)]

    async def send_webhook(self, event_id: str, *, timestamp: int | None = None) -> Delivery:
        """Send (or send again: Stripe retries with the same body) one event, freshly signed."""
        client = self.webhook_client or self._own_client
        if client is None or not self.webhook_url:
            raise RuntimeError("FakeStripe has no webhook_url to send to (or is not running)")
        payload, signature = self.signed(event_id, timestamp=timestamp)
        headers = {"Content-Type": "application/json; charset=utf-8"}
        headers |= {"Stripe-Signature": signature, "User-Agent": "Stripe/1.0 (fake)"}
        try:
            answer = await client.post(self.webhook_url, content=payload, headers=headers)
            status, error = answer.status_code, ""
        except httpx.HTTPError as failure:
            status, error = None, type(failure).__name__
        if status is not None and 200 <= status < 300 and event_id in self.held:
            self.held.remove(event_id)  # else Stripe would retry: release_webhooks does
        delivery = Delivery(event_id, self._event(event_id)["type"], status, payload, signature)
        self.deliveries.append(delivery if not error else _failed(delivery, error))
        return self.deliveries[-1]

    def signed(
        self, event_id: str, *, timestamp: int | None = None, secret: str | None = None
    ) -> tuple[bytes, str]:
        """An event's body and a `Stripe-Signature` for it (now, with the webhook secret)."""
        payload = self._payloads[event_id]
        moment = int(time.time()) if timestamp is None else timestamp
        return payload, sign(payload, secret or self.webhook_secret, moment)

    def event(self, event_type: str) -> Params:
        """The latest event of `event_type`."""
        return next(e for e in reversed(self.events) if e["type"] == event_type)

    def api_requests(self, method: str, path: str) -> list[RecordedRequest]:
        """The authorized requests to one endpoint, in order."""
        found = [r for r in self.requests if r.method == method and r.path == path]
        return [r for r in found if r.authorized]

    # --- HTTP: the API -----------------------------------------------------------------------
    def _endpoint(self, operation: Operation) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def handle(request: web.Request) -> web.Response:
            return await self._handle(request, operation)

        return handle

    async def _handle(self, request: web.Request, operation: Operation) -> web.Response:
        pairs = await _pairs(request)
        key = request.headers.get("Idempotency-Key") if request.method == "POST" else None
        authorized = request.headers.get("Authorization") == f"Bearer {self.secret_key}"
        self.requests.append(RecordedRequest(request.method, request.path, pairs, key, authorized))
        self._api_version = request.headers.get("Stripe-Version") or self._api_version
        if not authorized:
            return _answer(401, {"error": self._auth_error(request)})
        if self._failures:
            return _failure(self._failures.popleft())
        fingerprint = (request.method, request.path, tuple(sorted(pairs)))
        if key is not None and key in self._idempotent:
            return _replayed(key, fingerprint, self._idempotent[key])
        status, body = _run(operation, _nested(pairs), request.match_info)
        if key is not None and status in (200, 402):  # validation errors are not kept
            self._idempotent[key] = (fingerprint, status, body)
        return _answer(status, body, key=key)

    def _auth_error(self, request: web.Request) -> Params:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        masked = f"{given[:8]}{'*' * max(len(given) - 12, 0)}{given[-4:]}"
        message = f"Invalid API Key provided: {masked}" if given else NO_KEY
        return {"message": message, "type": "invalid_request_error"}

    def _getter(self, object_type: str) -> Operation:
        def get(params: Params, match: Mapping[str, str]) -> Params:
            found = self._object(object_type, match["id"], "id")
            return self._expanded(found, list(params.get("expand", [])))

        return get

    # --- objects -----------------------------------------------------------------------------
    def _create_customer(self, params: Params, match: Mapping[str, str]) -> Params:
        customer = self._store("cus", "customer", email=params.get("email"))
        customer |= {"name": params.get("name"), "metadata": params.get("metadata", {})}
        customer |= {"invoice_settings": {"default_payment_method": None}}
        return customer

    def _create_session(self, params: Params, match: Mapping[str, str]) -> Params:
        mode = params.get("mode")
        if mode not in ("payment", "setup"):
            raise _invalid("mode", f"Invalid mode: {mode!r}. Use one of payment, setup.")
        _check_session(params)
        customer = params.get("customer")
        if customer is not None:
            self._object("customer", customer, "customer")
        session = self._store("cs_test", "checkout.session", **_session_fields(params))
        session["url"] = f"{self.api_base}/checkout/{session['id']}"
        self._extras[session["id"]] = {"payment_intent_data": params.get("payment_intent_data")}
        if mode == "payment":
            session |= _totals(params)
        else:
            session["setup_intent"] = self._setup_intent(params)["id"]
        return session

    def _setup_intent(self, params: Params) -> Params:
        intent = self._store("seti", "setup_intent", status="requires_payment_method")
        intent |= {"customer": params.get("customer"), "payment_method": None}
        intent |= {"usage": "off_session", "payment_method_types": ["card"]}
        intent |= {"metadata": (params.get("setup_intent_data") or {}).get("metadata", {})}
        intent |= {"client_secret": f"{intent['id']}_secret_{_token(24)}"}
        return intent

    def _create_payment_intent(self, params: Params, match: Mapping[str, str]) -> Params:
        amount, currency = _amount(params), _required(params, "currency").lower()
        customer, method = self._charge_parties(params)
        intent = self._store("pi", "payment_intent", amount=amount, currency=currency)
        intent |= {"customer": customer, "payment_method": method["id"] if method else None}
        intent |= {"description": params.get("description")}
        intent |= {"metadata": params.get("metadata", {}), "amount_received": 0}
        intent |= {"client_secret": f"{intent['id']}_secret_{_token(24)}"}
        intent |= {"status": "requires_confirmation", "last_payment_error": None}
        self.charges.append(intent["id"])
        if _true(params.get("confirm")) and method is not None:
            self._confirm(intent, method)
        return intent

    def _charge_parties(self, params: Params) -> tuple[str | None, Params | None]:
        """The customer and payment method of a charge, checked as Stripe checks them."""
        confirm, off_session = _true(params.get("confirm")), _true(params.get("off_session"))
        if off_session and not confirm:
            raise _invalid("off_session", "You may only use `off_session` with `confirm=true`.")
        if confirm and not _redirects_excluded(params):
            raise _invalid("return_url", MUST_RETURN)
        customer, method_id = params.get("customer"), params.get("payment_method")
        if customer is not None:
            self._object("customer", customer, "customer")
        method = self._object("payment_method", method_id, "payment_method") if method_id else None
        if method is not None and off_session and method.get("customer") != customer:
            raise _invalid("payment_method", "The PaymentMethod is not attached to the Customer.")
        return customer, method

    def _confirm(self, intent: Params, method: Params) -> None:
        decline = DECLINES.get(method["card"]["last4"])
        if decline is None:
            intent |= {"status": "succeeded", "amount_received": intent["amount"]}
            intent["latest_charge"] = _new_id("ch")
            return
        code, decline_code, message = decline
        error = {"type": "card_error", "code": code, "decline_code": decline_code}
        error |= {"message": message, "doc_url": f"https://stripe.com/docs/error-codes/{code}"}
        intent |= {"status": "requires_payment_method", "latest_charge": _new_id("ch")}
        intent["last_payment_error"] = error | {"payment_method": copy.deepcopy(method)}
        raise Problem(402, error | {"payment_intent": copy.deepcopy(intent)})

    def _create_refund(self, params: Params, match: Mapping[str, str]) -> Params:
        intent = self._object("payment_intent", _required(params, "payment_intent"), "intent")
        amount = self._refundable(intent, params)
        self._refunded[intent["id"]] = self._refunded.get(intent["id"], 0) + amount
        refund = self._store("re", "refund", amount=amount, currency=intent["currency"])
        refund |= {"payment_intent": intent["id"], "charge": intent["latest_charge"]}
        refund |= {"status": "succeeded", "reason": None, "metadata": params.get("metadata", {})}
        return refund

    def _refundable(self, intent: Params, params: Params) -> int:
        """The amount asked for (default: all that is left), if that much is left."""
        if intent["status"] != "succeeded":
            raise _invalid("payment_intent", "This PaymentIntent has no successful charge.")
        left = intent["amount_received"] - self._refunded.get(intent["id"], 0)
        if left <= 0:
            message = f"Charge {intent['latest_charge']} has already been refunded."
            raise _invalid("charge", message, code="charge_already_refunded")
        amount = _amount(params) if "amount" in params else left
        if amount > left:
            message = f"Refund amount ({amount}) is greater than unrefunded amount ({left})."
            raise _invalid("amount", message)
        return amount

    def _store(self, prefix: str, object_type: str, **fields: Any) -> Params:
        made = {"id": _new_id(prefix), "object": object_type, "livemode": False}
        made |= {"created": int(time.time()), **fields}
        self.objects[made["id"]] = made
        return made

    def _object(self, object_type: str, object_id: str, param: str) -> Params:
        found = self.objects.get(object_id)
        if found is None or found["object"] != object_type:
            error = {"type": "invalid_request_error", "code": "resource_missing"}
            error |= {"param": param, "message": f"No such {object_type}: '{object_id}'"}
            raise Problem(404, error)
        return found

    def _expanded(self, found: Params, paths: list[str]) -> Params:
        result = copy.deepcopy(found)
        for path in paths:
            self._expand(result, path.split("."))
        return result

    def _expand(self, node: Params, path: list[str]) -> None:
        head, *rest = path
        if head not in node:
            raise _invalid("expand", f"This property cannot be expanded ({head}).")
        if isinstance(node[head], str) and node[head] in self.objects:
            node[head] = copy.deepcopy(self.objects[node[head]])
        if rest and isinstance(node[head], dict):
            self._expand(node[head], rest)

    # --- the hosted page ---------------------------------------------------------------------
    async def _page(self, request: web.Request) -> web.Response:
        session = self.objects.get(request.match_info["id"])
        if session is None or session["object"] != "checkout.session":
            return web.Response(status=404, text=_html("Not found", "<p>No such checkout.</p>"))
        return web.Response(text=_session_page(session), content_type="text/html")

    async def _submit(self, request: web.Request) -> web.Response:
        session = self.objects.get(request.match_info["id"])
        if session is None or session["object"] != "checkout.session":
            return web.Response(status=404, text="No such checkout.")
        form = await request.post()
        self.requests.append(RecordedRequest("POST", request.path, _strings(form), None, True))
        if session["status"] == "open":
            await self.complete(session["id"], card="decline" if "decline" in form else "ok")
        target = str(session.get("success_url") or "")
        if not target:
            return web.Response(text=_html("Done", "<p>Done.</p>"), content_type="text/html")
        raise web.HTTPSeeOther(target.replace(PLACEHOLDER, session["id"]))

    def _pay(self, session: Params) -> None:
        data = self._extras[session["id"]].get("payment_intent_data") or {}
        method = self._payment_method(CARDS["ok"], customer=None)
        intent = self._store("pi", "payment_intent", amount=session["amount_total"])
        intent |= {"currency": session["currency"], "status": "succeeded"}
        intent |= {"amount_received": session["amount_total"], "customer": session["customer"]}
        intent |= {"payment_method": method["id"], "latest_charge": _new_id("ch")}
        intent |= {"metadata": data.get("metadata", {}), "description": data.get("description")}
        intent |= {"client_secret": f"{intent['id']}_secret_{_token(24)}"}
        details = {"email": session.get("customer_email"), "name": "Alex Doe"}
        session |= {"payment_status": "paid", "payment_intent": intent["id"]}
        session["customer_details"] = details

    def _save_card(self, session: Params, card: Card) -> None:
        method = self._payment_method(CARDS[card], customer=session["customer"])
        intent = self.objects[session["setup_intent"]]
        intent |= {"status": "succeeded", "payment_method": method["id"]}

    def _payment_method(self, card: tuple[str, str], *, customer: str | None) -> Params:
        brand, last4 = card
        details = {"brand": brand, "display_brand": brand, "last4": last4, "funding": "credit"}
        details |= {"exp_month": 12, "exp_year": 2034, "country": "US"}
        details["fingerprint"] = hashlib.sha256(last4.encode()).hexdigest()[:16]
        method = self._store("pm", "payment_method", type="card", card=details)
        method |= {"customer": customer, "metadata": {}, "billing_details": {"name": "Alex Doe"}}
        return method

    # --- webhooks ----------------------------------------------------------------------------
    async def _announce(self, event_type: str, subject: Params) -> str:
        event = {"id": _new_id("evt"), "object": "event", "api_version": self._api_version}
        event |= {"created": int(time.time()), "data": {"object": copy.deepcopy(subject)}}
        event |= {"livemode": False, "pending_webhooks": 1, "type": event_type}
        event["request"] = {"id": None, "idempotency_key": None}
        self.events.append(event)
        self._payloads[event["id"]] = json.dumps(event, indent=2).encode()
        self.held.append(event["id"])
        if not self.hold_webhooks and self.webhook_url:
            await self.send_webhook(event["id"])
        return str(event["id"])

    def _event(self, event_id: str) -> Params:
        return next(e for e in self.events if e["id"] == event_id)


class ThreadedFakeStripe:
    """A FakeStripe serving from a thread of its own, driven from sync code."""

    def __init__(self, fake: FakeStripe) -> None:
        self.fake = fake
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._serve, name="fake-stripe", daemon=True)

    @property
    def api_base(self) -> str:
        return self.fake.api_base

    @property
    def secret_key(self) -> str:
        return self.fake.secret_key

    @property
    def webhook_secret(self) -> str:
        return self.fake.webhook_secret

    def start(self) -> None:
        self._thread.start()
        self.run(self.fake.__aenter__())

    def stop(self) -> None:
        """Stop serving and close the loop (idempotent)."""
        if self._thread.is_alive():
            self.run(self.fake.__aexit__(None, None, None))
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)

    def run(self, work: Coroutine[Any, Any, T]) -> T:
        """Run `work` (e.g. `fake.fake.complete(id)`) on the fake's loop; its result."""
        return asyncio.run_coroutine_threadsafe(work, self._loop).result(timeout=30)

    def complete(self, session_id: str, *, card: Card = "ok") -> str:
        return self.run(self.fake.complete(session_id, card=card))

    def release_webhooks(self) -> list[Delivery]:
        return self.run(self.fake.release_webhooks())

    def send_webhook(self, event_id: str) -> Delivery:
        return self.run(self.fake.send_webhook(event_id))

    def send_charge_webhook(self, payment_intent_id: str | None = None) -> str:
        return self.run(self.fake.send_charge_webhook(payment_intent_id))

    def __enter__(self) -> ThreadedFakeStripe:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_forever()
        finally:
            self._loop.run_until_complete(self._loop.shutdown_asyncgens())
            self._loop.run_until_complete(self._loop.shutdown_default_executor())
            self._loop.close()


def sign(payload: bytes, secret: str, timestamp: int) -> str:
    """The `Stripe-Signature` header Stripe sends: HMAC-SHA256 of "{t}.{body}" as v1."""
    signed = f"{timestamp}.".encode() + payload
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


# --- requests in, answers out ---------------------------------------------------------------
async def _pairs(request: web.Request) -> tuple[tuple[str, str], ...]:
    pairs = [(key, value) for key, value in request.query.items()]
    if request.method == "POST":
        pairs += _strings(await request.post())
    return tuple(pairs)


def _strings(form: Mapping[str, Any]) -> list[tuple[str, str]]:
    items: Any = form.items()
    return [(str(key), str(value)) for key, value in items]


def _nested(pairs: tuple[tuple[str, str], ...]) -> Params:
    """`a[b][0][c]=v` pairs as nested dicts, with all-digit keys made lists."""
    root: Params = {}
    for key, value in pairs:
        head = key.split("[", 1)[0]
        _put(root, [head, *re.findall(r"\[([^\]]*)\]", key[len(head) :])], value)
    return _listed(root)


def _put(node: Params, path: list[str], value: str) -> None:
    *parents, last = path
    for part in parents:
        child = node.setdefault(part or str(len(node)), {})  # "a[]": the next index
        if not isinstance(child, dict):
            raise _invalid(part, f"Invalid object: {part}")
        node = child
    node[last or str(len(node))] = value


def _listed(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    if node and all(key.isdigit() for key in node):
        return [_listed(node[key]) for key in sorted(node, key=int)]
    return {key: _listed(value) for key, value in node.items()}


def _run(operation: Operation, params: Params, match: Mapping[str, str]) -> tuple[int, bytes]:
    try:
        return 200, json.dumps(operation(params, match)).encode()
    except Problem as problem:
        error = problem.error | {"request_log_url": "https://dashboard.stripe.com/test/logs"}
        return problem.status, json.dumps({"error": error}).encode()


def _answer(status: int, body: Params | bytes, *, key: str | None = None) -> web.Response:
    headers = {"Request-Id": _new_id("req"), "Stripe-Version": API_VERSION}
    headers |= {"Idempotency-Key": key} if key else {}
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return web.Response(status=status, body=data, headers=headers, content_type="application/json")


def _replayed(
    key: str, fingerprint: tuple[Any, ...], stored: tuple[tuple[Any, ...], int, bytes]
) -> web.Response:
    first, status, body = stored
    if first != fingerprint:
        message = (
            "Keys for idempotent requests can only be used with the same parameters they were "
            f"first used with. Try using a key other than '{key}' if you meant to execute a "
            "different request."
        )
        return _answer(400, {"error": {"type": "idempotency_error", "message": message}})
    response = _answer(status, body, key=key)
    response.headers["Idempotent-Replayed"] = "true"
    return response


def _failure(failure: Failure) -> web.Response:
    error = {"type": failure.type, "message": failure.message, "code": failure.code}
    response = _answer(failure.status, {"error": error})
    if failure.should_retry is not None:
        response.headers["Stripe-Should-Retry"] = str(failure.should_retry).lower()
    return response


def _unknown_url(params: Params, match: Mapping[str, str]) -> Params:
    message = f"Unrecognized request URL (/v1/{match['tail']})."
    raise Problem(404, {"type": "invalid_request_error", "message": message})


def _failed(delivery: Delivery, error: str) -> Delivery:
    return Delivery(
        delivery.event_id, delivery.event_type, None, delivery.payload, delivery.signature, error
    )


# --- what Stripe checks -------------------------------------------------------------------
def _check_session(params: Params) -> None:
    if params.get("customer") and params.get("customer_email"):
        raise _invalid("customer_email", "You may only specify one of: customer, customer_email.")
    if not LOCALES.fullmatch(str(params.get("locale", "auto"))):
        raise _invalid("locale", f"Invalid locale: {params['locale']}")
    for name in ("success_url", "cancel_url"):
        if name in params and not str(params[name]).startswith(("http://", "https://")):
            raise _invalid(name, "Not a valid URL")
    if params["mode"] == "setup" and not params.get("currency"):
        message = "You must provide `currency` when using dynamic payment methods in setup mode."
        raise _invalid("currency", message)
    if params["mode"] == "setup" and "line_items" in params:
        raise _invalid("line_items", "You cannot pass `line_items` in `setup` mode.")
    if params["mode"] == "payment" and not params.get("line_items"):
        raise _invalid("line_items", "`line_items` is required in `payment` mode.")


def _session_fields(params: Params) -> Params:
    mode = params["mode"]
    fields = {key: params.get(key) for key in ("mode", "client_reference_id", "customer")}
    fields |= {key: params.get(key) for key in ("customer_email", "success_url", "cancel_url")}
    fields |= {"metadata": params.get("metadata", {}), "locale": params.get("locale")}
    fields |= {"status": "open", "ui_mode": "hosted", "payment_method_types": ["card"]}
    fields |= {"payment_status": "unpaid" if mode == "payment" else "no_payment_required"}
    fields |= {"currency": params.get("currency"), "amount_total": None, "amount_subtotal": None}
    fields |= {"payment_intent": None, "setup_intent": None, "customer_details": None}
    fields["expires_at"] = int(time.time()) + 24 * 3600
    return fields


def _totals(params: Params) -> Params:
    items = params["line_items"]
    currencies = {_required(item.get("price_data") or {}, "currency") for item in items}
    if len(currencies) != 1:
        raise _invalid("line_items", "All line items must use the same currency.")
    for item in items:
        _required(item["price_data"].get("product_data") or {}, "name")
    total = sum(_amount(item["price_data"], "unit_amount") * _count(item) for item in items)
    currency = currencies.pop().lower()
    return {"amount_total": total, "amount_subtotal": total, "currency": currency}


def _count(item: Params) -> int:
    quantity = str(item.get("quantity", ""))
    if not quantity.isdigit() or int(quantity) < 1:
        raise _invalid("quantity", "Each line item needs a positive `quantity`.")
    return int(quantity)


def _amount(params: Params, name: str = "amount") -> int:
    value = _required(params, name)
    if not value.isdigit() or int(value) < 1:
        raise _invalid(name, f"Invalid positive integer: {value}")
    return int(value)


def _required(params: Params, name: str) -> str:
    value = params.get(name)
    if not isinstance(value, str) or not value:
        raise _invalid(name, f"Missing required param: {name}.")
    return value


def _redirects_excluded(params: Params) -> bool:
    automatic = params.get("automatic_payment_methods") or {}
    never = automatic.get("allow_redirects") == "never"
    return never or "payment_method_types" in params or "return_url" in params


def _true(value: Any) -> bool:
    return value == "true"


def _invalid(param: str, message: str, *, code: str | None = None) -> Problem:
    error = {"type": "invalid_request_error", "param": param, "message": message}
    return Problem(400, error | ({"code": code} if code else {}))


def _new_id(prefix: str) -> str:
    return f"{prefix}_{_token(14 if prefix == 'cs_test' else 24)}"


def _token(length: int) -> str:
    return "".join(secrets.choice(ALPHANUMERIC) for _ in range(length))


# --- pages ----------------------------------------------------------------------------------
def _session_page(session: Params) -> str:
    if session["status"] != "open":
        return _html("Checkout complete", "<p>This checkout is already complete.</p>")
    if session["mode"] == "payment":
        amount = Money(session["amount_total"], session["currency"].upper()).format("en_US")
        title, extra, button = "Pay", "", f"Pay {amount}"
    else:
        title, button = "Save a card", "Save card"
        extra = (
            '<p><input type="checkbox" id="decline" name="decline" value="1">'
            ' <label for="decline">Use a card that will be declined later</label></p>'
        )
    cancel = html.escape(str(session.get("cancel_url") or ""), quote=True)
    body = (
        '<p>Test mode: no card is needed.</p><form method="post">'
        f'{extra}<button type="submit">{html.escape(button)}</button></form>'
        f'<p><a href="{cancel}">Cancel and go back</a></p>'
    )
    return _html(f"Fake Stripe Checkout: {title}", body)


def _html(title: str, body: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title></head>"
        f"<body><main><h1>{html.escape(title)}</h1>{body}</main></body></html>"
    )
