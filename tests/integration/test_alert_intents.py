"""The customer's own controls in chat, through the engine with the real NLU and database:
`alerts` (which, where, quiet hours), `bill_limit` (set, change, remove; notice or bar) and
`continue_service` (CONTINUE after the cap barred chargeable use)."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from datetime import UTC, datetime, time

import pytest

from bot.alerts.preferences import AlertSettingsStore
from bot.bootstrap import build_services
from bot.clock import FakeClock
from bot.nlu import NluModel
from bot.services import Services
from bot.settings import Settings
from bot.types import InboundMessage, Reply

ALEX, SAM, MARIA = "+12025550101", "+12025550102", "+12025550104"
_ids = itertools.count(1)


@pytest.fixture
async def services(
    demo_db_url: str, nlu_model: NluModel, now: datetime
) -> AsyncIterator[Services]:
    settings = Settings(database_url=demo_db_url, demo=True, secret_key="alert-intents-key-0123")
    built = await build_services(settings, clock=FakeClock(now), nlu=nlu_model)
    yield built
    await built.close()


async def say(services: Services, text: str, phone: str = SAM) -> str:
    message = InboundMessage(
        "web", f"session-{phone}", text, f"m{next(_ids)}", datetime.now(UTC), as_phone=phone
    )
    replies = await services.conversations.handle(message)
    return "\n".join(_render(reply) for reply in replies)


def _render(reply: Reply) -> str:
    options = [f"{n}. {o.label}" for n, o in enumerate(reply.options, 1)]
    return "\n".join([reply.text, *options])


async def account_id(services: Services, phone: str = SAM) -> int:
    account = await services.billing.find_account_by_msisdn(phone)
    assert account is not None
    return account.id


# --- bill_limit -------------------------------------------------------------------------------
async def test_the_cap_is_shown_with_the_charges_so_far_and_the_choices(
    services: Services,
) -> None:
    text = await say(services, "whats my spending limit")
    assert "Your spending limit is $150.00. Charges so far this cycle: $6.00 (4%)" in text
    assert "I warn you at 80%, and at the limit I send you a notice." in text
    assert "1. Change the amount\n2. Bar use at the limit\n3. Remove the limit" in text


async def test_raise_sets_a_new_cap_after_a_yes_and_is_audited(services: Services) -> None:
    question = await say(services, "RAISE 200")
    assert "Set your spending limit to $200.00?" in question
    done = await say(services, "yes")
    assert "Done. Your spending limit is $200.00" in done
    limit = await services.billing.get_bill_limit(
        await account_id(services), now=datetime.now(UTC)
    )
    assert limit.limit is not None and limit.limit.minor == 20000
    [entry] = await services.billing.list_audit(limit=1)
    assert (entry.action, entry.actor) == ("bill_limit_set", "customer:web")


async def test_barring_is_explained_before_it_is_turned_on(services: Services) -> None:
    question = await say(services, "block my line if i go over my limit")
    assert "bar chargeable use" in question and "Calls to emergency numbers" in question
    assert "Turn this on?" in question
    await say(services, "no")
    limit = await services.billing.get_bill_limit(
        await account_id(services), now=datetime.now(UTC)
    )
    assert limit.action == "notice"


async def test_a_cap_already_passed_bars_at_once_and_continue_lifts_it(
    services: Services,
) -> None:
    await say(services, "cap my bill at 5 dollars and cut me off when i reach it")
    done = await say(services, "yes")
    assert "Chargeable use is barred on" in done and "reply CONTINUE" in done
    sam = await account_id(services)
    assert {line.status for line in await services.billing.list_lines(sam)} == {"barred"}

    back = await say(services, "CONTINUE")

    assert "Done: chargeable use is back on for" in back
    assert "I won't bar it again this cycle." in back
    assert {line.status for line in await services.billing.list_lines(sam)} == {"active"}
    told = [e for e in await services.outbox.list() if e.kind == "line_unbarred"]
    assert {(e.channel, e.recipient) for e in told} == {
        ("email", "sam.lee@example.com"),
        ("sms", SAM),
    }
    actions = [e.action for e in await services.billing.list_audit(limit=10)]
    assert "bill_limit_continue" in actions


async def test_removing_the_cap_asks_first(services: Services) -> None:
    assert "Remove your $150.00 spending limit?" in await say(services, "remove my spending limit")
    assert "no longer have a spending limit" in await say(services, "yes")


async def test_continue_with_nothing_barred_changes_nothing(services: Services) -> None:
    text = await say(services, "continue")
    assert "Nothing is barred by your spending limit: your charges are $6.00 of $150.00." in text
    assert "You don't have a spending limit" in await say(services, "continue", ALEX)


async def test_a_prepaid_customer_is_told_in_spanish_why_there_is_no_cap(
    services: Services,
) -> None:
    text = await say(services, "quiero poner un límite de gasto en mi factura", MARIA)
    assert "Tienes prepago" in text


# --- alerts -----------------------------------------------------------------------------------
async def test_the_alert_settings_are_shown_with_the_choices(services: Services) -> None:
    text = await say(services, "notification settings")
    assert "Your alerts, by SMS to your number:" in text
    assert "Usage warnings: on (at 80%, 100%)" in text
    assert "Quiet hours: 21:00–08:00" in text
    assert "1. Turn alerts on or off\n2. Change the channel\n3. Quiet hours" in text


async def test_a_customer_turns_data_warnings_off_and_back_on(services: Services) -> None:
    assert "Usage warnings: off" in await say(services, "stop sending me data warnings")
    prefs = await AlertSettingsStore(services.sessions).get(await account_id(services))
    assert not prefs.wants("usage_threshold") and prefs.wants("bill_due")
    assert "Usage warnings: on" in await say(services, "turn data alerts back on")


async def test_quiet_hours_and_channel_are_changed_by_saying_so(services: Services) -> None:
    assert "Quiet hours: 22:00–07:00" in await say(services, "quiet hours 10pm to 7am")
    assert "Your alerts, by WhatsApp:" in await say(services, "send my alerts on whatsapp")
    prefs = await AlertSettingsStore(services.sessions).get(await account_id(services))
    assert (prefs.channel, prefs.quiet_start, prefs.quiet_end) == ("whatsapp", time(22), time(7))


async def test_telegram_needs_a_linked_chat(services: Services) -> None:
    assert "no Telegram chat linked" in await say(services, "i want my alerts on telegram")
    prefs = await AlertSettingsStore(services.sessions).get(await account_id(services))
    assert prefs.channel is None


async def test_alerts_are_switched_from_the_numbered_list(services: Services) -> None:
    await say(services, "notification settings")
    listed = await say(services, "1")
    assert "Payment receipts (on)" in listed
    assert "Payment receipts: off" in await say(services, "6")
