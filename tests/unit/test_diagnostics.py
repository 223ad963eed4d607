"""`diagnostics` with an in-memory billing client: what it shows, what explains the problem
and what it offers next."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from billing_client import Equipment, Outage, UsageCounter
from bot.flow import FlowState, TurnContext
from bot.links import LinkSigner
from bot.nlu.entities import extract_entities
from bot.types import InboundMessage, OutboundMessage, Reply
from tests.fakes import NOW, FakeBillingClient, parse
from tests.field_fakes import FakeFieldBilling
from tests.unit.test_intents import REGISTRY, SETTINGS

OUTAGE = Outage(
    7,
    "60614",
    "mobile",
    "A mast near Lincoln Park is down.",
    NOW - timedelta(hours=2),
    NOW + timedelta(hours=3),
)


class FieldChat:
    """Drives an intent the way the engine would (like tests/unit/test_intents.py's `Chat`),
    keeping what the turn queued and withdrew."""

    def __init__(self, account_id: int, billing: FakeBillingClient | None = None) -> None:
        self.billing = billing or FakeFieldBilling()
        self.account = self.billing.accounts[account_id]
        self.state = FlowState()
        self.outgoing: list[OutboundMessage] = []
        self.withdrawn: list[str] = []
        self.last = Reply(text="")

    async def say(self, text: str, intent: str = "out_of_scope") -> str:
        ctx = TurnContext(
            message=InboundMessage("web", "s1", text, "x", NOW),
            text=text,
            parse=parse(text, intent, *extract_entities(text)),  # "sí", "2", a number
            account=self.account,
            state=self.state,
            billing=self.billing,
            links=LinkSigner(SETTINGS.secret_key, SETTINGS.public_url),
            registry=REGISTRY,
            settings=SETTINGS,
            now=NOW,
            picked_option=text.startswith(("slot:", "visit:", "intent:")),
        )
        handler = REGISTRY.get(self.state.flow if self.state.active else intent)
        replies = await (handler.resume(ctx) if self.state.active else handler.start(ctx))
        self.outgoing += ctx.outgoing
        self.withdrawn += ctx.withdrawn
        self.last = replies[-1]
        return "\n".join(reply.text for reply in replies)

    @property
    def offered(self) -> list[str]:
        return [option.value for option in self.last.options]


@pytest.fixture
def field() -> FakeFieldBilling:
    return FakeFieldBilling()


@pytest.fixture
def sam(field: FakeFieldBilling) -> FieldChat:
    return FieldChat(1, field)


async def test_an_outage_at_the_address_is_shown_with_its_fix_time_and_explains_it(
    sam: FieldChat, field: FakeFieldBilling
) -> None:
    field.outages.append(OUTAGE)

    text = await sam.say("my internet is down", "diagnostics")

    assert "Known mobile outage at your address (2430 N Lincoln Ave" in text
    assert "A mast near Lincoln Park is down." in text
    assert "Expected fix: 12:00 PM (America/Chicago)" in text  # 18:00 UTC
    assert "likely cause" in text
    assert sam.offered == []  # nothing to report: no ticket, no technician
    assert not sam.state.active


async def test_each_line_shows_its_status_data_left_and_roaming(
    sam: FieldChat, field: FakeFieldBilling
) -> None:
    field.roaming["+12025550103"] = NOW - timedelta(days=1)

    text = await sam.say("check my line", "diagnostics")

    assert "+1 202-555-0102 (Sam Lee): working normally; 3.5 GB of 20 GB data left" in text
    assert "+1 202-555-0103 (Jordan Lee): working normally; 19.5 GB of 20 GB data left" in text
    assert "used abroad (roaming) on November 20, 2026" in text


async def test_when_nothing_explains_it_a_ticket_or_a_technician_is_offered(
    sam: FieldChat,
) -> None:
    text = await sam.say("no signal", "diagnostics")

    assert "Everything looks normal on our side" in text
    assert "Shall I open a ticket, or would you rather book a technician?" in text
    assert sam.offered == ["yes", "intent:appointment", "no"]
    assert sam.state.step == "offer_ticket"


async def test_yes_opens_a_ticket_with_the_customers_words_and_what_was_checked(
    sam: FieldChat,
) -> None:
    await sam.say("no signal since this morning", "diagnostics")

    text = await sam.say("yes")

    assert text.startswith("Your ticket T-000123 is open, with what I checked attached.")
    (ticket,) = sam.billing.tickets.values()
    assert ticket.subject == "no signal since this morning"
    assert not sam.state.active


async def test_the_same_yes_twice_opens_one_ticket(sam: FieldChat) -> None:
    await sam.say("wifi down", "diagnostics")
    flow = dict(sam.state.slots)

    await sam.say("yes")
    sam.state.begin("diagnostics", "offer_ticket", **flow)  # the turn replayed after a crash
    await sam.say("yes")

    assert len(sam.billing.tickets) == 1


async def test_no_opens_nothing(sam: FieldChat) -> None:
    await sam.say("wifi down", "diagnostics")

    assert await sam.say("no") == "OK, no ticket. If it keeps happening, just tell me."
    assert sam.billing.tickets == {} and not sam.state.active


async def test_an_unclear_answer_asks_yes_or_no_with_the_same_options(sam: FieldChat) -> None:
    await sam.say("wifi down", "diagnostics")

    assert await sam.say("hmm") == "Please answer yes or no."
    assert sam.offered == ["yes", "intent:appointment", "no"]


async def test_an_expected_end_that_has_passed_says_engineers_are_still_on_it(
    sam: FieldChat, field: FakeFieldBilling
) -> None:
    field.outages.append(replace(OUTAGE, expected_end=NOW - timedelta(hours=1)))

    text = await sam.say("is there an outage", "diagnostics")

    assert "It was expected back by 8:00 AM (America/Chicago); engineers are still on it" in text


async def test_an_outage_with_no_fix_time_says_so(sam: FieldChat, field: FakeFieldBilling) -> None:
    field.outages.append(replace(OUTAGE, expected_end=None))

    assert "No fix time yet." in await sam.say("network down?", "diagnostics")


async def test_a_barred_line_explains_it_and_unblocking_is_offered(sam: FieldChat) -> None:
    await sam.billing.bar_line(
        11, reason="suspicious use", idempotency_key="k", actor="t", now=NOW
    )

    text = await sam.say("jordan's phone has no service", "diagnostics")

    assert "+1 202-555-0103 (Jordan Lee): barred (suspicious use)" in text
    assert "The block on your line explains it" in text
    assert sam.offered == ["intent:unbar_sim"]


async def test_a_lost_or_stolen_line_is_not_offered_unblocking(sam: FieldChat) -> None:
    await sam.billing.bar_line(11, reason="lost_stolen", idempotency_key="k", actor="t", now=NOW)

    text = await sam.say("no service", "diagnostics")

    assert "blocked, reported lost or stolen (B-000001)" in text
    assert "intent:unbar_sim" not in sam.offered


async def test_no_data_left_explains_mobile_data_not_working(
    sam: FieldChat, field: FakeFieldBilling
) -> None:
    start, end = date(2026, 11, 1), date(2026, 11, 30)
    field.usage_override = [UsageCounter("+12025550102", "data", "MB", 20480, 20480, start, end)]

    text = await sam.say("data not working", "diagnostics")

    assert "no data left until December 1, 2026" in text
    assert "You've used all your data this cycle" in text
    assert sam.offered  # more data (an add-on) or the usage answer


async def test_an_offline_router_explains_home_internet_and_offers_a_ticket_or_a_visit(
    sam: FieldChat, field: FakeFieldBilling
) -> None:
    field.equipment[1] = [Equipment("router", "Fibre router", "offline", NOW - timedelta(hours=3))]

    text = await sam.say("wifi is dead", "diagnostics")

    assert "- Fibre router: offline since 6:00 AM (America/Chicago)" in text
    assert "Your router isn't reaching us" in text
    assert sam.offered == ["yes", "intent:appointment", "no"]


async def test_an_online_router_says_when_it_was_last_seen(
    sam: FieldChat, field: FakeFieldBilling
) -> None:
    field.equipment[1] = [
        Equipment("router", "Fibre router", "online", NOW - timedelta(minutes=4))
    ]

    assert "- Fibre router: online, last seen 4 minutes ago" in await sam.say(
        "wifi?", "diagnostics"
    )


async def test_spanish_for_maria(field: FakeFieldBilling) -> None:
    maria = FieldChat(2, field)
    field.outages.append(replace(OUTAGE, area="28014", kind="broadband"))

    text = await maria.say("mi fibra no va", "diagnostics")

    assert "Esto es lo que veo:" in text
    assert "Avería conocida de internet fijo en tu dirección (Calle de Alcalá 48" in text
    assert "Previsión de arreglo:" in text
    assert "Esa avería es la causa probable" in text


async def test_a_billing_system_without_field_service_still_shows_the_lines() -> None:
    sam = FieldChat(1, FakeBillingClient())

    text = await sam.say("no signal", "diagnostics")

    assert "(Sam Lee): working normally" in text
    assert "Everything looks normal on our side" in text
