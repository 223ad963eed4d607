"""BILLBOT_OPERATOR_CONFIG as chat honours it, through the real engine, NLU and database:
switched-off intents are refused with the operator's contacts and left off the menu, and the
SMS HELP answer names the operator and its contacts in the customer's language."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.bootstrap import build_services
from bot.channel import Parsed
from bot.clock import FakeClock
from bot.keywords import SMS, Keywords
from bot.nlu import NluModel
from bot.services import Services
from bot.settings import Settings
from bot.types import InboundMessage, Reply
from tests.helpers import TEST_SECRET

ALEX, MARIA = "+12025550101", "+12025550104"
_ids = itertools.count(1)
CONFIG = """\
name: Acme Mobile
address: [1 Main Street, Springfield]
support: {phone: "+1 202 555 0188", email: care@acme.example, hours: "Mon–Sat 8–20"}
features: {usage: false, invoices: false, autopay: false, plan_changes: false,
           contact_changes: false}
"""


@pytest.fixture
async def acme(
    demo_db_url: str, clock: FakeClock, nlu_model: NluModel, tmp_path: Path
) -> AsyncIterator[Services]:
    """The demo data served by an operator that keeps usage and invoices off chat."""
    config = tmp_path / "operator.yml"
    config.write_text(CONFIG, encoding="utf-8")
    settings = Settings(
        database_url=demo_db_url, demo=True, secret_key=TEST_SECRET, operator_config=str(config)
    )
    built = await build_services(settings, clock=clock, nlu=nlu_model)
    yield built
    await built.close()


@dataclass(frozen=True)
class SmsWebhook:
    """The part of the Twilio SMS channel the inbox reads: its compliance keywords."""

    name: str = "sms"
    keywords: Keywords = SMS


async def say(services: Services, text: str, phone: str = ALEX) -> Reply:
    message = InboundMessage(
        "web", f"session-{phone}", text, f"ot{next(_ids)}", datetime.now(UTC), as_phone=phone
    )
    return (await services.conversations.handle(message))[-1]


async def text_in(services: Services, text: str, phone: str) -> str:
    """`text` sent by SMS through the inbox; the answer that was queued back to `phone`."""
    message = InboundMessage(
        "sms", phone, text, f"SM{next(_ids)}", datetime.now(UTC), as_phone=phone
    )
    await services.inbox.receive(SmsWebhook(), Parsed(messages=(message,)))  # type: ignore[arg-type]
    [answer] = [e for e in await services.outbox.list() if e.recipient == phone]
    return answer.text


async def test_usage_switched_off_names_the_operators_contacts(acme: Services) -> None:
    reply = await say(acme, "how much data have I used")

    assert "checking your usage isn't available in this chat" in reply.text
    assert "Acme Mobile support can help" in reply.text
    assert "+1 202 555 0188 (Mon–Sat 8–20)" in reply.text and "care@acme.example" in reply.text
    assert "GB" not in reply.text


async def test_invoices_switched_off_are_refused_in_spanish(acme: Services) -> None:
    reply = await say(acme, "mándame mi factura", MARIA)

    assert "consultar las facturas no está disponible" in reply.text
    assert "llama al +1 202 555 0188" in reply.text
    assert reply.link is None


async def test_the_menu_offers_only_what_the_operator_allows(acme: Services) -> None:
    reply = await say(acme, "menu")
    values = [option.value for option in reply.options]
    while values[-1].startswith("menu:") and values[-1] != "menu:1":  # "More…": every page
        reply = await say(acme, str(len(reply.options)))
        values += [option.value for option in reply.options]

    assert "intent:usage" not in values and "intent:invoice" not in values
    assert "intent:balance" in values and "intent:web_login" in values


async def test_the_same_questions_are_answered_when_the_features_are_on(
    demo_services: Services,
) -> None:
    usage = await say(demo_services, "how much data have I used")
    invoice = await say(demo_services, "send me my invoices")

    assert "41.5 GB" in usage.text
    assert invoice.link is not None and "/signin/link/" in invoice.link


async def test_sms_help_names_the_configured_operator_and_contacts(acme: Services) -> None:
    answer = await text_in(acme, "HELP", ALEX)

    assert answer.startswith("Acme Mobile billing help")
    assert "call +1 202 555 0188 (Mon–Sat 8–20) or email care@acme.example" in answer
    assert "Reply STOP to opt out" in answer


async def test_sms_help_is_in_the_customers_language(acme: Services) -> None:
    answer = await text_in(acme, "HELP", MARIA)

    assert answer.startswith("Ayuda de Acme Mobile")
    assert "llama al +1 202 555 0188 (Mon–Sat 8–20) o escribe a care@acme.example" in answer


async def test_sms_help_without_a_config_file_names_the_default_operator(
    demo_services: Services,
) -> None:
    answer = await text_in(demo_services, "HELP", ALEX)

    assert answer.startswith("billbot billing help") and "STOP" in answer
    assert demo_services.operator.support.email in answer
