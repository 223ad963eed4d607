"""Each intent handler with an in-memory billing client: no database, no network."""

from __future__ import annotations

import pytest

from billing_client import Account
from bot.flow import FlowState, TurnContext
from bot.links import LinkSigner
from bot.nlu.types import Entity
from bot.settings import Settings
from bot.types import InboundMessage, OutboundMessage
from intents.registry import default_registry
from tests.fakes import NOW, FakeBillingClient, parse

SETTINGS = Settings(demo=True, secret_key="unit-test-secret-key-0123")
REGISTRY = default_registry()


class Chat:
    """Drives one intent's flow the way the engine would, without the engine."""

    def __init__(self, account: Account | None) -> None:
        self.billing = FakeBillingClient()
        self.outgoing: list[OutboundMessage] = []
        self.account = account
        self.state = FlowState()

    async def say(self, text: str, intent: str = "out_of_scope", *entities: Entity) -> str:
        ctx = TurnContext(
            message=InboundMessage("web", "s1", text, "x", NOW),
            text=text,
            parse=parse(text, intent, *entities),
            account=self.account,
            state=self.state,
            billing=self.billing,
            links=LinkSigner(SETTINGS.secret_key, SETTINGS.public_url),
            registry=REGISTRY,
            settings=SETTINGS,
            now=NOW,
        )
        handler = REGISTRY.get(self.state.flow if self.state.active else intent)
        replies = await (handler.resume(ctx) if self.state.active else handler.start(ctx))
        self.outgoing += ctx.outgoing
        self.last = replies[-1]
        return "\n".join(reply.text for reply in replies)


@pytest.fixture
def sam() -> Chat:
    return Chat(FakeBillingClient().accounts[1])


@pytest.fixture
def maria() -> Chat:
    return Chat(FakeBillingClient().accounts[2])


async def test_balance_shows_overdue_amount_due_date_and_unbilled(sam: Chat) -> None:
    text = await sam.say("what do i owe", "balance")
    assert "$118.45" in text
    assert "November 16, 2026" in text
    assert "5 days overdue" in text
    assert "$3.10" in text
    assert [o.value for o in sam.last.options] == ["intent:pay_bill"]


async def test_prepaid_balance_is_in_spanish_for_a_spanish_customer(maria: Chat) -> None:
    text = await maria.say("saldo", "balance")
    assert "saldo de prepago" in text
    assert "12,50" in text


async def test_pay_bill_gives_a_signed_link_with_the_amount(sam: Chat) -> None:
    text = await sam.say("pay my bill", "pay_bill")
    assert "$118.45" in text
    assert sam.last.link is not None
    assert sam.last.link.startswith("http://127.0.0.1:8000/pay/")
    assert sam.last.link in text
    assert not sam.state.active


async def test_prepaid_customer_has_no_bill_to_pay(maria: Chat) -> None:
    text = await maria.say("pagar", "pay_bill")
    assert "prepago" in text
    assert maria.last.link is None


async def test_bar_sim_picks_line_verifies_pin_confirms_and_bars(sam: Chat) -> None:
    await sam.say("i lost my phone", "bar_sim")
    assert [o.value for o in sam.last.options] == ["line:10", "line:11"]
    assert "PIN" in await sam.say("line:11")
    assert "Block the SIM for +1 202-555-0103 (Jordan Lee)" in await sam.say("1357")
    done = await sam.say("yes")
    assert "B-000001" in done
    assert sam.billing.lines[11].status == "barred"
    assert sam.billing.lines[10].status == "active"
    assert sam.outgoing[0].address == "sam@example.com"
    assert not sam.state.active


async def test_bar_sim_line_can_be_named_by_phone_number(sam: Chat) -> None:
    phone = Entity("phone", "+12025550103", "202 555 0103")
    assert "PIN" in await sam.say("block 202 555 0103", "bar_sim", phone)
    assert sam.state.slots["line_id"] == 11


async def test_wrong_pin_counts_down_and_fifth_locks(sam: Chat) -> None:
    await sam.say("block my sim", "bar_sim")
    await sam.say("line:10")
    assert "4 attempts left" in await sam.say("0000")
    for _ in range(3):
        await sam.say("0000")
    locked = await sam.say("0000")
    assert "from here until 9:30 AM (America/Chicago)" in locked
    assert not sam.state.active
    assert sam.billing.lines[10].status == "active"


async def test_declining_the_confirmation_bars_nothing(sam: Chat) -> None:
    await sam.say("block my sim", "bar_sim")
    await sam.say("line:10")
    await sam.say("1357")
    assert "haven't blocked" in await sam.say("no")
    assert all(line.status == "active" for line in sam.billing.lines.values())


async def test_unclear_confirmation_asks_again(sam: Chat) -> None:
    await sam.say("block my sim", "bar_sim")
    await sam.say("line:10")
    await sam.say("1357")
    assert "yes or no" in await sam.say("maybe later")
    assert sam.state.step == "confirm"


async def test_pin_must_be_digits(sam: Chat) -> None:
    await sam.say("block my sim", "bar_sim")
    await sam.say("line:10")
    assert "4 to 8 digits" in await sam.say("my pin is secret")
    assert sam.billing.pin_failures == []


async def test_someone_unknown_can_bar_a_lost_phone_by_its_number() -> None:
    stranger = Chat(None)
    assert "What is that phone's number" in await stranger.say("lost my phone", "bar_sim")
    assert "PIN" in await stranger.say("(202) 555-0103")
    await stranger.say("1357")
    assert "B-000001" in await stranger.say("yes")
    assert stranger.billing.lines[11].status == "barred"


async def test_unknown_number_for_barring_is_asked_for_its_pin_like_any_other() -> None:
    stranger = Chat(None)
    await stranger.say("lost my phone", "bar_sim")
    assert "PIN for +1 202-555-0199" in await stranger.say("+1 202 555 0199")
    assert "4 attempts left" in await stranger.say("1357")
    assert stranger.billing.lines[11].status == "active"


async def test_a_number_that_is_not_a_phone_number_is_asked_for_again() -> None:
    stranger = Chat(None)
    await stranger.say("lost my phone", "bar_sim")
    assert "doesn't look like a phone number" in await stranger.say("banana")
    assert stranger.state.step == "ask_number"


async def test_ticket_with_description_confirms_then_gives_reference(sam: Chat) -> None:
    text = await sam.say("my internet keeps dropping", "open_ticket")
    assert '"my internet keeps dropping"' in text
    assert "T-000123" in await sam.say("yes")
    assert not sam.state.active


async def test_ticket_without_description_asks_for_it(sam: Chat) -> None:
    assert "describe the problem" in await sam.say("i want to open a ticket", "open_ticket")
    assert "Shall I go ahead" in await sam.say("no signal at home since monday")
    assert "T-000123" in await sam.say("yes")
    ticket = next(iter(sam.billing.tickets.values()))
    assert ticket.subject == "no signal at home since monday"


async def test_usage_lists_each_line_with_percent_and_cycle_end(sam: Chat) -> None:
    text = await sam.say("how much data", "usage")
    assert "16.5 GB of 20 GB used (82%)" in text
    assert "+1 202-555-0103" in text
    assert "November 30, 2026" in text


async def test_invoice_lists_latest_with_link(sam: Chat) -> None:
    text = await sam.say("last bill", "invoice")
    assert "INV-100" in text
    assert "$118.45" in text
    assert sam.last.link is not None and "/signin/link/" in sam.last.link


def _postpaid_menu() -> list[str]:
    """The menu's intents for a postpaid customer (a top-up is for prepaid accounts)."""
    return [
        name
        for name, _ in REGISTRY.menu_entries
        if REGISTRY.billing_types_of(name) in (None, frozenset({"postpaid"}))
    ]


async def test_greeting_gets_the_menu_by_name(sam: Chat) -> None:
    text = await sam.say("hello")
    assert text.startswith("Hi Sam!")
    # More than nine things to offer: the first eight, then "More…" (bot/menu.py).
    assert [option.value for option in sam.last.options] == [
        *(f"intent:{name}" for name in _postpaid_menu()[:8]),
        "menu:2",
    ]
    assert len(sam.last.options) == 9


def test_registry_has_the_contract_intents_and_falls_back() -> None:
    expected = {"balance", "pay_bill", "bar_sim", "open_ticket", "usage", "invoice"}
    expected |= {"link_account", "unlink_account", "alerts", "bill_limit", "continue_service"}
    expected |= {"web_login"}
    expected |= {"ticket_status", "payment_history", "bill_explain", "help"}
    expected |= {"unbar_sim", "pin_reset", "update_contact"}
    expected |= {"diagnostics", "appointment"}
    expected |= {"plan_change", "add_on", "top_up"}
    expected |= {"sim_swap", "port_lock", "not_me"}
    assert expected | {"out_of_scope"} == set(REGISTRY.names)
    assert REGISTRY.get("no_such_intent").name == "out_of_scope"
