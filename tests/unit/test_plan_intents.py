"""plan_change, add_on and top_up with an in-memory billing client: the questions, the prices in
them, corrections ("no, the other line"), declines, refusals and what reaches the billing core."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import pytest

from billing_client import (
    ActiveAddOn,
    AddOnOffer,
    AddOnOptions,
    AddOnPurchase,
    InsufficientBalanceError,
    InvalidRequestError,
    Money,
    PaymentLink,
    PlanChangeResult,
    PlanInfo,
    PlanOffer,
    PlanOptions,
    PriceChangedError,
)
from billing_client.sql.plans import prorate
from bot.flow import FlowState, TurnContext
from bot.links import LinkSigner
from bot.nlu import extract_entities
from bot.nlu.types import Entity
from bot.settings import Settings
from bot.types import InboundMessage
from intents.plan_common import asks_other_line
from intents.registry import default_registry
from tests.fakes import NOW, FakeBillingClient, parse, usd

SETTINGS = Settings(demo=True, secret_key="unit-test-secret-key-0123")
REGISTRY = default_registry()
CYCLE = (date(2026, 11, 1), date(2026, 11, 30))
FAMILY = PlanInfo("family-2x20", "Family 2×20", usd("90"), usd("45"), 2, 20480, None, None)
FAMILY_40 = PlanInfo("family-2x40", "Family 2×40", usd("120"), usd("60"), 2, 40960, None, None)
FAMILY_10 = PlanInfo("family-2x10", "Family 2×10", usd("70"), usd("35"), 2, 10240, None, None)
FLEX = PlanInfo("prepaid-flex", "Prepaid Flex", usd("15"), usd("15"), 1, 5120, 200, None)
MAX = PlanInfo("prepaid-max", "Prepaid Max", usd("25"), usd("25"), 1, 15360, 500, None)
DATA_1 = AddOnOffer("data-1gb", "Data 1 GB", "data", usd("5"), False, data_mb=1024)
DATA_5 = AddOnOffer("data-5gb", "Data 5 GB", "data", usd("15"), False, data_mb=5120)
ROAM_WEEK = AddOnOffer("roam-week", "Roaming week", "roaming", usd("35"), False, roaming_days=7)


@dataclass
class Calls:
    changes: list[tuple[int, str, Money, str]] = field(default_factory=list)
    purchases: list[tuple[int, str, Money, str]] = field(default_factory=list)
    levels: list[Money | None] = field(default_factory=list)


class FakePlansBilling(FakeBillingClient):
    """Sam (two family lines, postpaid) and María (prepaid, $12.50) with fixed quotes: an
    upgrade costs $9.50 today (19 of 30 days), a downgrade starts on December 1."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = Calls()
        self.balance = usd("12.50")
        self.level: Money | None = usd("5")
        self.fail_next: Exception | None = None

    async def plan_options(self, account_id: int, line_id: int, *, now: datetime) -> PlanOptions:
        line = self.lines[line_id]
        prepaid = self.accounts[account_id].billing_type == "prepaid"
        current, up, down = (FLEX, MAX, None) if prepaid else (FAMILY, FAMILY_40, FAMILY_10)
        offers = [
            PlanOffer(up, "upgrade", NOW.date(), usd("9.50" if not prepaid else "3.33"), 19, 30)
        ]
        if down is not None:
            offers.insert(0, PlanOffer(down, "downgrade", date(2026, 12, 1), usd("0"), 19, 30))
        return PlanOptions(
            line, current, *CYCLE, tuple(offers), None, self.balance if prepaid else None
        )

    async def change_plan(
        self,
        account_id: int,
        line_id: int,
        plan_code: str,
        *,
        expected_charge: Money,
        idempotency_key: str,
        actor: str,
        now: datetime,
    ) -> PlanChangeResult:
        if self.fail_next is not None:
            error, self.fail_next = self.fail_next, None
            raise error
        self.calls.changes.append((line_id, plan_code, expected_charge, idempotency_key))
        offer = next(
            o
            for o in (await self.plan_options(account_id, line_id, now=now)).offers
            if o.plan.code == plan_code
        )
        prepaid = self.accounts[account_id].billing_type == "prepaid"
        return PlanChangeResult(
            "P-000001",
            self.lines[line_id],
            "Family 2×20",
            offer.plan.name,
            offer.direction,
            offer.effective_on,
            offer.charge,
            True,
            self.balance - offer.charge if prepaid else None,
        )

    async def add_on_options(
        self, account_id: int, line_id: int, *, now: datetime
    ) -> AddOnOptions:
        prepaid = self.accounts[account_id].billing_type == "prepaid"
        active = (ActiveAddOn("A-000001", "Data 1 GB", "data", CYCLE[0], CYCLE[1]),)
        balance = self.balance if prepaid else None
        return AddOnOptions(
            self.lines[line_id], (DATA_1, DATA_5, ROAM_WEEK), active, CYCLE[1], balance
        )

    async def buy_add_on(
        self,
        account_id: int,
        line_id: int,
        code: str,
        *,
        expected_price: Money,
        idempotency_key: str,
        actor: str,
        now: datetime,
    ) -> AddOnPurchase:
        if self.fail_next is not None:
            error, self.fail_next = self.fail_next, None
            raise error
        self.calls.purchases.append((line_id, code, expected_price, idempotency_key))
        offer = next(o for o in (DATA_1, DATA_5, ROAM_WEEK) if o.code == code)
        prepaid = self.accounts[account_id].billing_type == "prepaid"
        return AddOnPurchase(
            "A-000002",
            self.lines[line_id],
            offer,
            offer.price,
            "balance" if prepaid else "bill",
            NOW.date(),
            CYCLE[1],
            True,
            20480 + (offer.data_mb or 0) if offer.kind == "data" else None,
            self.balance - offer.price if prepaid else None,
        )

    async def create_top_up_link(
        self, account_id: int, amount: Money, *, now: datetime, ttl_seconds: int
    ) -> PaymentLink:
        link = PaymentLink(
            "topup1", account_id, None, amount, now, now + timedelta(seconds=ttl_seconds), "active"
        )
        self.links[link.id] = link
        return link

    async def get_low_balance_alert(self, account_id: int) -> Money | None:
        return self.level

    async def set_low_balance_alert(
        self, account_id: int, level: Money | None, *, actor: str, now: datetime
    ) -> Money | None:
        self.calls.levels.append(level)
        self.level = level
        return level


class Chat:
    """Drives one flow the way the engine would (option numbers become their values)."""

    def __init__(self, billing: FakePlansBilling, account_id: int) -> None:
        self.billing = billing
        self.account = billing.accounts[account_id]
        self.state = FlowState()
        self.options: list[str] = []

    async def say(self, text: str, intent: str = "out_of_scope", *entities: Entity) -> str:
        picked = False
        if text.isdigit() and 1 <= int(text) <= len(self.options):
            text, picked = self.options[int(text) - 1], True
        ctx = TurnContext(
            message=InboundMessage("web", "s1", text, "x", NOW),
            text=text,
            parse=parse(text, intent, *(entities or extract_entities(text))),
            account=self.account,
            state=self.state,
            billing=self.billing,
            links=LinkSigner(SETTINGS.secret_key, SETTINGS.public_url),
            registry=REGISTRY,
            settings=SETTINGS,
            now=NOW,
            picked_option=picked,
        )
        handler = REGISTRY.get(self.state.flow if self.state.active else intent)
        replies = await (handler.resume(ctx) if self.state.active else handler.start(ctx))
        self.last = replies[-1]
        self.options = [option.value for option in self.last.options]
        return "\n".join(reply.text for reply in replies)


@pytest.fixture
def billing() -> FakePlansBilling:
    return FakePlansBilling()


@pytest.fixture
def sam(billing: FakePlansBilling) -> Chat:
    return Chat(billing, 1)


@pytest.fixture
def maria(billing: FakePlansBilling) -> Chat:
    return Chat(billing, 2)


# --- proration (the billing core's rounding) -----------------------------------------------------
@pytest.mark.parametrize(
    ("difference", "days_left", "days", "charge"),
    [
        (2000, 20, 31, 1290),  # 1290.32… rounds down
        (1500, 2, 28, 107),  # 107.14…
        (1000, 10, 30, 333),  # 333.33…
        (1000, 30, 30, 1000),  # the whole cycle: the whole difference
        (1, 1, 2, 1),  # exactly half a cent: half up
        (3, 1, 4, 1),  # 0.75
        (1, 1, 3, 0),  # a third of a cent
    ],
)
def test_proration_is_the_days_share_rounded_half_up(
    difference: int, days_left: int, days: int, charge: int
) -> None:
    assert prorate(difference, days_left, days) == charge


@pytest.mark.parametrize(("difference", "left", "days"), [(-1, 1, 30), (100, 0, 30), (1, 31, 30)])
def test_proration_refuses_what_is_not_part_of_a_cycle(
    difference: int, left: int, days: int
) -> None:
    with pytest.raises(ValueError):
        prorate(difference, left, days)


# --- plan_change --------------------------------------------------------------------------------
async def test_plans_are_listed_with_price_allowances_and_when_they_start(sam: Chat) -> None:
    await sam.say("change my plan", "plan_change")
    assert sam.options == ["line:10", "line:11"]
    text = await sam.say("1")
    assert "+1 202-555-0102 (Sam Lee) is on Family 2×20: $90.00 a month for 2 lines" in text
    assert "Family 2×10: $70.00 a month for 2 lines ($35.00 a line); 10 GB data" in text
    assert "From December 1, 2026 (your next cycle), nothing to pay now." in text
    assert "Family 2×40: $120.00 a month for 2 lines ($60.00 a line)" in text
    assert "From today: $9.50 for the 19 days left in this cycle." in text
    assert sam.options == ["plan:family-2x10", "plan:family-2x40", "other_line"]


async def test_an_upgrade_is_confirmed_with_its_prorated_charge_then_made_once(sam: Chat) -> None:
    await sam.say("upgrade my plan", "plan_change")
    await sam.say("line:10")
    question = await sam.say("plan:family-2x40")
    assert "today?" in question
    assert "you're charged $9.50 (19/30 of the $15.00 difference)" in question
    assert "added to your next bill (before tax)" in question
    done = await sam.say("yes")
    assert done.startswith("Done: +1 202-555-0102 (Sam Lee) is on Family 2×40 from today.")
    assert "$9.50 goes on your next bill. Reference: P-000001." in done
    [(line, plan, charge, key)] = sam.billing.calls.changes
    assert (line, plan, charge) == (10, "family-2x40", usd("9.50"))
    assert key == f"plan_change:{key.split(':')[1]}" and len(key) > 20
    assert not sam.state.active


async def test_no_the_other_line_moves_the_same_choice_to_the_other_line(sam: Chat) -> None:
    await sam.say("change my plan", "plan_change")
    await sam.say("line:10")
    assert "(Sam Lee)" in await sam.say("plan:family-2x10")
    question = await sam.say("no, the other line")
    assert question.startswith("Change +1 202-555-0103 (Jordan Lee) from Family 2×20 to Family")
    assert "on December 1, 2026, when your next cycle starts? Nothing to pay now" in question
    assert "Done: +1 202-555-0103 (Jordan Lee) changes to Family 2×10 on December 1" in (
        await sam.say("yes")
    )
    assert [call[0] for call in sam.billing.calls.changes] == [11]


async def test_the_other_line_can_be_asked_for_while_choosing_and_named(sam: Chat) -> None:
    await sam.say("change jordan's plan", "plan_change")
    assert sam.state.slots["line_id"] == 11  # named by the holder's first name
    await sam.say("other_line")
    assert sam.state.slots["line_id"] == 10
    assert "Family 2×40" in await sam.say("family 2x40 please")
    assert sam.state.step == "confirm"


async def test_an_unknown_plan_is_asked_once_more_then_the_menu(sam: Chat) -> None:
    await sam.say("change plan", "plan_change")
    await sam.say("line:10")
    assert (await sam.say("the purple one")).startswith("Please pick one of the plans.")
    text = await sam.say("still purple")
    assert text.startswith("I still didn't get which one, so I've stopped there.")
    assert "intent:balance" in sam.options and not sam.state.active
    assert sam.billing.calls.changes == []


async def test_declining_changes_nothing(sam: Chat) -> None:
    await sam.say("change plan", "plan_change")
    await sam.say("line:11")
    await sam.say("plan:family-2x40")
    assert await sam.say("no") == "OK, +1 202-555-0103 (Jordan Lee) stays on Family 2×20."
    assert sam.billing.calls.changes == []
    assert not sam.state.active


async def test_an_unclear_answer_asks_again_with_the_price(sam: Chat) -> None:
    await sam.say("change plan", "plan_change")
    await sam.say("line:11")
    await sam.say("plan:family-2x40")
    again = await sam.say("hmm")
    assert again.startswith("Please answer yes or no. Change +1 202-555-0103")
    assert "$9.50" in again


async def test_a_price_that_changed_is_shown_again_before_anything_happens(sam: Chat) -> None:
    await sam.say("change plan", "plan_change")
    await sam.say("line:10")
    await sam.say("plan:family-2x40")
    sam.billing.fail_next = PriceChangedError("a new day")
    text = await sam.say("yes")
    assert text.startswith("The price has changed since I asked")
    assert sam.state.step == "confirm"
    assert sam.billing.calls.changes == []


async def test_maria_upgrades_in_spanish_from_her_balance(maria: Chat) -> None:
    text = await maria.say("cambiar de tarifa", "plan_change")
    assert "+1 202-555-0104 (María García) tiene Prepaid Flex: 15,00\xa0US$ al mes" in text
    question = await maria.say("plan:prepaid-max")
    assert "se te cobran 3,33\xa0US$ (19/30 de la diferencia de 10,00\xa0US$)" in question
    assert "que se descuentan de tu saldo de 12,50\xa0US$" in question
    done = await maria.say("sí")
    assert "3,33\xa0US$ se han descontado de tu saldo, que ahora es de 9,17\xa0US$" in done


async def test_a_prepaid_balance_too_low_for_the_upgrade_is_told_before_asking(
    maria: Chat,
) -> None:
    maria.billing.balance = usd("2.00")
    await maria.say("cambiar de tarifa", "plan_change")
    text = await maria.say("plan:prepaid-max")
    assert text == (
        "Cuesta 3,33\xa0US$, pero tu saldo es de 2,00\xa0US$: te faltan 1,33\xa0US$. "
        "¿Recargas primero?"
    )
    assert maria.options == ["intent:top_up"]
    assert not maria.state.active


# --- add_on -------------------------------------------------------------------------------------
async def test_a_postpaid_add_on_says_it_is_a_one_off_charge_on_the_bill(sam: Chat) -> None:
    await sam.say("i need more data", "add_on")
    text = await sam.say("line:10")
    assert "one-off (no renewal)" in text
    assert "• 5 GB of extra data: $15.00, until November 30, 2026 (end of this cycle)" in text
    assert "Roaming" not in text  # asked for data: data add-ons only
    question = await sam.say("add_on:data-5gb")
    assert question == (
        "Add 5 GB of extra data to +1 202-555-0102 (Sam Lee) for $15.00? It's a one-off "
        "charge on your next bill (before tax). The extra 5 GB is yours until November 30, 2026."
    )
    done = await sam.say("yes")
    assert "Your data allowance this cycle is now 25 GB. $15.00 goes on your next bill." in done
    [(line, code, price, key)] = sam.billing.calls.purchases
    assert (line, code, price) == (10, "data-5gb", usd("15")) and key.startswith("add_on:")


async def test_roaming_is_asked_for_in_words_and_covers_its_days(sam: Chat) -> None:
    await sam.say("going abroad, need a roaming pass", "add_on")
    text = await sam.say("line:11")
    assert "Roaming pass for 7 days: $35.00, from today" in text and "GB" not in text
    question = await sam.say("a week")
    assert "It covers November 21, 2026 to November 27, 2026." in question


async def test_the_other_line_at_the_add_on_confirmation(sam: Chat) -> None:
    await sam.say("bono de datos", "add_on")
    await sam.say("line:10")
    await sam.say("add_on:data-1gb")
    assert "(Jordan Lee)" in await sam.say("wrong line")
    await sam.say("yes")
    assert [call[0] for call in sam.billing.calls.purchases] == [11]


async def test_maria_is_told_the_shortfall_and_offered_a_top_up_or_what_she_can_pay(
    maria: Chat,
) -> None:
    text = await maria.say("bono de datos", "add_on")
    assert "Se paga con tu saldo (12,50\xa0US$)." in text
    short = await maria.say("add_on:data-5gb")
    assert short.startswith(
        "Cuesta 15,00\xa0US$, pero tu saldo es de 12,50\xa0US$: te faltan 2,50"
    )
    assert maria.options == ["intent:top_up", "add_on:data-1gb"]
    question = await maria.say("2")
    assert "Se descuenta de tu saldo: 12,50\xa0US$ → 7,50\xa0US$." in question
    assert "Tu saldo es ahora de 7,50\xa0US$." in await maria.say("sí")


async def test_a_refusal_from_the_billing_core_mid_flow_buys_nothing(maria: Chat) -> None:
    await maria.say("bono de datos", "add_on")
    await maria.say("add_on:data-1gb")
    maria.billing.fail_next = InsufficientBalanceError(usd("4.00"), usd("5.00"))
    text = await maria.say("sí")
    assert "te faltan 1,00\xa0US$" in text
    assert maria.billing.calls.purchases == [] and not maria.state.active


async def test_an_unknown_line_is_asked_once_more_then_the_menu(sam: Chat) -> None:
    await sam.say("add ons", "add_on")
    assert "Which line is it for?" in await sam.say("my cat's")
    assert "Nothing was changed." in await sam.say("the dog's")
    assert not sam.state.active


async def test_declining_an_add_on_buys_nothing(sam: Chat) -> None:
    await sam.say("add ons", "add_on")
    await sam.say("line:10")
    await sam.say("add_on:roam-week")
    assert await sam.say("no") == "OK, I haven't added anything."
    assert sam.billing.calls.purchases == []


# --- top_up -------------------------------------------------------------------------------------
async def test_top_up_offers_amounts_and_gives_a_link(maria: Chat) -> None:
    text = await maria.say("recargar", "top_up")
    assert text.startswith("Tu saldo es de 12,50\xa0US$. ¿Cuánto quieres recargar?")
    assert maria.options == ["amount:10", "amount:20", "amount:30"]
    link = await maria.say("2")
    assert link.startswith("Recarga de 20,00\xa0US$: paga de forma segura aquí: http://")
    assert "Te avisaré cuando tu saldo baje de 5,00\xa0US$." in link
    assert maria.last.link is not None and maria.last.link.startswith("http://127.0.0.1:8000/pay/")
    assert maria.last.image_url == f"{maria.last.link}/qr.png"
    assert maria.billing.links["topup1"].amount == usd("20")
    assert not maria.state.active


async def test_an_amount_in_the_first_message_goes_straight_to_the_link(maria: Chat) -> None:
    amount = Entity("amount", "15.00", "$15")
    assert "Recarga de 15,00\xa0US$" in await maria.say("top up $15", "top_up", amount)


async def test_a_bad_amount_is_asked_once_more_then_the_menu(maria: Chat) -> None:
    await maria.say("recargar", "top_up")
    assert (
        await maria.say("500")
        == "Envía un importe de 5,00\xa0US$ a 100,00\xa0US$, por ejemplo 15."
    )
    text = await maria.say("mucho")
    assert text.startswith("Sigo sin entender el importe, así que lo dejo aquí.")
    assert "intent:balance" in maria.options
    assert maria.billing.links == {} and not maria.state.active


async def test_the_low_balance_level_is_confirmed_then_set(maria: Chat) -> None:
    question = await maria.say("avísame cuando me quede menos de 8", "top_up")
    assert question == (
        "¿Te aviso cuando tu saldo baje de 8,00\xa0US$? (Tu saldo es de 12,50\xa0US$; ahora te "
        "aviso por debajo de 5,00\xa0US$.)"
    )
    assert await maria.say("sí") == "Hecho: te avisaré cuando tu saldo baje de 8,00\xa0US$."
    assert maria.billing.calls.levels == [usd("8")]


async def test_the_low_balance_warning_can_be_turned_off_and_a_no_keeps_it(maria: Chat) -> None:
    await maria.say("stop warning me about low balance", "top_up")
    assert await maria.say("no") == "De acuerdo, no he cambiado nada."
    await maria.say("turn off the low balance alert", "top_up")
    assert await maria.say("yes") == "Hecho: ya no recibirás avisos de saldo bajo."
    assert maria.billing.calls.levels == [None]


async def test_a_postpaid_customer_is_pointed_to_paying_the_bill(sam: Chat) -> None:
    text = await sam.say("top up", "top_up")
    assert "there's no balance to top up" in text
    assert sam.options == ["intent:pay_bill"]


async def test_a_billing_system_without_plans_says_so(sam: Chat) -> None:
    plain = FakeBillingClient()
    with pytest.raises(InvalidRequestError, match="not available"):
        await plain.plan_options(1, 10, now=NOW)
    assert await plain.apply_due_plan_changes(now=NOW) == 0


# --- corrections --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "no, the other line",
        "other one",
        "wrong line",
        "not this number",
        "no, la otra línea",
        "la otra",
        "el otro número",
        "Línea equivocada",
    ],
)
def test_other_line_corrections_are_understood(text: str) -> None:
    assert asks_other_line(text)


@pytest.mark.parametrize("text", ["yes", "no", "the 5 gb one", "family 2x40", "otra cosa"])
def test_other_answers_are_not_corrections(text: str) -> None:
    assert not asks_other_line(text)
