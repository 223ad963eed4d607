"""Switching topic mid-flow and coming back, end to end: the real engine, NLU and database
(SQLite and PostgreSQL) for the demo customers. Alex asks what he owes in the middle of a plan
change and goes back to it; María does the same in Spanish; the suspended flow survives a
restart, expires with the conversation, goes with "menu", and a PIN is never an intent."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

from sqlalchemy import select

from billing_client import Money
from billing_client.sql.models import Charge, PlanChange
from bot.bootstrap import build_services
from bot.clock import FakeClock
from bot.nlu import NluModel
from bot.secret_text import PLACEHOLDER
from bot.services import Services
from bot.settings import Settings
from bot.store.models import Conversation, InboundRecord
from bot.types import InboundMessage, Reply
from tests.helpers import TEST_SECRET

ALEX, MARIA = "+12025550101", "+12025550104"
REMINDER = 'We were in the middle of "Change my plan". Say "back" to carry on.'
# $75 − $55 = $20.00 × 20 days left / 31 days = $12.90 (tests/integration/test_plan_flows.py)
ALEX_PRICE = "you're charged $12.90 (20/31 of the $20.00 difference)"
# $25 − $15 = $10.00 × 10 days left / 30 days = $3.33
MARIA_PRICE = "se te cobran 3,33\xa0US$ (10/30 de la diferencia de 10,00\xa0US$)"
_ids = itertools.count(1)


class Customer:
    """One demo customer on the web chat; `last` is the last reply (its options)."""

    def __init__(self, services: Services, phone: str) -> None:
        self.services, self.phone = services, phone
        self.last = Reply(text="")

    async def say(self, text: str) -> str:
        message = InboundMessage(
            "web",
            f"web-{self.phone}",
            text,
            f"switch-{next(_ids)}",
            datetime.now(UTC),
            as_phone=self.phone,
        )
        replies = await self.services.conversations.handle(message)
        self.last = replies[-1]
        return "\n".join(reply.text for reply in replies)

    async def at_alex_confirmation(self) -> None:
        await self.say("i want to upgrade my plan")
        assert ALEX_PRICE in await self.say("2")


async def plan_changes(services: Services) -> list[PlanChange]:
    async with services.sessions() as session:
        return list((await session.scalars(select(PlanChange))).all())


async def plan_charges(services: Services) -> list[Charge]:
    async with services.sessions() as session:
        query = select(Charge).where(Charge.source_id.like("plan_change:%"))
        return list((await session.scalars(query)).all())


async def stored_texts(services: Services, sender: str) -> list[str]:
    async with services.sessions() as session:
        query = select(InboundRecord.text).where(InboundRecord.sender == sender)
        return list((await session.scalars(query.order_by(InboundRecord.id))).all())


async def stored_slots(services: Services, sender: str) -> dict[str, object]:
    async with services.sessions() as session:
        query = select(Conversation.slots).where(Conversation.sender == sender)
        return dict((await session.scalar(query)) or {})


async def test_alex_asks_what_he_owes_mid_change_and_goes_back_to_it(
    demo_services: Services,
) -> None:
    alex = Customer(demo_services, ALEX)
    await alex.at_alex_confirmation()

    owed = await alex.say("actually what do I owe?")
    assert "$64.20" in owed
    assert owed.endswith(REMINDER)
    assert alex.last.options[-1].label == "Back to: Change my plan"

    again = await alex.say("ok back to the plan")
    assert again.startswith('Back to "Change my plan".')
    assert ALEX_PRICE in again

    done = await alex.say("yes")
    assert "is on Unlimited 100 from today. $12.90 goes on your next bill." in done
    assert REMINDER not in done
    [change] = await plan_changes(demo_services)
    assert (change.status, change.charge_minor) == ("applied", 1290)
    assert [charge.amount_minor for charge in await plan_charges(demo_services)] == [1290]


async def test_maria_does_the_same_in_spanish(demo_services: Services) -> None:
    maria = Customer(demo_services, MARIA)
    await maria.say("quiero cambiar de tarifa")
    assert MARIA_PRICE in await maria.say("2")

    owed = await maria.say("en realidad, ¿cuánto debo?")
    assert "12,50" in owed  # her prepaid balance
    assert owed.endswith('Estábamos a medias con "Cambiar de plan". Di "volver" para seguir.')
    assert maria.last.options[-1].label == "Volver a: Cambiar de plan"

    again = await maria.say("volvamos al plan")
    assert again.startswith('Volvemos a "Cambiar de plan".')
    assert MARIA_PRICE in again

    assert "se han descontado de tu saldo, que ahora es de 9,17" in await maria.say("sí")
    assert len(await plan_changes(demo_services)) == 1
    account = await demo_services.billing.find_account_by_msisdn(MARIA)
    assert account is not None
    now = demo_services.clock.now()
    balance = await demo_services.billing.get_balance(account.id, now=now)
    assert balance.prepaid_balance == Money(917, "USD")


async def test_the_suspended_plan_change_survives_a_restart(
    demo_db_url: str, clock: FakeClock, nlu_model: NluModel
) -> None:
    settings = Settings(database_url=demo_db_url, demo=True, secret_key=TEST_SECRET)
    before = await build_services(settings, clock=clock, nlu=nlu_model)
    try:
        await Customer(before, ALEX).at_alex_confirmation()
        assert (await Customer(before, ALEX).say("what do I owe")).endswith(REMINDER)
    finally:
        await before.close()

    after = await build_services(settings, clock=clock, nlu=nlu_model)
    try:
        alex = Customer(after, ALEX)
        assert ALEX_PRICE in await alex.say("back")
        await alex.say("yes")
        assert len(await plan_changes(after)) == 1
    finally:
        await after.close()


async def test_the_reminders_option_by_number_resumes_it(demo_services: Services) -> None:
    alex = Customer(demo_services, ALEX)
    await alex.at_alex_confirmation()
    await alex.say("what do I owe")
    number = len(alex.last.options)  # the reminder's option is the last one

    assert ALEX_PRICE in await alex.say(str(number))


async def test_menu_drops_the_suspended_plan_change(demo_services: Services) -> None:
    alex = Customer(demo_services, ALEX)
    await alex.at_alex_confirmation()
    await alex.say("what do I owe")

    assert "Here's what I can do" in await alex.say("menu")
    assert "_suspended" not in await stored_slots(demo_services, f"web-{ALEX}")
    assert ALEX_PRICE not in await alex.say("back")
    assert await plan_changes(demo_services) == []


async def test_a_suspended_flow_is_gone_when_the_conversation_expires(
    demo_services: Services, clock: FakeClock
) -> None:
    alex = Customer(demo_services, ALEX)
    await alex.at_alex_confirmation()
    await alex.say("what do I owe")

    clock.advance(seconds=demo_services.settings.conversation_idle_seconds + 60)

    assert REMINDER not in await alex.say("what do I owe")
    back = await alex.say("back")
    assert ALEX_PRICE not in back
    assert "Here's what I can do" in back


async def test_a_pin_step_interrupted_asks_for_the_pin_again_and_never_classifies_it(
    demo_services: Services,
) -> None:
    alex = Customer(demo_services, ALEX)
    assert "PIN" in await alex.say("i want to change my pin")

    owed = await alex.say("actually what do I owe?")
    assert "$64.20" in owed
    assert owed.endswith('We were in the middle of something else. Say "back" to carry on.')

    assert "PIN" in await alex.say("back")  # asked again: nothing typed before is reused
    assert "Where should it go?" in await alex.say("2468")  # the flow took it, as a PIN
    slots = await stored_slots(demo_services, f"web-{ALEX}")
    assert "_suspended" not in slots
    texts = await stored_texts(demo_services, f"web-{ALEX}")
    assert "2468" not in texts and PLACEHOLDER in texts
