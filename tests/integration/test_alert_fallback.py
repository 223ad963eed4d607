"""An alert that fails for good on the customer's channel goes to the next one, once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta

import pytest

from bot.alerts.fallback import fallback_key, tried_channels
from bot.alerts.preferences import AlertSettingsStore
from bot.bootstrap import build_services
from bot.clock import FakeClock
from bot.nlu import NluModel
from bot.outbox import DeliveryError
from bot.services import Services
from bot.settings import Settings
from tests.helpers import TEST_SECRET
from tests.integration.outbox_fakes import FakeSender

ALEX = "+12025550101"
NOT_ON_WHATSAPP = DeliveryError("63003: not a WhatsApp number", permanent=True)


@pytest.fixture
def senders() -> dict[str, FakeSender]:
    return {
        "whatsapp": FakeSender(refuse={ALEX: NOT_ON_WHATSAPP}),
        "sms": FakeSender(),
        "telegram": FakeSender(),
    }


@pytest.fixture
async def services(
    demo_db_url: str, clock: FakeClock, nlu_model: NluModel, senders: dict[str, FakeSender]
) -> AsyncIterator[Services]:
    settings = Settings(
        database_url=demo_db_url, demo=True, secret_key=TEST_SECRET, delivery="live"
    )
    built = await build_services(settings, clock=clock, nlu=nlu_model, senders=senders)
    yield built
    await built.close()


async def test_a_whatsapp_alert_that_cannot_be_delivered_goes_by_sms_once(
    services: Services, clock: FakeClock, senders: dict[str, FakeSender]
) -> None:
    now = clock.now()
    clock.advance(seconds=((now.replace(hour=17, minute=0) - now) % timedelta(days=1)).seconds)
    alex = await services.billing.find_account_by_msisdn(ALEX)
    assert alex is not None
    prefs = await AlertSettingsStore(services.sessions).get(alex.id)
    await AlertSettingsStore(services.sessions).save(
        alex.id, replace(prefs, channel="whatsapp"), now=clock.now()
    )

    await services.alerts.run_once()
    for _ in range(3):
        await services.outbox.deliver_due()

    entries = await services.outbox.list()
    rows = [e for e in entries if e.kind == "usage_threshold" and e.account_id == alex.id]
    failed = [e for e in rows if e.channel == "whatsapp"]
    assert failed and {e.status for e in failed} == {"failed"}
    fell_back = [e for e in rows if e.channel == "sms"]
    assert len(fell_back) == len(failed) and {e.status for e in fell_back} == {"sent"}
    to_alex = [sent for sent in senders["sms"].sent if sent.address == ALEX]
    assert sorted(s.texts for s in to_alex) == sorted(
        tuple(r.text for r in e.replies) for e in failed
    )


def test_the_fallback_chain_names_every_channel_tried() -> None:
    first = fallback_key("alert:bill_due:7:INV-1:3", "whatsapp", "sms")
    second = fallback_key(first, "sms", "email")
    assert second == "alert:bill_due:7:INV-1:3:from:whatsapp:then:sms:then:email"
    assert tried_channels(second) == {"whatsapp", "sms", "email"}
    assert tried_channels("alert:bill_due:7:INV-1:3") == set()
