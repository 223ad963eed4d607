"""billbot's access log: method, path without tokens or query, status, duration."""

from __future__ import annotations

import logging

import httpx
import pytest

ACCESS = "billbot.access"


async def test_each_request_is_logged_once_with_its_status_and_duration(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=ACCESS)
    assert (await client.get("/healthz")).status_code == 200
    [record] = [r for r in caplog.records if r.name == ACCESS]
    method, path, status, duration = record.getMessage().split(" ")
    assert (method, path, status) == ("GET", "/healthz", "200")
    assert duration.endswith("ms")
    assert float(duration.removesuffix("ms")) >= 0


async def test_tokens_in_pay_and_invoice_paths_and_query_strings_are_never_logged(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=ACCESS)
    await client.get("/pay/not-a-real-token-0123456789/qr.png")
    await client.get("/invoices/another-token-9876543210")
    await client.get("/healthz?hub.verify_token=query-secret-42")
    lines = [r.getMessage() for r in caplog.records if r.name == ACCESS]
    assert [line.rsplit(" ", 1)[0] for line in lines] == [
        "GET /pay/…/qr.png 404",
        "GET /invoices/… 404",
        "GET /healthz 200",
    ]


async def test_nothing_is_logged_or_timed_when_the_access_log_is_off(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger=ACCESS)
    assert (await client.get("/healthz")).status_code == 200
    assert [r for r in caplog.records if r.name == ACCESS] == []
