"""Prepaid low-balance alerts on both databases: told once per drop under the customer's
level, in their language; a top-up starts the next one."""

from __future__ import annotations

from datetime import timedelta

import pytest

from billing_client import Money
from billing_client.sql.models import PrepaidTransaction
from bot.clock import FakeClock
from bot.services import Services

MARIA = "+12025550104"


@pytest.fixture
def services(demo_services: Services) -> Services:
    return demo_services


@pytest.fixture
async def maria(services: Services, clock: FakeClock) -> int:
    """María's account, at 13:00 in Madrid (outside her quiet hours)."""
    now = clock.now()
    clock.advance(seconds=((now.replace(hour=12, minute=0) - now) % timedelta(days=1)).seconds)
    account = await services.billing.find_account_by_msisdn(MARIA)
    assert account is not None
    return account.id


async def spend(services: Services, account_id: int, minor: int) -> None:
    async with services.sessions() as session, session.begin():
        session.add(
            PrepaidTransaction(
                account_id=account_id,
                kind="usage",
                description="Data",
                amount_minor=-minor,
                currency="USD",
                at=services.clock.now(),
            )
        )


async def low_balance_alerts(services: Services) -> list[str]:
    return [e.text for e in await services.outbox.list() if e.kind == "low_balance"]


async def test_the_demo_balance_is_above_the_level(services: Services, maria: int) -> None:
    decisions = await services.alerts.run_once()
    assert not [d for d in decisions if d.kind == "low_balance"]


async def test_a_balance_under_the_level_is_told_once_in_spanish(
    services: Services, maria: int
) -> None:
    await spend(services, maria, 900)  # 12.50 → 3.50

    first = await services.alerts.run_once()
    again = await services.alerts.run_once(account_ids={maria})

    [told] = [d for d in first if d.kind == "low_balance"]
    assert told.outcome == "queued" and told.message and told.message.address == MARIA
    assert [d.outcome for d in again if d.kind == "low_balance"] == ["already queued"]
    [text] = await low_balance_alerts(services)
    assert "tu saldo de prepago es de 3,50" in text and "5,00" in text


async def test_a_top_up_starts_the_next_drop(services: Services, maria: int) -> None:
    await spend(services, maria, 900)
    await services.alerts.run_once()
    await services.billing.record_payment(
        maria,
        None,
        Money(1000, "USD"),
        provider="test",
        provider_reference="top-up-1",
        now=services.clock.now(),
    )
    assert not [d for d in await services.alerts.run_once() if d.kind == "low_balance"]

    await spend(services, maria, 1000)  # 13.50 → 3.50 again
    await services.alerts.run_once()

    assert len(await low_balance_alerts(services)) == 2
