"""plan_change, add_on and top_up end to end: the real engine, NLU and database (SQLite and
PostgreSQL), the demo customers, the pay page for top-ups, the operator's toggle and failures
in the middle of a flow. Figures are worked out by hand in the comments (see
tests/integration/test_plans_core.py for the cycles at `FIXED_NOW`)."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import select

from billing_client import BillingUnavailableError, Line, Money, PlanChangeResult
from billing_client.sql.client import SqlBillingClient
from billing_client.sql.database import create_engine, session_factory
from billing_client.sql.models import Charge, LineAddOn, PlanChange
from bot.bootstrap import build_services
from bot.clock import FakeClock
from bot.nlu import NluModel
from bot.payments import Settled
from bot.payments.fulfilment import settle
from bot.services import Services
from bot.settings import Settings
from bot.types import InboundMessage, Reply
from scheduler.runner import Scheduler
from tests.helpers import TEST_SECRET, pay_through_page

ALEX, SAM, MARIA = "+12025550101", "+12025550102", "+12025550104"
_ids = itertools.count(1)


async def chat(
    services: Services, text: str, phone: str, *, session: str = "", external_id: str = ""
) -> list[Reply]:
    message = InboundMessage(
        "web",
        session or f"web-{phone}",
        text,
        external_id or f"plan-{next(_ids)}",
        datetime.now(UTC),
        as_phone=phone,
    )
    return await services.conversations.handle(message)


async def say(services: Services, text: str, phone: str, **kwargs: str) -> str:
    return "\n".join(reply.text for reply in await chat(services, text, phone, **kwargs))


async def changes(services: Services) -> list[PlanChange]:
    async with services.sessions() as session:
        return list((await session.scalars(select(PlanChange).order_by(PlanChange.id))).all())


async def charges(services: Services, source: str) -> list[Charge]:
    async with services.sessions() as session:
        query = select(Charge).where(Charge.source_id.like(f"{source}:%"))
        return list((await session.scalars(query)).all())


async def balance(services: Services, phone: str) -> Money | None:
    account = await services.billing.find_account_by_msisdn(phone)
    assert account is not None
    now = services.clock.now()
    return (await services.billing.get_balance(account.id, now=now)).prepaid_balance


# --- plan_change --------------------------------------------------------------------------------
async def test_alex_upgrades_now_with_the_prorated_charge_in_the_question(
    demo_services: Services,
) -> None:
    listed = await say(demo_services, "i want to upgrade my plan", ALEX)
    assert "Unlimited 100: $75.00 a month; 100 GB data" in listed
    # $75 − $55 = $20.00 × 20 days left / 31 days = $12.9032… → $12.90
    assert "From today: $12.90 for the 20 days left in this cycle." in listed
    question = await say(demo_services, "2", ALEX)
    assert "you're charged $12.90 (20/31 of the $20.00 difference)" in question
    done = await say(demo_services, "yes", ALEX)
    assert "is on Unlimited 100 from today. $12.90 goes on your next bill." in done
    [change] = await changes(demo_services)
    assert (change.status, change.charge_minor) == ("applied", 1290)
    [charge] = await charges(demo_services, "plan_change")
    assert charge.amount_minor == 1290
    usage = await say(demo_services, "how much data do i have left", ALEX)
    assert "41.5 GB of 100 GB used (41%)" in usage


async def test_alex_downgrades_from_his_next_cycle(demo_services: Services) -> None:
    await say(demo_services, "switch me to a cheaper plan", ALEX)
    question = await say(demo_services, "1", ALEX)
    assert "to Essentials 10 on April 3, 2025, when your next cycle starts?" in question
    done = await say(demo_services, "yes", ALEX)
    assert "changes to Essentials 10 on April 3, 2025. Nothing to pay now." in done
    [change] = await changes(demo_services)
    assert (change.status, str(change.effective_on)) == ("pending", "2025-04-03")
    assert await charges(demo_services, "plan_change") == []


async def test_sam_corrects_the_line_and_jordans_plan_changes(demo_services: Services) -> None:
    assert "Which line is it for?" in await say(demo_services, "change my plan", SAM)
    await say(demo_services, "1", SAM)  # Sam's own line
    question = await say(demo_services, "2", SAM)  # Family 2×40
    assert "(Sam Lee) from Family 2×20 to Family 2×40 today?" in question
    # $60 − $45 a line = $15.00 × 2 days left / 28 days = $1.0714… → $1.07
    assert "$1.07 (2/28 of the $15.00 difference)" in question
    corrected = await say(demo_services, "no, the other line", SAM)
    assert "(Jordan Lee) from Family 2×20 to Family 2×40 today?" in corrected
    await say(demo_services, "yes", SAM)
    lines = {line.holder_name: line.plan_name for line in await _lines(demo_services, SAM)}
    assert lines == {"Sam Lee": "Family 2×20", "Jordan Lee": "Family 2×40"}


async def test_maria_upgrades_in_spanish_from_her_balance(demo_services: Services) -> None:
    listed = await say(demo_services, "quiero cambiar de tarifa", MARIA)
    assert "Prepaid Max: 25,00\xa0US$ al mes" in listed
    question = await say(demo_services, "2", MARIA)
    # $25 − $15 = $10.00 × 10 days left / 30 days = $3.333… → $3.33
    assert "se te cobran 3,33\xa0US$ (10/30 de la diferencia de 10,00\xa0US$)" in question
    done = await say(demo_services, "sí", MARIA)
    assert "se han descontado de tu saldo, que ahora es de 9,17\xa0US$" in done
    assert await balance(demo_services, MARIA) == Money(917, "USD")


async def test_declining_the_change_changes_nothing(demo_services: Services) -> None:
    await say(demo_services, "upgrade my plan", ALEX)
    await say(demo_services, "2", ALEX)
    assert await say(demo_services, "no", ALEX) == (
        "OK, +1 202-555-0101 (Alex Rivera) stays on Unlimited 50."
    )
    assert await changes(demo_services) == []
    assert await charges(demo_services, "plan_change") == []


async def test_two_chats_confirming_the_same_upgrade_at_once_change_it_once(
    demo_services: Services,
) -> None:
    for session in ("chat-a", "chat-b"):
        await say(demo_services, "upgrade my plan", ALEX, session=session)
        assert "$12.90" in await say(demo_services, "2", ALEX, session=session)
    answers = await asyncio.gather(
        say(demo_services, "yes", ALEX, session="chat-a"),
        say(demo_services, "yes", ALEX, session="chat-b"),
    )
    # Whichever reads second: "Done: … is on Unlimited 100" (the core returns the change the
    # first made) or "… is already on Unlimited 100" (it read the line after the change).
    assert all("on Unlimited 100" in answer for answer in answers)
    assert len(await changes(demo_services)) == 1
    assert len(await charges(demo_services, "plan_change")) == 1


# --- add_on -------------------------------------------------------------------------------------
async def test_alex_buys_5_gb_and_usage_shows_it(demo_services: Services) -> None:
    listed = await say(demo_services, "i need more data", ALEX)
    assert "5 GB of extra data: $15.00, until April 2, 2025 (end of this cycle)" in listed
    question = await say(demo_services, "2", ALEX)
    assert "for $15.00? It's a one-off charge on your next bill (before tax)." in question
    done = await say(demo_services, "yes", ALEX)
    assert "Your data allowance this cycle is now 55 GB. $15.00 goes on your next bill." in done
    assert "41.5 GB of 55 GB used (75%)" in await say(demo_services, "data left?", ALEX)


async def test_a_replayed_yes_buys_the_add_on_once(demo_services: Services) -> None:
    await say(demo_services, "roaming pass", ALEX)
    await say(demo_services, "2", ALEX)  # the week pass
    answers = await asyncio.gather(
        say(demo_services, "yes", ALEX, external_id="same-yes"),
        say(demo_services, "yes", ALEX, external_id="same-yes"),
    )
    assert any("Roaming pass for 7 days added" in answer for answer in answers)
    async with demo_services.sessions() as session:
        assert len((await session.scalars(select(LineAddOn))).all()) == 1
    assert len(await charges(demo_services, "add_on")) == 1


async def test_maria_hears_the_shortfall_and_can_top_up_instead(demo_services: Services) -> None:
    await say(demo_services, "bono de datos", MARIA)
    short = await chat(demo_services, "2", MARIA)  # 5 GB for 15,00 US$
    assert short[-1].text.startswith("Cuesta 15,00\xa0US$, pero tu saldo es de 12,50\xa0US$")
    assert [o.value for o in short[-1].options] == ["intent:top_up", "add_on:data-1gb"]
    assert "¿Cuánto quieres recargar?" in await say(demo_services, "1", MARIA)


# --- top_up -------------------------------------------------------------------------------------
async def test_maria_tops_up_through_the_pay_page_once(
    services: Services, client: httpx.AsyncClient
) -> None:
    replies = await chat(services, "quiero recargar 20", MARIA)
    reply = replies[-1]
    assert reply.text.startswith("Recarga de 20,00\xa0US$: paga de forma segura aquí")
    assert reply.link is not None
    path = urlsplit(reply.link).path
    page = await client.get(path)
    assert page.status_code == 200
    assert "Recarga de 20,00" in page.text and "Pagar la factura" not in page.text
    assert (await client.get(f"{path}/qr.png")).status_code == 200
    paid = await pay_through_page(client, path)
    assert "Hemos añadido 20,00" in paid.text
    assert await balance(services, MARIA) == Money(3250, "USD")
    again = await pay_through_page(client, path)
    assert "Hemos añadido 20,00" in again.text
    assert await balance(services, MARIA) == Money(3250, "USD")
    receipts = [m for m in await services.outbox.list() if m.kind == "payment_received"]
    assert len(receipts) == 1
    assert "Tu recarga de 20,00\xa0US$ ya está en tu saldo, que ahora es de 32,50" in (
        receipts[0].text
    )


async def test_the_invoice_pay_page_is_unchanged(
    services: Services, client: httpx.AsyncClient
) -> None:
    reply = (await chat(services, "pay my bill", ALEX))[-1]
    assert reply.link is not None
    page = await client.get(urlsplit(reply.link).path)
    assert "Pay invoice INV-" in page.text and "Top-up" not in page.text


async def test_maria_sets_her_low_balance_warning_in_the_same_chat(
    demo_services: Services,
) -> None:
    await say(demo_services, "recargar 10", MARIA)
    question = await say(demo_services, "avísame cuando me quede menos de 8", MARIA)
    assert question.startswith("¿Te aviso cuando tu saldo baje de 8,00\xa0US$?")
    assert await say(demo_services, "sí", MARIA) == (
        "Hecho: te avisaré cuando tu saldo baje de 8,00\xa0US$."
    )
    account = await demo_services.billing.find_account_by_msisdn(MARIA)
    assert account is not None
    assert await demo_services.billing.get_low_balance_alert(account.id) == Money(800, "USD")


# --- failures and the operator ------------------------------------------------------------------
class FlakyPlans(SqlBillingClient):
    """The real core, whose plan changes fail while `down`."""

    down = False

    async def change_plan(self, *args: object, **kwargs: object) -> PlanChangeResult:
        if self.down:
            raise BillingUnavailableError("billing is down")
        return await super().change_plan(*args, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
async def flaky(
    demo_db_url: str, nlu_model: NluModel, now: datetime
) -> AsyncIterator[tuple[Services, FlakyPlans]]:
    engine = create_engine(demo_db_url)
    billing = FlakyPlans(session_factory(engine))
    settings = Settings(database_url=demo_db_url, demo=True, secret_key=TEST_SECRET)
    built = await build_services(settings, clock=FakeClock(now), nlu=nlu_model, billing=billing)
    yield built, billing
    await built.close()
    await engine.dispose()


async def test_a_billing_error_at_the_confirmation_changes_nothing_and_can_be_retried(
    flaky: tuple[Services, FlakyPlans],
) -> None:
    services, billing = flaky
    await say(services, "upgrade my plan", ALEX)
    await say(services, "2", ALEX)
    billing.down = True
    failed = await say(services, "yes", ALEX, external_id="confirm")
    assert "isn't answering" in failed
    assert await changes(services) == []
    billing.down = False  # the channel retries the same message
    done = await say(services, "yes", ALEX, external_id="confirm")
    assert "is on Unlimited 100 from today" in done
    assert len(await changes(services)) == 1


async def test_an_operator_without_plan_changes_in_chat_refuses_politely(
    demo_db_url: str, clock: FakeClock, nlu_model: NluModel, tmp_path: Path
) -> None:
    config = tmp_path / "operator.yml"
    config.write_text("name: Acme Mobile\nfeatures: {plan_changes: false}\n", encoding="utf-8")
    settings = Settings(
        database_url=demo_db_url, demo=True, secret_key=TEST_SECRET, operator_config=str(config)
    )
    services = await build_services(settings, clock=clock, nlu=nlu_model)
    try:
        text = await say(services, "upgrade my plan", ALEX)
        assert text.startswith("Sorry, changing your plan isn't available in this chat.")
        assert await changes(services) == []
    finally:
        await services.close()


async def _lines(services: Services, phone: str) -> list[Line]:
    account = await services.billing.find_account_by_msisdn(phone)
    assert account is not None
    return await services.billing.list_lines(account.id)


async def test_the_scheduler_applies_a_downgrade_when_the_next_cycle_starts(
    demo_services: Services, clock: FakeClock
) -> None:
    await say(demo_services, "switch me to a cheaper plan", ALEX)
    await say(demo_services, "1", ALEX)
    await say(demo_services, "yes", ALEX)
    follower, leader = Scheduler(demo_services, holder="b"), Scheduler(demo_services, holder="a")
    assert await leader.keep_lease() and not await follower.keep_lease()
    april_3 = datetime(2025, 4, 3, 4, 30, tzinfo=UTC)  # 00:30 on April 3 in New York
    clock.advance(seconds=(april_3 - clock.now()).total_seconds())
    await follower.plan_changes()
    assert [line.plan_name for line in await _lines(demo_services, ALEX)] == ["Unlimited 50"]
    await leader.plan_changes()
    assert [line.plan_name for line in await _lines(demo_services, ALEX)] == ["Essentials 10"]


async def test_a_top_up_paid_after_its_link_expired_is_still_credited_once(
    demo_services: Services, clock: FakeClock
) -> None:
    """The provider's webhook can come late: prepaid money is credited, never lost or doubled."""
    account = await demo_services.billing.find_account_by_msisdn(MARIA)
    assert account is not None
    link = await demo_services.billing.create_top_up_link(
        account.id, Money(1000, "USD"), now=clock.now(), ttl_seconds=60
    )
    clock.advance(seconds=120)
    settled = Settled(link.id, "pi_late", Money(1000, "USD"))
    first = await settle(demo_services, settled, now=clock.now())
    again = await settle(demo_services, settled, now=clock.now())
    assert first.payment is not None and first.payment.created
    assert again.payment is not None and not again.payment.created
    assert await balance(demo_services, MARIA) == Money(2250, "USD")
