"""`outage.started` / `outage.cleared` through `POST /api/events` (SQLite, then PostgreSQL):
the billing system's outage is added once by its id, shown by `diagnostics` to the customers
served in its area, and cleared by the same id."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from bot.bootstrap import build_services
from bot.clock import FakeClock
from bot.nlu import NluModel
from bot.services import Services
from bot.types import InboundMessage
from tests.helpers import client_for
from tests.integration.test_events import body_of, event_settings, post

ALEX = "+12025550101"
STARTED = {
    "outage": "OUT-77",
    "area": "Midtown Manhattan",
    "kind": "broadband",
    "message": "Fibre cut on Fifth Avenue; crews are splicing it.",
    "expected_end": "2099-01-01T18:00:00+00:00",
}


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


async def _diagnose(services: Services, external_id: str) -> str:
    message = InboundMessage(
        "web", "session-alex", "is my internet down", external_id, datetime.now(UTC), as_phone=ALEX
    )
    return (await services.conversations.handle(message))[-1].text


async def test_an_outage_is_added_once_shown_to_customers_there_and_cleared(
    client: httpx.AsyncClient, services: Services, clock: FakeClock
) -> None:
    started = await post(client, clock, body_of("evt_o1", "outage.started", STARTED))
    again = await post(client, clock, body_of("evt_o1b", "outage.started", STARTED))

    assert started.status_code == 200, started.text
    assert again.status_code == 200 and again.json()["outage"] == started.json()["outage"]
    assert len(await services.billing.list_outages(now=clock.now())) == 2  # with the demo one
    assert "Fibre cut on Fifth Avenue" in await _diagnose(services, "d1")

    cleared = await post(client, clock, body_of("evt_o2", "outage.cleared", {"outage": "OUT-77"}))

    assert cleared.status_code == 200, cleared.text
    assert cleared.json()["outage"] == started.json()["outage"]
    assert "Fibre cut" not in await _diagnose(services, "d2")


@pytest.mark.parametrize(
    ("data", "says"),
    [
        ({**STARTED, "kind": "satellite"}, "data.kind must be one of mobile, broadband"),
        ({**STARTED, "expected_end": "tomorrow"}, "data.expected_end must be an ISO 8601"),
        ({**STARTED, "expected_end": "2099-01-01T18:00:00"}, "with a time zone"),
        ({k: v for k, v in STARTED.items() if k != "area"}, "data.area must be"),
    ],
)
async def test_a_bad_outage_is_400(
    client: httpx.AsyncClient, clock: FakeClock, data: dict[str, Any], says: str
) -> None:
    response = await post(client, clock, body_of("evt_bad", "outage.started", data))

    assert response.status_code == 400 and says in response.text


async def test_clearing_an_unknown_outage_is_422(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    body = body_of("evt_x", "outage.cleared", {"outage": "never-started"})

    response = await post(client, clock, body)

    assert response.status_code == 422 and "unknown outage" in response.text


async def test_an_end_before_the_start_is_422(client: httpx.AsyncClient, clock: FakeClock) -> None:
    data = {**STARTED, "expected_end": "2000-01-01T00:00:00+00:00"}

    response = await post(client, clock, body_of("evt_past", "outage.started", data))

    assert response.status_code == 422 and "after the outage started" in response.text
