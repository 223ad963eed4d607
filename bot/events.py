"""Billing events in (`POST /api/events`, docs/events.md): verify, parse, store, apply once.

The pure steps are functions: `verify` checks the `Billbot-Signature` header (HMAC-SHA256 of
"<t>.<raw body>" with the shared secret, 300 s of clock skew, several `v1=` for secret
rotation) and `parse` reads the body into an `Event` with typed data. `EventService.receive`
chains them with the store (`bot.store.events`): the event's row is stored first, then the
event is applied by `EventEffects` (`bot.event_effects`), then its outcome is recorded. A
replay answers the stored outcome; the same id with another body is refused. A row stored but
never processed (a crash, a concurrent delivery) is applied again by the next delivery, so
every application is idempotent by itself; deliveries of one id in this process take turns.

Errors say what the web route answers: `EventRejected` 403, `BadEvent` 400, `EventConflict`
409, `EventRefused` 422 (the billing core refused it as of now: nothing kept, a retry may pass).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

from billing_client import Money
from billing_client.usage_csv import COLUMNS, BadUsageRow, Problem, UsageRow, usage_row
from bot.clock import Clock
from bot.locks import KeyedLocks
from bot.store.events import EventStore

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "Billbot-Signature"
MAX_BODY_BYTES = 1024 * 1024
TOLERANCE_SECONDS = 300
INVOICE_ISSUED, PAYMENT_SUCCEEDED, USAGE_RECORDED, TICKET_UPDATED = (
    "invoice.issued",
    "payment.succeeded",
    "usage.recorded",
    "ticket.updated",
)
OUTAGE_STARTED, OUTAGE_CLEARED = "outage.started", "outage.cleared"
PORT_OUT_REQUESTED, SIM_ACTIVATED = "port_out.requested", "sim.activated"
EVENT_TYPES = (
    INVOICE_ISSUED,
    PAYMENT_SUCCEEDED,
    USAGE_RECORDED,
    TICKET_UPDATED,
    OUTAGE_STARTED,
    OUTAGE_CLEARED,
    PORT_OUT_REQUESTED,
    SIM_ACTIVATED,
)
OUTAGE_KINDS = ("mobile", "broadband")
TICKET_STATUSES = ("open", "pending_customer", "resolved", "closed")
MAX_MESSAGE = 2000
DEFAULT_PROVIDER = "events"
MAX_AMOUNT = Decimal("1000000000")
SHOWN_PROBLEMS = 20
LOCK_WAIT_SECONDS = 30.0  # a delivery waits this long for another of its id in this process

NumberCheck = Callable[[str], str]
"""Turns a phone number as written into E.164, or raises ValueError (bot.phones.normalize)."""


# --- errors -----------------------------------------------------------------------------------
class EventError(Exception):
    """An event that is not applied; the message says why (the HTTP answer's detail)."""


class EventRejected(EventError):
    """The signature is missing, wrong or stale: 403, nothing stored."""


class BadEvent(EventError):
    """The body is not a valid event: 400, nothing stored."""


class EventConflict(EventError):
    """The id was used before with another body: 409, nothing changed."""


class EventRefused(EventError):
    """The billing core refuses it as of now (unknown invoice, account, line): 422, not kept."""


# --- the event --------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class InvoiceIssued:
    account: str  # E.164 number of a line of the account
    invoice: str  # the invoice number


@dataclass(frozen=True, slots=True)
class PaymentSucceeded:
    account: str
    invoice: str | None  # None: a prepaid top-up
    amount: Money
    reference: str  # the provider's reference: the payment is recorded once per reference
    provider: str


@dataclass(frozen=True, slots=True)
class UsageRecorded:
    rows: tuple[UsageRow, ...]  # `line_number` is the record's index in `records`


@dataclass(frozen=True, slots=True)
class TicketUpdated:
    """The operator's helpdesk changed a ticket: a new status, a message, or both."""

    ticket: str  # "T-000123"
    status: str | None
    message: str | None
    key: str = ""  # from the event's id: the update is applied once by it


@dataclass(frozen=True, slots=True)
class OutageStarted:
    """A known outage in an area (`diagnostics` tells the customers served there)."""

    outage: str  # the billing system's id for it: added once by it, cleared by it
    area: str  # a postcode or an area name
    kind: str  # mobile | broadband
    message: str
    expected_end: datetime | None


@dataclass(frozen=True, slots=True)
class OutageCleared:
    outage: str


@dataclass(frozen=True, slots=True)
class PortOutRequested:
    """Another provider asks to take a number (the holder is told and must approve it)."""

    request: str  # the gaining provider's id for the request: recorded once by it
    msisdn: str
    carrier: str


@dataclass(frozen=True, slots=True)
class SimActivated:
    """The new SIM of an order (`sim_swap`) took over its line; the old one stops working."""

    order: str  # "S-000012"
    iccid: str | None


EventData = (
    InvoiceIssued
    | PaymentSucceeded
    | UsageRecorded
    | TicketUpdated
    | OutageStarted
    | OutageCleared
    | PortOutRequested
    | SimActivated
)


@dataclass(frozen=True, slots=True)
class Event:
    id: str
    type: str
    created: int  # unix seconds, as the billing system says
    data: EventData


# --- signatures -------------------------------------------------------------------------------
def signature(secret: str, timestamp: int, body: bytes) -> str:
    """Hex HMAC-SHA256 of "<timestamp>.<body>" with `secret`."""
    signed = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    """The `Billbot-Signature` value a billing system sends: "t=<timestamp>,v1=<hex>"."""
    return f"t={timestamp},v1={signature(secret, timestamp, body)}"


def verify(header: str | None, body: bytes, secrets: Sequence[str], *, now: datetime) -> None:
    """Return when a `v1` of the header signs the body with one of `secrets` at a timestamp
    within TOLERANCE_SECONDS of `now`; EventRejected saying what is wrong otherwise."""
    if not header:
        raise EventRejected(f"the {SIGNATURE_HEADER} header is missing")
    timestamp, candidates = _signature_parts(header)
    if abs(now.timestamp() - timestamp) > TOLERANCE_SECONDS:
        raise EventRejected(f"the signature's timestamp is over {TOLERANCE_SECONDS} s off")
    expected = [signature(secret, timestamp, body) for secret in secrets]
    matches = [hmac.compare_digest(e, c) for e in expected for c in candidates]
    if not any(matches):
        raise EventRejected("no v1 signature matches the body")


def _signature_parts(header: str) -> tuple[int, list[str]]:
    """("t", every "v1") of "t=…,v1=…[,v1=…]"; other schemes are ignored."""
    pairs = [part.strip().partition("=") for part in header.split(",")]
    stamps = [value for key, _, value in pairs if key == "t"]
    # ASCII only: compare_digest refuses other text, and "²".isdigit() is no number.
    candidates = [value for key, _, value in pairs if key == "v1" and value and value.isascii()]
    if (
        len(stamps) != 1
        or not (stamps[0].isascii() and stamps[0].isdigit())
        or len(stamps[0]) > 12
    ):
        raise EventRejected(f"the {SIGNATURE_HEADER} header needs one t=<unix seconds>")
    if not candidates:
        raise EventRejected(f"the {SIGNATURE_HEADER} header has no v1= signature")
    return int(stamps[0]), candidates


def body_digest(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


# --- parsing ----------------------------------------------------------------------------------
def parse(body: bytes, *, number: NumberCheck) -> Event:
    """The event in `body`; BadEvent naming the first thing wrong (every bad usage record)."""
    if len(body) > MAX_BODY_BYTES:
        raise BadEvent(f"the body is larger than {MAX_BODY_BYTES // 1024} KB")
    top = _object(_json(body), "the body")
    event_id = _text(top, "id", max_length=200)
    type_ = _text(top, "type", max_length=40)
    if type_ not in EVENT_TYPES:
        raise BadEvent(f"unknown type {type_[:40]!r} ({', '.join(EVENT_TYPES)})")
    created = top.get("created")
    if not isinstance(created, int) or isinstance(created, bool) or created < 0:
        raise BadEvent("created must be a unix timestamp (whole seconds)")
    data = _object(top.get("data"), "data")
    parsed = _PARSERS[type_](data, number)
    if isinstance(parsed, TicketUpdated):
        parsed = replace(parsed, key="event:" + hashlib.sha256(event_id.encode()).hexdigest())
    return Event(event_id, type_, created, parsed)


def _json(body: bytes) -> Any:
    try:
        return json.loads(body.decode("utf-8"), parse_float=Decimal, parse_constant=_no_constant)
    except (ValueError, RecursionError):  # UnicodeDecodeError and JSONDecodeError included
        raise BadEvent("the body is not UTF-8 JSON") from None


def _no_constant(name: str) -> Any:
    raise ValueError(name)  # NaN, Infinity: not JSON


def _object(value: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise BadEvent(f"{what} must be a JSON object")
    return value


def _text(
    data: Mapping[str, Any], name: str, *, max_length: int, where: str = "", optional: bool = False
) -> str:
    """A string field of 1 to `max_length` printable characters ("" when optional and absent)."""
    value = data.get(name)
    if value is None and optional:
        return ""
    if not isinstance(value, str) or not value.strip():
        raise BadEvent(f"{where}{name} must be a non-empty string")
    if len(value) > max_length or not value.isprintable():
        raise BadEvent(f"{where}{name} must be at most {max_length} printable characters")
    return value


def _phone(data: Mapping[str, Any], number: NumberCheck) -> str:
    raw = _text(data, "account", max_length=32, where="data.")
    try:
        return number(raw)
    except ValueError:
        raise BadEvent("data.account must be the phone number of a line (E.164)") from None


def _invoice_issued(data: Mapping[str, Any], number: NumberCheck) -> InvoiceIssued:
    return InvoiceIssued(
        _phone(data, number), _text(data, "invoice", max_length=32, where="data.")
    )


def _payment_succeeded(data: Mapping[str, Any], number: NumberCheck) -> PaymentSucceeded:
    provider = _text(data, "provider", max_length=40, where="data.", optional=True)
    return PaymentSucceeded(
        account=_phone(data, number),
        invoice=_text(data, "invoice", max_length=32, where="data.", optional=True) or None,
        amount=_amount(data),
        reference=_text(data, "reference", max_length=128, where="data."),
        provider=provider or DEFAULT_PROVIDER,
    )


def _ticket_updated(data: Mapping[str, Any], number: NumberCheck) -> TicketUpdated:
    ticket = _text(data, "ticket", max_length=20, where="data.")
    status = _text(data, "status", max_length=20, where="data.", optional=True) or None
    if status is not None and status not in TICKET_STATUSES:
        raise BadEvent(f"data.status must be one of {', '.join(TICKET_STATUSES)}")
    message = _message(data.get("message"))
    if status is None and message is None:
        raise BadEvent("data needs a status, a message or both")
    return TicketUpdated(ticket, status, message)


def _message(value: Any) -> str | None:
    """A message to the customer: text of at most MAX_MESSAGE characters (lines allowed)."""
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise BadEvent("data.message must be a non-empty string")
    if len(value) > MAX_MESSAGE or not all(ch.isprintable() or ch in "\n\t" for ch in value):
        raise BadEvent(f"data.message must be at most {MAX_MESSAGE} printable characters")
    return value.strip()


def _amount(data: Mapping[str, Any]) -> Money:
    """data.amount (a decimal string) in data.currency (an ISO 4217 code)."""
    currency = _currency(data)
    raw = data.get("amount")
    if not isinstance(raw, str):
        raise BadEvent('data.amount must be a decimal string, e.g. "12.34"')
    try:
        amount = Decimal(raw.strip())
    except InvalidOperation:
        raise BadEvent(f"data.amount {raw[:20]!r} is not a number") from None
    if not amount.is_finite() or not 0 < amount < MAX_AMOUNT:
        raise BadEvent("data.amount must be positive (and below a billion)")
    try:
        return Money.from_decimal(amount, currency)
    except ValueError:
        raise BadEvent(f"data.amount has more decimals than {currency} has") from None


def _currency(data: Mapping[str, Any]) -> str:
    code = data.get("currency")
    if not (isinstance(code, str) and len(code) == 3 and code.isascii() and code.isalpha()):
        raise BadEvent("data.currency must be a three-letter ISO 4217 code, e.g. USD")
    return code.upper()


def _usage_recorded(data: Mapping[str, Any], number: NumberCheck) -> UsageRecorded:
    records = data.get("records")
    if not isinstance(records, list) or not records:
        raise BadEvent("data.records must be a non-empty list of usage records")
    rows: list[UsageRow] = []
    problems: list[Problem] = []
    for index, record in enumerate(records):
        try:
            rows.append(usage_row(index, _record_fields(record), number))
        except BadUsageRow as bad:
            problems.append(Problem(index, str(bad)))
    if problems:
        raise BadEvent(describe_problems(problems))
    return UsageRecorded(tuple(rows))


def _record_fields(record: Any) -> dict[str, str]:
    """A record's six fields as the CSV holds them (text); BadUsageRow when it has others."""
    if not isinstance(record, dict):
        raise BadUsageRow("must be an object")
    missing = [name for name in COLUMNS if name not in record]
    unknown = sorted(str(name)[:20] for name in record if name not in COLUMNS)
    if missing or unknown:
        raise BadUsageRow(_field_mismatch(missing, unknown))
    return {name: _field_text(name, record[name]) for name in COLUMNS}


def _field_mismatch(missing: Sequence[str], unknown: Sequence[str]) -> str:
    parts = [f"missing {', '.join(missing)}"] if missing else []
    parts += [f"unknown {', '.join(map(repr, unknown))}"] if unknown else []
    return f"{'; '.join(parts)} (the fields are {', '.join(COLUMNS)})"


def _field_text(name: str, value: Any) -> str:
    if value is None and name == "charge":
        return ""  # no charge, as an empty CSV cell
    numeric = isinstance(value, (int, Decimal)) and not isinstance(value, bool)
    if numeric and name in ("quantity", "charge"):
        return str(value)  # exact: JSON numbers are read as Decimal
    if not isinstance(value, str):
        raise BadUsageRow(f"{name} must be a string")
    return value.strip()


def _outage_started(data: Mapping[str, Any], number: NumberCheck) -> OutageStarted:
    kind = _text(data, "kind", max_length=20, where="data.")
    if kind not in OUTAGE_KINDS:
        raise BadEvent(f"data.kind must be one of {', '.join(OUTAGE_KINDS)}")
    return OutageStarted(
        outage=_text(data, "outage", max_length=100, where="data."),
        area=_text(data, "area", max_length=60, where="data."),
        kind=kind,
        message=_text(data, "message", max_length=500, where="data."),
        expected_end=_moment(data, "expected_end"),
    )


def _outage_cleared(data: Mapping[str, Any], number: NumberCheck) -> OutageCleared:
    return OutageCleared(_text(data, "outage", max_length=100, where="data."))


def _port_out_requested(data: Mapping[str, Any], number: NumberCheck) -> PortOutRequested:
    raw = _text(data, "msisdn", max_length=32, where="data.")
    try:
        msisdn = number(raw)
    except ValueError:
        raise BadEvent("data.msisdn must be the phone number of a line (E.164)") from None
    return PortOutRequested(
        request=_text(data, "request", max_length=100, where="data."),
        msisdn=msisdn,
        carrier=_text(data, "carrier", max_length=80, where="data."),
    )


def _sim_activated(data: Mapping[str, Any], number: NumberCheck) -> SimActivated:
    iccid = _text(data, "iccid", max_length=22, where="data.", optional=True)
    return SimActivated(_text(data, "order", max_length=20, where="data."), iccid or None)


def _moment(data: Mapping[str, Any], name: str) -> datetime | None:
    """An optional ISO 8601 moment with its time zone."""
    raw = data.get(name)
    if raw is None:
        return None
    try:
        moment = datetime.fromisoformat(raw) if isinstance(raw, str) else None
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise BadEvent(f"data.{name} must be an ISO 8601 moment with a time zone")
    return moment


def describe_problems(problems: Sequence[Problem]) -> str:
    """ "2 bad records, nothing applied: records[0]: …; records[3]: …" (the first 20)."""
    shown = "; ".join(f"records[{p.line_number}]: {p.reason}" for p in problems[:SHOWN_PROBLEMS])
    more = (
        f"; … and {len(problems) - SHOWN_PROBLEMS} more" if len(problems) > SHOWN_PROBLEMS else ""
    )
    noun = "record" if len(problems) == 1 else "records"
    return f"{len(problems)} bad {noun}, nothing applied: {shown}{more}"


_PARSERS: dict[str, Callable[[Mapping[str, Any], NumberCheck], EventData]] = {
    INVOICE_ISSUED: _invoice_issued,
    PAYMENT_SUCCEEDED: _payment_succeeded,
    USAGE_RECORDED: _usage_recorded,
    TICKET_UPDATED: _ticket_updated,
    OUTAGE_STARTED: _outage_started,
    OUTAGE_CLEARED: _outage_cleared,
    PORT_OUT_REQUESTED: _port_out_requested,
    SIM_ACTIVATED: _sim_activated,
}


# --- the service ------------------------------------------------------------------------------
class Effects(Protocol):
    """What applying each type of event does (`bot.event_effects.EventEffects`). Each is
    idempotent: applied twice, it changes and queues nothing the second time."""

    async def invoice_issued(self, data: InvoiceIssued) -> dict[str, Any]: ...

    async def payment_succeeded(self, data: PaymentSucceeded) -> dict[str, Any]: ...

    async def usage_recorded(self, data: UsageRecorded) -> dict[str, Any]: ...

    async def ticket_updated(self, data: TicketUpdated) -> dict[str, Any]: ...

    async def outage_started(self, data: OutageStarted) -> dict[str, Any]: ...

    async def outage_cleared(self, data: OutageCleared) -> dict[str, Any]: ...

    async def port_out_requested(self, data: PortOutRequested) -> dict[str, Any]: ...

    async def sim_activated(self, data: SimActivated) -> dict[str, Any]: ...


class EventService:
    """Verify, parse, store first, apply, record the outcome (see the module docstring)."""

    def __init__(
        self,
        *,
        secrets: Sequence[str],
        store: EventStore,
        effects: Effects,
        clock: Clock,
        number: NumberCheck,
    ) -> None:
        self._secrets = tuple(secret for secret in secrets if secret)
        self._store = store
        self._effects = effects
        self._clock = clock
        self._number = number
        self._locks = KeyedLocks()

    async def receive(self, body: bytes, signature: str | None) -> dict[str, Any]:
        """The event's outcome and whether it is a replay; an EventError when not applied."""
        verify(signature, body, self._secrets, now=self._clock.now())
        event = parse(body, number=self._number)
        async with self._locks.hold(event.id, wait=LOCK_WAIT_SECONDS):
            return await self._once(event, body_digest(body))

    async def _once(self, event: Event, digest: str) -> dict[str, Any]:
        stored = await self._store.receive(event.id, event.type, digest, now=self._clock.now())
        if stored.body_sha256 != digest:
            raise EventConflict(f"event {event.id!r} was received before with another body")
        if stored.outcome is not None:
            log.info("event %s (%s): replayed", event.id, event.type)
            return {**stored.outcome, "replayed": True}
        try:
            outcome = {"id": event.id, "type": event.type, **await self._apply(event.data)}
        except EventRefused:
            await self._store.forget(event.id)
            raise
        finished = await self._store.finish(stored, outcome, now=self._clock.now())
        log.info("event %s (%s): processed", event.id, event.type)
        return {**finished.outcome, "replayed": not finished.recorded}

    async def _apply(self, data: EventData) -> dict[str, Any]:
        if isinstance(data, InvoiceIssued):
            return await self._effects.invoice_issued(data)
        if isinstance(data, PaymentSucceeded):
            return await self._effects.payment_succeeded(data)
        if isinstance(data, TicketUpdated):
            return await self._effects.ticket_updated(data)
        if isinstance(data, OutageStarted):
            return await self._effects.outage_started(data)
        if isinstance(data, OutageCleared):
            return await self._effects.outage_cleared(data)
        if isinstance(data, PortOutRequested):
            return await self._effects.port_out_requested(data)
        if isinstance(data, SimActivated):
            return await self._effects.sim_activated(data)
        return await self._effects.usage_recorded(data)
