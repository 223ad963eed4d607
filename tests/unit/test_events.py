"""Billing events' pure steps (bot.events): signatures, parsing, problems; no database."""

from __future__ import annotations

import json
import re
import string
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from billing_client import Account, Line, Money
from billing_client.usage_csv import COLUMNS, parse_usage_csv
from bot.alerts import texts
from bot.alerts.reach import choose, holder_phone
from bot.events import (
    MAX_BODY_BYTES,
    BadEvent,
    EventRejected,
    InvoiceIssued,
    PaymentSucceeded,
    UsageRecorded,
    parse,
    signature,
    signature_header,
    verify,
)
from bot.phones import normalize
from bot.settings import Settings, SettingsError

SECRET, OLD_SECRET = "unit-events-secret-0123", "unit-events-old-secret-99"
NOW = datetime(2025, 3, 14, 15, 30, tzinfo=UTC)
T = int(NOW.timestamp())
BODY = b'{"id":"evt_1"}'
ALEX = "+12025550101"


def number(raw: str) -> str:
    return normalize(raw, default_region="US")


def event(type_: str, data: Any, **top: Any) -> bytes:
    return json.dumps({"id": "evt_1", "type": type_, "created": T, "data": data, **top}).encode()


def bad(body: bytes) -> str:
    with pytest.raises(BadEvent) as refused:
        parse(body, number=number)
    return str(refused.value)


def rejected(header: str | None, *, now: datetime = NOW) -> str:
    with pytest.raises(EventRejected) as refused:
        verify(header, BODY, [SECRET], now=now)
    return str(refused.value)


# --- signatures -------------------------------------------------------------------------------
def test_the_signature_is_the_hmac_sha256_of_timestamp_dot_body_as_openssl_computes_it() -> None:
    # printf '%s.' 1741966200; cat body | openssl dgst -sha256 -hmac 'example-secret-0123456789'
    expected = "a8a7a45034396fc0911635fb8ace7c52fe21d37342f4c1d9f12c78158f7306cb"
    assert signature("example-secret-0123456789", 1741966200, BODY) == expected


def test_a_body_signed_with_the_secret_within_five_minutes_passes() -> None:
    verify(signature_header(SECRET, T - 299, BODY), BODY, [SECRET], now=NOW)
    verify(signature_header(SECRET, T + 299, BODY), BODY, [SECRET], now=NOW)


def test_a_missing_header_is_rejected() -> None:
    assert "missing" in rejected(None)
    assert "missing" in rejected("")


def test_a_forged_signature_or_another_body_is_rejected() -> None:
    assert "no v1" in rejected(f"t={T},v1={'0' * 64}")
    assert "no v1" in rejected(signature_header("another-secret-entirely", T, BODY))
    assert "no v1" in rejected(signature_header(SECRET, T, BODY + b" "))


def test_a_signature_over_five_minutes_old_or_ahead_is_rejected() -> None:
    assert "timestamp" in rejected(signature_header(SECRET, T - 301, BODY))
    assert "timestamp" in rejected(signature_header(SECRET, T + 301, BODY))


@pytest.mark.parametrize(
    "header",
    [
        "v1=abc",
        "t=abc,v1=abc",
        f"t={T},t={T},v1=abc",
        f"t={T}",
        f"t={T},v0=abc",
        "t=²,v1=abc",
        f"t={T},v1=é",
    ],
)
def test_a_malformed_header_is_rejected(header: str) -> None:
    assert "header" in rejected(header)


def test_any_of_several_v1_values_and_the_previous_secret_are_accepted() -> None:
    old = signature(OLD_SECRET, T, BODY)
    header = f"t={T},v1={'f' * 64},v1={old}"
    verify(header, BODY, [SECRET, OLD_SECRET], now=NOW)
    with pytest.raises(EventRejected):
        verify(header, BODY, [SECRET], now=NOW)  # once the old secret is retired


# --- parsing ----------------------------------------------------------------------------------
def test_an_issued_invoice_is_parsed_with_its_account_in_e164() -> None:
    parsed = parse(
        event("invoice.issued", {"account": "(202) 555-0101", "invoice": "I-1"}), number=number
    )
    assert (parsed.id, parsed.type, parsed.created) == ("evt_1", "invoice.issued", T)
    assert parsed.data == InvoiceIssued(ALEX, "I-1")


def test_a_payment_is_parsed_into_money_with_the_default_provider() -> None:
    data = {"account": ALEX, "amount": "12.30", "currency": "USD", "reference": "ch_1"}
    parsed = parse(event("payment.succeeded", data), number=number)
    assert parsed.data == PaymentSucceeded(ALEX, None, Money(1230, "USD"), "ch_1", "events")


def test_a_payment_may_name_its_provider_and_invoice() -> None:
    data = {
        "account": ALEX,
        "invoice": "I-1",
        "amount": "5",
        "currency": "USD",
        "reference": "pi_1",
        "provider": "stripe",
    }
    parsed = parse(event("payment.succeeded", data), number=number)
    assert parsed.data == PaymentSucceeded(ALEX, "I-1", Money(500, "USD"), "pi_1", "stripe")


@pytest.mark.parametrize(
    ("amount", "reason"),
    [
        ("0", "must be positive"),
        ("-1.00", "must be positive"),
        ("abc", "not a number"),
        ("NaN", "must be positive"),
        ("1.234", "more decimals than USD"),
        (12.5, "decimal string"),
        ("1e12", "below a billion"),
    ],
)
def test_a_bad_amount_is_refused_with_its_reason(amount: Any, reason: str) -> None:
    data = {"account": ALEX, "amount": amount, "currency": "USD", "reference": "r"}
    assert reason in bad(event("payment.succeeded", data))


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"\xff\xfe", "not UTF-8 JSON"),
        (b'{"id": NaN}', "not UTF-8 JSON"),
        (b"[1]", "body must be a JSON object"),
        (event("refund.created", {}), "unknown type 'refund.created'"),
        (event("invoice.issued", {}, id="x" * 201), "id must be at most 200"),
        (event("invoice.issued", {}, id=7), "id must be a non-empty string"),
        (event("invoice.issued", {}, id="a\nb"), "printable"),
        (event("invoice.issued", {}, created="yesterday"), "created must be a unix timestamp"),
        (event("invoice.issued", {}, created=True), "created must be a unix timestamp"),
        (event("invoice.issued", None), "data must be a JSON object"),
        (event("invoice.issued", {"invoice": "I-1"}), "data.account must be"),
        (event("invoice.issued", {"account": "hello", "invoice": "I"}), "data.account must be"),
        (event("invoice.issued", {"account": ALEX, "invoice": ""}), "data.invoice must be"),
        (
            event("payment.succeeded", {"account": ALEX, "amount": "1", "currency": "US"}),
            "data.currency",
        ),
        (
            event("payment.succeeded", {"account": ALEX, "amount": "1", "currency": "USD"}),
            "data.reference",
        ),
        (event("usage.recorded", {"records": []}), "non-empty list"),
    ],
)
def test_a_bad_body_is_refused_with_a_clear_reason(body: bytes, reason: str) -> None:
    assert reason in bad(body)


def test_a_body_over_one_megabyte_is_refused() -> None:
    assert "larger than 1024 KB" in bad(b" " * (MAX_BODY_BYTES + 1))


# --- usage records: the CSV's contract and validator ------------------------------------------
def record(**fields: Any) -> dict[str, Any]:
    base = {
        "msisdn": ALEX,
        "at": "2025-03-01T14:05:00Z",
        "kind": "data",
        "quantity": "250",
        "unit": "MB",
        "charge": "",
    }
    return {**base, **fields}


def usage(*records: Any) -> bytes:
    return event("usage.recorded", {"records": list(records)})


def test_usage_records_become_the_rows_the_csv_import_makes() -> None:
    csv = parse_usage_csv([",".join(COLUMNS), f"{ALEX},2025-03-01T14:05:00Z,data,250,MB,"])
    parsed = parse(usage(record()), number=number)

    assert isinstance(parsed.data, UsageRecorded)
    [row] = parsed.data.rows
    assert row.line_number == 0  # the record's index
    assert row.source_id == csv.rows[0].source_id  # the same record, whichever way it came


def test_json_numbers_and_a_null_charge_are_read_exactly() -> None:
    fields = '"msisdn": "+12025550101", "at": "2025-03-01T14:05:00Z", "kind": "data", "unit": "GB"'
    data = f'{{"records": [{{{fields}, "quantity": 1.10, "charge": null}}]}}'
    body = f'{{"id": "e", "type": "usage.recorded", "created": 1, "data": {data}}}'.encode()

    parsed = parse(body, number=number)

    assert isinstance(parsed.data, UsageRecorded)
    [row] = parsed.data.rows
    assert (row.quantity, row.charge, row.amount) == (Decimal("1.10"), None, 1127)


def test_every_bad_record_is_named_by_its_index_with_the_csv_reason() -> None:
    reason = bad(
        usage(
            record(),
            record(unit="min"),
            record(quantity="-1"),
            "a string",
            record(extra="x"),
            {"msisdn": ALEX},
            record(kind=True),
        )
    )
    assert reason.startswith("6 bad records, nothing applied: ")
    assert "records[1]: unit min does not fit kind data (use MB or GB)" in reason
    assert "records[2]: quantity -1 must be positive" in reason
    assert "records[3]: must be an object" in reason
    assert "records[4]: unknown 'extra'" in reason
    assert "records[5]: missing at, kind, quantity, unit, charge" in reason
    assert "records[6]: kind must be a string" in reason
    assert "records[0]" not in reason


def test_the_csv_and_the_event_say_the_same_about_a_bad_record() -> None:
    csv = parse_usage_csv([",".join(COLUMNS), f"{ALEX},2025-03-01,data,250,MB,"])
    event_reason = bad(usage(record(at="2025-03-01")))
    assert csv.problems[0].reason in event_reason


def test_only_the_first_twenty_problems_are_listed() -> None:
    reason = bad(usage(*[record(unit="GBs")] * 25))
    assert len(re.findall(r"records\[\d+\]", reason)) == 20
    assert reason.endswith("… and 5 more")


# --- where the receipt goes -------------------------------------------------------------------
ACCOUNT = Account(7, "Sam Lee", "sam@example.com", "en_US", "America/Chicago", "USD", "postpaid")


def line(msisdn: str, holder: str) -> Line:
    return Line(1, 7, msisdn, "89", holder, "Family", "active")


def test_the_holders_own_line_is_the_accounts_number_else_the_first() -> None:
    jordan, sam = line("+12025550103", "Jordan Lee"), line("+12025550102", "Sam Lee")
    assert holder_phone(ACCOUNT, [jordan, sam]) == "+12025550102"
    assert holder_phone(ACCOUNT, [jordan]) == "+12025550103"
    assert holder_phone(ACCOUNT, []) is None


@pytest.mark.parametrize(
    ("chosen", "phone", "chats", "expected"),
    [
        (None, ALEX, [], ("sms", ALEX)),
        ("whatsapp", ALEX, [], ("whatsapp", ALEX)),
        ("telegram", ALEX, ["42"], ("telegram", "42")),
        ("telegram", ALEX, [], ("sms", ALEX)),  # no linked chat: their number
        ("email", ALEX, [], ("email", "a@example.com")),
        (None, None, [], ("email", "a@example.com")),
    ],
)
def test_the_receipt_goes_where_the_alert_scan_would_send_an_alert(
    chosen: str | None, phone: str | None, chats: list[str], expected: tuple[str, str]
) -> None:
    assert choose(chosen, phone, "a@example.com", chats) == expected


def test_nothing_reaches_an_account_without_a_number_or_email() -> None:
    assert choose(None, None, "", []) is None


def test_the_receipt_text_has_the_same_placeholders_in_every_language() -> None:
    for case in texts.PAYMENT_RECEIVED.values():
        fields = [
            {name for _, name, _, _ in string.Formatter().parse(text) if name}
            for text in case.values()
        ]
        assert set(case) == {"en", "es"} and fields[0] == fields[1]


# --- settings ---------------------------------------------------------------------------------
def settings(**env: str) -> Settings:
    return Settings.from_env({"BILLBOT_ENV_FILE": "/nonexistent.env", "BILLBOT_DEMO": "1", **env})


def test_the_events_secrets_are_read_from_the_environment_and_kept_out_of_repr() -> None:
    read = settings(BILLBOT_EVENTS_SECRET=SECRET, BILLBOT_EVENTS_SECRET_PREVIOUS=OLD_SECRET)
    assert (read.events_secret, read.events_secret_previous) == (SECRET, OLD_SECRET)
    assert SECRET not in repr(read) and OLD_SECRET not in repr(read)
    assert settings().events_secret == ""  # the endpoint is off


@pytest.mark.parametrize(
    ("env", "reason"),
    [
        ({"BILLBOT_EVENTS_SECRET": "short"}, "at least 16"),
        ({"BILLBOT_EVENTS_SECRET": SECRET, "BILLBOT_EVENTS_SECRET_PREVIOUS": "x"}, "_PREVIOUS"),
        ({"BILLBOT_EVENTS_SECRET_PREVIOUS": OLD_SECRET}, "needs BILLBOT_EVENTS_SECRET"),
    ],
)
def test_unsafe_events_secrets_are_refused(env: dict[str, str], reason: str) -> None:
    with pytest.raises(SettingsError, match=reason):
        settings(**env)


def test_a_skewed_clock_is_measured_in_seconds_not_minutes() -> None:
    later = NOW + timedelta(seconds=300)
    verify(signature_header(SECRET, T, BODY), BODY, [SECRET], now=later)
    assert "timestamp" in rejected(
        signature_header(SECRET, T, BODY), now=later + timedelta(seconds=1)
    )
