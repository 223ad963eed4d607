"""`POST /api/events` over the demo data, on SQLite and PostgreSQL: signed events applied once,
their alerts queued at once; replays, reused ids, concurrent copies and crashes."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update

from billing_client.sql.models import Invoice, Payment, TicketMessage, UsageCounter, UsageRecord
from bot.bootstrap import build_services
from bot.clock import FakeClock
from bot.events import SIGNATURE_HEADER, body_digest, signature_header
from bot.nlu import NluModel
from bot.services import Services
from bot.settings import Settings
from bot.store.events import EventStore
from bot.store.models import BillingEvent
from tests.helpers import TEST_SECRET, client_for

SECRET = "events-test-secret-0123456789"
ALEX, SAM, MARIA = "+12025550101", "+12025550102", "+12025550104"


def event_settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url, demo=True, secret_key=TEST_SECRET, events_secret=SECRET
    )


@pytest.fixture
async def services(
    demo_db_url: str, clock: FakeClock, nlu_model: NluModel
) -> AsyncIterator[Services]:
    built = await build_services(event_settings(demo_db_url), clock=clock, nlu=nlu_model)
    yield built
    await built.close()


@pytest.fixture
async def client(services: Services) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(services) as http:
        yield http


# --- helpers ----------------------------------------------------------------------------------
def body_of(event_id: str, type_: str, data: dict[str, Any]) -> bytes:
    event = {"id": event_id, "type": type_, "created": 1741966200, "data": data}
    return json.dumps(event).encode()


async def post(
    client: httpx.AsyncClient, clock: FakeClock, body: bytes, *, secret: str = SECRET
) -> httpx.Response:
    header = signature_header(secret, int(clock.now().timestamp()), body)
    return await client.post("/api/events", content=body, headers={SIGNATURE_HEADER: header})


async def count(services: Services, column: Any, *where: Any) -> int:
    async with services.sessions() as session:
        query = select(func.count(column)).where(*where)
        return int(await session.scalar(query) or 0)


async def outbox(services: Services, kind: str) -> list[Any]:
    return [entry for entry in await services.outbox.list() if entry.kind == kind]


async def account_id(services: Services, phone: str) -> int:
    account = await services.billing.find_account_by_msisdn(phone)
    assert account is not None
    return account.id


async def open_invoice(services: Services, phone: str) -> tuple[str, str]:
    """(number, amount due) of the account's open bill."""
    balance = await services.billing.get_balance(
        await account_id(services, phone), now=services.clock.now()
    )
    invoice = balance.open_invoices[0]
    return invoice.number, str(invoice.amount_due.amount)


async def issue_invoice(services: Services, phone: str, number: str, issued: date) -> None:
    """A new open bill in the billing core, as the billing system just issued it."""
    owner = await account_id(services, phone)
    async with services.sessions() as session, session.begin():
        session.add(
            Invoice(
                account_id=owner,
                number=number,
                status="open",
                issued_on=issued,
                due_on=issued + timedelta(days=21),
                period_start=issued - timedelta(days=30),
                period_end=issued - timedelta(days=1),
                currency="USD",
                subtotal_minor=5000,
                tax_minor=350,
                total_minor=5350,
                amount_paid_minor=0,
                tax_rate=0.07,
            )
        )


def alex_pays(
    amount: str, invoice: str, *, event_id: str = "evt_pay_1", ref: str = "ch_1"
) -> bytes:
    data = {
        "account": ALEX,
        "invoice": invoice,
        "amount": amount,
        "currency": "USD",
        "reference": ref,
    }
    return body_of(event_id, "payment.succeeded", data)


def usage_body(event_id: str, *records: dict[str, Any]) -> bytes:
    return body_of(event_id, "usage.recorded", {"records": list(records)})


def data_record(phone: str, at: str, gigabytes: str) -> dict[str, Any]:
    return {
        "msisdn": phone,
        "at": at,
        "kind": "data",
        "quantity": gigabytes,
        "unit": "GB",
        "charge": "",
    }


# --- authentication ---------------------------------------------------------------------------
async def test_without_a_secret_the_endpoint_is_off(
    demo_sqlite_url: str, clock: FakeClock, nlu_model: NluModel
) -> None:
    settings = Settings(database_url=demo_sqlite_url, demo=True, secret_key=TEST_SECRET)
    built = await build_services(settings, clock=clock, nlu=nlu_model)
    try:
        async with client_for(built) as http:
            response = await post(http, clock, body_of("evt_1", "invoice.issued", {}))
    finally:
        await built.close()
    assert response.status_code == 404
    assert "BILLBOT_EVENTS_SECRET" in response.json()["detail"]


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {SIGNATURE_HEADER: "t=1741966200,v1=" + "0" * 64},
        {SIGNATURE_HEADER: "v1=abc"},
        {SIGNATURE_HEADER: "garbage"},
    ],
    ids=["missing", "forged", "no-timestamp", "garbage"],
)
async def test_a_missing_or_forged_signature_gets_403_and_stores_nothing(
    client: httpx.AsyncClient, services: Services, headers: dict[str, str]
) -> None:
    number, amount = await open_invoice(services, ALEX)
    response = await client.post("/api/events", content=alex_pays(amount, number), headers=headers)

    assert response.status_code == 403
    assert response.json()["error"] == "forbidden"
    assert await count(services, BillingEvent.id) == 0
    assert await count(services, Payment.id) == 3  # the demo's: nothing new


async def test_a_body_signed_with_another_secret_gets_403(
    client: httpx.AsyncClient, services: Services, clock: FakeClock
) -> None:
    number, amount = await open_invoice(services, ALEX)
    forged = await post(client, clock, alex_pays(amount, number), secret="not-the-secret-at-all")
    assert forged.status_code == 403
    assert await count(services, BillingEvent.id) == 0


@pytest.mark.parametrize("skew", [-301, 301])
async def test_a_signature_more_than_five_minutes_off_gets_403(
    client: httpx.AsyncClient, services: Services, clock: FakeClock, skew: int
) -> None:
    number, amount = await open_invoice(services, ALEX)
    body = alex_pays(amount, number)
    header = signature_header(SECRET, int(clock.now().timestamp()) + skew, body)

    response = await client.post("/api/events", content=body, headers={SIGNATURE_HEADER: header})

    assert response.status_code == 403
    assert "timestamp" in response.json()["detail"]
    assert await count(services, BillingEvent.id) == 0


# --- bad bodies -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{not json", "not UTF-8 JSON"),
        (b"[]", "must be a JSON object"),
        (body_of("evt_1", "invoice.voided", {}), "unknown type"),
        (body_of("", "invoice.issued", {"account": ALEX, "invoice": "X"}), "id must be"),
        (body_of("evt_1", "invoice.issued", {"account": ALEX}), "data.invoice"),
        (body_of("evt_1", "invoice.issued", {"account": "12", "invoice": "X"}), "data.account"),
        (
            body_of(
                "evt_1",
                "payment.succeeded",
                {"account": ALEX, "amount": "-5", "currency": "USD", "reference": "r"},
            ),
            "data.amount must be positive",
        ),
        (usage_body("evt_1", {"msisdn": ALEX}), "records[0]: missing at"),
    ],
    ids=["json", "array", "type", "id", "field", "phone", "amount", "record"],
)
async def test_a_bad_body_gets_400_with_its_reason_and_stores_nothing(
    client: httpx.AsyncClient, services: Services, clock: FakeClock, body: bytes, reason: str
) -> None:
    response = await post(client, clock, body)

    assert response.status_code == 400
    assert response.json()["error"] == "bad_event"
    assert reason in response.json()["detail"]
    assert await count(services, BillingEvent.id) == 0


async def test_a_body_over_one_megabyte_gets_400(
    client: httpx.AsyncClient, services: Services, clock: FakeClock
) -> None:
    body = body_of("evt_big", "invoice.issued", {"account": ALEX, "invoice": "X" * 1_100_000})
    response = await post(client, clock, body)

    assert response.status_code == 400
    assert "1 MB" in response.json()["detail"]
    assert await count(services, BillingEvent.id) == 0


# --- invoice.issued ---------------------------------------------------------------------------
async def test_an_issued_invoice_queues_its_bill_ready_alert_at_once(
    client: httpx.AsyncClient, services: Services, clock: FakeClock
) -> None:
    await issue_invoice(services, ALEX, "INV-NEW-1", clock.now().date())
    body = body_of("evt_inv_1", "invoice.issued", {"account": ALEX, "invoice": "INV-NEW-1"})

    response = await post(client, clock, body)

    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["replayed"] is False and answer["invoice"] == "INV-NEW-1"
    [ready] = [a for a in answer["alerts"] if a["kind"] == "bill_ready"]
    assert ready["outcome"] == "queued" and "INV-NEW-1" in ready["key"]
    [row] = await outbox(services, "bill_ready")
    assert row.recipient == ALEX and "$53.50" in row.text


async def test_an_unknown_invoice_gets_422_and_keeps_nothing_so_a_later_retry_succeeds(
    client: httpx.AsyncClient, services: Services, clock: FakeClock
) -> None:
    body = body_of("evt_inv_2", "invoice.issued", {"account": ALEX, "invoice": "INV-LATER"})

    refused = await post(client, clock, body)
    assert refused.status_code == 422
    assert "unknown invoice" in refused.json()["detail"]
    assert await count(services, BillingEvent.id) == 0

    await issue_invoice(services, ALEX, "INV-LATER", clock.now().date())
    retried = await post(client, clock, body)
    assert retried.status_code == 200 and retried.json()["replayed"] is False


# --- payment.succeeded ------------------------------------------------------------------------
async def test_a_payment_is_recorded_and_its_receipt_queued_where_alerts_go(
    client: httpx.AsyncClient, services: Services, clock: FakeClock
) -> None:
    number, amount = await open_invoice(services, ALEX)

    response = await post(client, clock, alex_pays(amount, number))

    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["payment"]["amount"] == "64.20" and answer["payment"]["provider"] == "events"
    assert answer["alerts"][0]["kind"] == "payment_received"
    assert answer["alerts"][0]["outcome"] == "queued"
    [receipt] = await outbox(services, "payment_received")
    assert receipt.channel == "sms" and receipt.recipient == ALEX
    assert "$64.20" in receipt.text and number in receipt.text and "ch_1" in receipt.text
    balance = await services.billing.get_balance(await account_id(services, ALEX), now=clock.now())
    assert balance.open_invoices == ()


async def test_a_replay_answers_the_same_outcome_and_pays_and_tells_nothing_twice(
    client: httpx.AsyncClient, services: Services, clock: FakeClock
) -> None:
    number, amount = await open_invoice(services, ALEX)
    first = await post(client, clock, alex_pays(amount, number))
    clock.advance(minutes=10)

    again = await post(client, clock, alex_pays(amount, number))

    assert again.status_code == 200
    assert again.json() == {**first.json(), "replayed": True}
    assert await count(services, Payment.id) == 4  # the demo's 3 + this one
    assert len(await outbox(services, "payment_received")) == 1


async def test_a_second_event_with_the_same_payment_reference_records_nothing_twice(
    client: httpx.AsyncClient, services: Services, clock: FakeClock
) -> None:
    number, amount = await open_invoice(services, ALEX)
    first = await post(client, clock, alex_pays(amount, number, event_id="evt_a"))
    second = await post(client, clock, alex_pays(amount, number, event_id="evt_b"))

    assert first.status_code == second.status_code == 200
    assert second.json()["payment"]["id"] == first.json()["payment"]["id"]
    assert second.json()["alerts"][0]["outcome"] == "already queued"
    assert await count(services, Payment.id) == 4
    assert len(await outbox(services, "payment_received")) == 1


async def test_a_payment_withdraws_the_paid_bills_reminder_waiting_for_the_morning(
    client: httpx.AsyncClient, services: Services, clock: FakeClock
) -> None:
    clock.advance(days=7, hours=11)  # 22:30 in New York, three days before Alex's bill is due
    [due] = [d for d in await services.alerts.run_once() if d.kind == "bill_due"]
    assert due.outcome == "deferred"
    number, amount = await open_invoice(services, ALEX)

    response = await post(client, clock, alex_pays(amount, number))

    assert response.status_code == 200
    [reminder] = await outbox(services, "bill_due")
    assert reminder.status == "suppressed" and "no longer open" in (reminder.last_error or "")
    [receipt] = await outbox(services, "payment_received")
    assert receipt.status != "suppressed"  # a receipt goes at once, quiet hours or not


async def test_a_prepaid_top_up_gets_its_receipt_in_spanish(
    client: httpx.AsyncClient, services: Services, clock: FakeClock
) -> None:
    data = {"account": MARIA, "amount": "10.00", "currency": "USD", "reference": "top-7"}

    response = await post(client, clock, body_of("evt_top", "payment.succeeded", data))

    assert response.status_code == 200, response.text
    [receipt] = await outbox(services, "payment_received")
    assert receipt.recipient == MARIA and "¡gracias!" in receipt.text and "top-7" in receipt.text


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ({"currency": "EUR"}, "billed in USD"),
        ({"invoice": "INV-NOPE"}, "unknown invoice"),
        ({"account": "+12025550199"}, "unknown account"),
        ({"amount": "1000.00"}, "more than is due"),
    ],
    ids=["currency", "invoice", "account", "overpaid"],
)
async def test_a_payment_the_billing_core_refuses_gets_422_and_changes_nothing(
    client: httpx.AsyncClient,
    services: Services,
    clock: FakeClock,
    data: dict[str, str],
    reason: str,
) -> None:
    number, amount = await open_invoice(services, ALEX)
    payment = {"account": ALEX, "invoice": number, "amount": amount, "currency": "USD"}
    body = body_of("evt_x", "payment.succeeded", {**payment, "reference": "r-1", **data})

    response = await post(client, clock, body)

    assert response.status_code == 422
    assert reason in response.json()["detail"]
    assert await count(services, Payment.id) == 3
    assert await count(services, BillingEvent.id) == 0
    assert await outbox(services, "payment_received") == []


# --- usage.recorded ---------------------------------------------------------------------------
async def test_recorded_usage_is_counted_once_and_its_usage_alert_goes_at_once(
    client: httpx.AsyncClient, services: Services, clock: FakeClock
) -> None:
    at = (clock.now() - timedelta(hours=1)).isoformat()
    body = usage_body("evt_use_1", data_record(ALEX, at, "9"))  # 41.5 + 9 GB of 50: 100 %

    first = await post(client, clock, body)
    again = await post(client, clock, body)

    assert first.status_code == 200, first.text
    answer = first.json()
    assert answer["records"] == 1 and answer["new"] == 1
    [usage] = [a for a in answer["alerts"] if a["kind"] == "usage_threshold"]
    assert usage["outcome"] == "queued" and usage["key"].endswith(":100")
    assert again.json() == {**answer, "replayed": True}
    assert await count(services, UsageRecord.id) == 1
    async with services.sessions() as session:
        used = await session.scalar(
            select(func.max(UsageCounter.used)).where(UsageCounter.kind == "data")
        )
    assert used == int(41.5 * 1024) + 9 * 1024  # Alex's counter, the demo's largest


async def test_a_usage_event_with_a_bad_record_names_it_and_applies_nothing(
    client: httpx.AsyncClient, services: Services, clock: FakeClock
) -> None:
    at = clock.now().isoformat()
    good = data_record(ALEX, at, "1")
    bad = {**data_record(SAM, at, "1"), "unit": "min"}

    response = await post(client, clock, usage_body("evt_use_2", good, bad))

    assert response.status_code == 400
    assert "records[1]: unit min does not fit kind data" in response.json()["detail"]
    assert await count(services, UsageRecord.id) == 0


async def test_usage_of_an_unknown_number_gets_422_and_applies_nothing(
    client: httpx.AsyncClient, services: Services, clock: FakeClock
) -> None:
    at = clock.now().isoformat()
    records = (data_record(ALEX, at, "1"), data_record("+12025550199", at, "1"))

    response = await post(client, clock, usage_body("evt_use_3", *records))

    assert response.status_code == 422
    assert "records[1]: unknown number" in response.json()["detail"]
    assert await count(services, UsageRecord.id) == 0
    assert await count(services, BillingEvent.id) == 0


# --- ids, concurrency, crashes ----------------------------------------------------------------
async def test_the_same_id_with_another_body_gets_409_and_changes_nothing(
    client: httpx.AsyncClient, services: Services, clock: FakeClock
) -> None:
    number, amount = await open_invoice(services, ALEX)
    await post(client, clock, alex_pays("10.00", number))

    response = await post(client, clock, alex_pays(amount, number))

    assert response.status_code == 409
    assert "another body" in response.json()["detail"]
    assert await count(services, Payment.id) == 4
    _, still_due = await open_invoice(services, ALEX)
    assert still_due == "54.20"


async def test_twenty_identical_deliveries_at_once_pay_once_and_all_get_the_answer(
    client: httpx.AsyncClient, services: Services, clock: FakeClock
) -> None:
    number, amount = await open_invoice(services, ALEX)
    body = alex_pays(amount, number)

    responses = await asyncio.gather(*(post(client, clock, body) for _ in range(20)))

    assert [r.status_code for r in responses] == [200] * 20
    payments = {r.json()["payment"]["id"] for r in responses}
    assert len(payments) == 1
    assert sum(not r.json()["replayed"] for r in responses) == 1
    assert await count(services, Payment.id) == 4
    assert len(await outbox(services, "payment_received")) == 1


async def test_two_servers_applying_one_event_at_once_pay_once(
    demo_db_url: str, services: Services, clock: FakeClock, nlu_model: NluModel
) -> None:
    """Each server takes its own deliveries in turn; between servers only the database's
    unique keys keep the payment, the receipt and the usage single."""
    other = await build_services(event_settings(demo_db_url), clock=clock, nlu=nlu_model)
    number, amount = await open_invoice(services, ALEX)
    body = alex_pays(amount, number)
    at = (clock.now() - timedelta(hours=1)).isoformat()
    usage = usage_body("evt_use_4", data_record(SAM, at, "2"))
    try:
        async with client_for(services) as one, client_for(other) as two:
            responses = await asyncio.gather(
                *(post(http, clock, b) for http in (one, two) for b in (body, usage) * 5)
            )
    finally:
        await other.close()

    assert {r.status_code for r in responses} == {200}
    assert all(r.json()["id"] in ("evt_pay_1", "evt_use_4") for r in responses)
    assert await count(services, Payment.id) == 4
    assert len(await outbox(services, "payment_received")) == 1
    assert await count(services, UsageRecord.id) == 1


async def test_an_event_stored_but_never_applied_is_applied_by_the_next_delivery(
    client: httpx.AsyncClient, services: Services, clock: FakeClock
) -> None:
    number, amount = await open_invoice(services, ALEX)
    body = alex_pays(amount, number)
    store = EventStore(services.sessions)
    await store.receive("evt_pay_1", "payment.succeeded", body_digest(body), now=clock.now())

    response = await post(client, clock, body)

    assert response.status_code == 200 and response.json()["replayed"] is False
    assert await count(services, Payment.id) == 4
    assert len(await outbox(services, "payment_received")) == 1
    stored = await store.get("evt_pay_1")
    assert stored is not None and stored.processed


async def test_a_crash_after_applying_but_before_recording_applies_nothing_twice(
    client: httpx.AsyncClient, services: Services, clock: FakeClock
) -> None:
    number, amount = await open_invoice(services, ALEX)
    body = alex_pays(amount, number)
    await post(client, clock, body)
    async with services.sessions() as session, session.begin():  # as if it never finished
        await session.execute(update(BillingEvent).values(processed_at=None, outcome=None))

    response = await post(client, clock, body)

    assert response.status_code == 200, response.text
    assert response.json()["alerts"][0]["outcome"] == "already queued"
    assert await count(services, Payment.id) == 4
    assert len(await outbox(services, "payment_received")) == 1


# --- ticket.updated ---------------------------------------------------------------------------
async def sams_ticket(services: Services) -> str:
    ticket = await services.billing.create_ticket(
        await account_id(services, SAM),
        subject="No data in Canada",
        description="Roaming data does not work in Toronto.",
        channel="sms",
        idempotency_key="ticket:canada",
        now=services.clock.now(),
    )
    return ticket.reference


async def test_a_ticket_update_adds_the_agents_message_once_and_tells_the_customer(
    services: Services, client: httpx.AsyncClient, clock: FakeClock
) -> None:
    reference = await sams_ticket(services)
    data = {"ticket": reference, "status": "resolved", "message": "Roaming is on again."}
    body = body_of("evt-ticket-1", "ticket.updated", data)

    first = await post(client, clock, body)
    again = await post(client, clock, body)

    assert first.status_code == 200, first.text
    assert first.json()["status"] == "resolved" and first.json()["ticket"] == reference
    assert again.json()["replayed"] is True
    assert await count(services, TicketMessage.id) == 2  # the customer's and the agent's
    [told] = await outbox(services, "ticket_updated")
    assert told.recipient == SAM
    assert told.text.endswith(
        f"your ticket {reference} is resolved. Our team says: Roaming is on again."
    )
    [ticket] = await services.billing.list_tickets(await account_id(services, SAM))
    assert ticket.status == "resolved"


@pytest.mark.parametrize(
    ("data", "status", "why"),
    [
        ({"ticket": "T-000001"}, 400, "a status, a message or both"),
        ({"ticket": "T-000001", "status": "done"}, 400, "data.status must be one of"),
        ({"ticket": "T-999999", "status": "closed"}, 422, "no ticket"),
    ],
)
async def test_a_bad_ticket_update_changes_nothing(
    services: Services,
    client: httpx.AsyncClient,
    clock: FakeClock,
    data: dict[str, str],
    status: int,
    why: str,
) -> None:
    await sams_ticket(services)
    answer = await post(client, clock, body_of("evt-bad-ticket", "ticket.updated", data))

    assert answer.status_code == status and why in answer.text
    assert await count(services, BillingEvent.id) == 0
    assert await outbox(services, "ticket_updated") == []
