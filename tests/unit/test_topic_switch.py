"""Switching topic mid-flow and coming back: the router sets the flow aside, reminds the
customer of it, and resumes it at the same step (and flow_id) on "back", "ok back to the plan"
or the reminder's option. Small stand-in flows over the real Router, no database."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any, ClassVar

import pytest

from billing_client import Account
from bot.flow import FlowState, Intent, TurnContext
from bot.i18n import Messages
from bot.links import LinkSigner
from bot.nlu import extract_entities
from bot.nlu.types import ParseResult
from bot.operator import Features, OperatorConfig
from bot.registry import Registry
from bot.routing import Router
from bot.settings import Settings
from bot.store import conversations
from bot.store.conversations import ConversationState
from bot.suspended import MAX_SUSPENDED, SuspendedFlow
from bot.types import InboundMessage, Reply
from tests.fakes import NOW, FakeBillingClient

SETTINGS = Settings(demo=True, secret_key="unit-test-secret-key-0123")
BILLING = FakeBillingClient()
SAM, MARIA = BILLING.accounts[1], BILLING.accounts[2]
IDLE = timedelta(seconds=SETTINGS.conversation_idle_seconds)
REMINDER = 'We were in the middle of "Change my plan". Say "back" to carry on.'
made: list[str] = []  # the idempotency keys of the plan changes made (the side effect)


class PlanChange(Intent):
    """Pick a plan, confirm with the price, change once per flow_id."""

    name = "plan_change"
    menu_label: ClassVar[Messages | None] = {"en": "Change my plan", "es": "Cambiar de plan"}
    feature = "plan_changes"

    async def start(self, ctx: TurnContext) -> list[Reply]:
        ctx.state.begin(self.name, "choose", flow_id=uuid.uuid4().hex)
        return await self.prompt(ctx)

    async def resume(self, ctx: TurnContext) -> list[Reply]:
        if ctx.state.step == "choose":
            ctx.state.slots["plan"] = ctx.text
            ctx.state.goto("confirm")
            return await self.prompt(ctx)
        made.append(f"plan_change:{ctx.state.slots['flow_id']}")
        ctx.state.finish()
        return [ctx.reply("Done: you're on the new plan.")]

    async def prompt(self, ctx: TurnContext) -> list[Reply]:
        if ctx.state.step == "choose":
            return [ctx.reply("Which plan would you like?")]
        return [ctx.reply(f"Change to {ctx.state.slots['plan']} today for $12.90?")]


class BarSim(Intent):
    """Ask for the PIN (a secret step), then bar."""

    name = "bar_sim"
    menu_label: ClassVar[Messages | None] = {"en": "Block my SIM", "es": "Bloquear mi SIM"}
    secret_steps = frozenset({"pin"})

    async def start(self, ctx: TurnContext) -> list[Reply]:
        ctx.state.begin(self.name, "pin")
        return await self.prompt(ctx)

    async def resume(self, ctx: TurnContext) -> list[Reply]:
        if ctx.text != "2468":
            return [ctx.reply("That PIN isn't right.")]
        ctx.state.finish()
        return [ctx.reply("Your SIM is barred.")]

    async def prompt(self, ctx: TurnContext) -> list[Reply]:
        return [ctx.reply("What's your PIN?")]


class OpenTicket(Intent):
    """A flow off the menu: describe the problem."""

    name = "open_ticket"

    async def start(self, ctx: TurnContext) -> list[Reply]:
        ctx.state.begin(self.name, "describe")
        return await self.prompt(ctx)

    async def prompt(self, ctx: TurnContext) -> list[Reply]:
        return [ctx.reply("Please describe the problem.")]


class Balance(Intent):
    name = "balance"
    menu_label: ClassVar[Messages | None] = {"en": "My balance", "es": "Mi saldo"}

    async def start(self, ctx: TurnContext) -> list[Reply]:
        return [ctx.reply(ctx.say({"en": "You owe $64.20.", "es": "Debes 64,20 $."}))]


class Fallback(Intent):
    name = "out_of_scope"

    async def start(self, ctx: TurnContext) -> list[Reply]:
        return [ctx.reply("Sorry, I didn't get that.")]


ROUTER = Router(Registry([PlanChange(), BarSim(), OpenTicket(), Balance(), Fallback()]))


@dataclass
class Chat:
    """One customer's conversation through the router; `now` and the customer can change."""

    account: Account | None = SAM
    now: datetime = NOW
    operator: OperatorConfig = field(default_factory=OperatorConfig)
    conv: ConversationState = field(default_factory=lambda: ConversationState(FlowState(), 1))
    last: Reply = field(default_factory=lambda: Reply(text=""))

    async def say(
        self,
        text: str,
        intent: str = "out_of_scope",
        *,
        ranking: tuple[tuple[str, float], ...] = (),
        also: str | None = None,
    ) -> str:
        """Send `text`, classified as `intent` (confidently, unless a `ranking` says how
        sure; `also`: a second request heard in it); the replies' texts."""
        self.conv.account_id = self.account.id if self.account is not None else None
        self.conv.state.begun = False  # a new turn, as if read back from the database
        ctx = TurnContext(
            message=InboundMessage("sms", "+12025550102", text, "x", self.now),
            text=text,
            parse=ParseResult(
                text,
                intent,
                ranking[0][1] if ranking else 0.9,
                tuple(extract_entities(text)),
                ranking,
                also,
            ),
            account=self.account,
            state=self.conv.state,
            billing=BILLING,
            links=LinkSigner(SETTINGS.secret_key, SETTINGS.public_url),
            registry=ROUTER.registry,
            settings=SETTINGS,
            now=self.now,
            operator=self.operator,
        )
        replies, _ = await ROUTER.route(ctx, self.conv)
        self.last = replies[-1]
        return "\n".join(reply.text for reply in replies)

    async def at_confirmation(self) -> str:
        """Start a plan change and answer up to its confirmation; the flow's id."""
        await self.say("change my plan", "plan_change")
        await self.say("Unlimited 100")
        return str(self.conv.state.slots["flow_id"])

    @property
    def waiting(self) -> list[str]:
        return [frame.flow for frame in self.conv.suspended]


@pytest.fixture(autouse=True)
def _no_changes_yet() -> None:
    made.clear()


# --- setting a flow aside and the reminder ----------------------------------------------------
async def test_a_confident_other_intent_sets_the_flow_aside_and_reminds_of_it() -> None:
    chat = Chat()
    flow_id = await chat.at_confirmation()

    answer = await chat.say("actually what do I owe?", "balance")

    assert answer == f"You owe $64.20.\n\n{REMINDER}"
    assert [(o.label, o.value) for o in chat.last.options] == [
        ("Back to: Change my plan", "resume:plan_change")
    ]
    assert not chat.conv.state.active
    [frame] = chat.conv.suspended
    assert (frame.flow, frame.step, frame.slots["flow_id"]) == ("plan_change", "confirm", flow_id)
    assert frame.history == ("choose",)


async def test_the_reminder_is_in_spanish_for_maria() -> None:
    chat = Chat(account=MARIA)
    await chat.at_confirmation()

    answer = await chat.say("¿cuánto debo?", "balance")

    assert answer == (
        'Debes 64,20 $.\n\nEstábamos a medias con "Cambiar de plan". Di "volver" para seguir.'
    )
    assert chat.last.options[-1].label == "Volver a: Cambiar de plan"
    assert await chat.say("volvamos al plan", "plan_change") == (
        'Volvemos a "Cambiar de plan".\nChange to Unlimited 100 today for $12.90?'
    )


async def test_a_flow_off_the_menu_is_reminded_of_without_a_name() -> None:
    chat = Chat()
    await chat.say("my internet is down", "open_ticket")

    answer = await chat.say("what do I owe", "balance")

    assert answer.endswith('We were in the middle of something else. Say "back" to carry on.')
    assert chat.last.options[-1].label == "Back to where we were"
    assert await chat.say("back") == "Back to where we were.\nPlease describe the problem."


async def test_the_reminder_comes_once_and_back_still_resumes_after_it() -> None:
    chat = Chat()
    await chat.at_confirmation()
    assert (await chat.say("what do I owe", "balance")).endswith(REMINDER)

    assert REMINDER not in await chat.say("and my balance again?", "balance")  # not every time
    assert (await chat.say("back")).endswith("Change to Unlimited 100 today for $12.90?")


async def test_help_mid_flow_sets_the_flow_aside_and_reminds_of_it() -> None:
    chat = Chat()
    await chat.at_confirmation()

    answer = await chat.say("help")

    assert answer.startswith("Here's what I can do:")  # no help intent here: the menu
    assert answer.endswith(REMINDER)
    assert (await chat.say("back")).endswith("Change to Unlimited 100 today for $12.90?")


# --- coming back ------------------------------------------------------------------------------
async def test_back_to_the_plan_asks_the_same_question_and_the_change_happens_once() -> None:
    chat = Chat()
    flow_id = await chat.at_confirmation()
    await chat.say("actually what do I owe?", "balance")

    again = await chat.say("ok back to the plan", "plan_change")

    assert again == 'Back to "Change my plan".\nChange to Unlimited 100 today for $12.90?'
    assert chat.conv.suspended == []
    assert (chat.conv.state.step, chat.conv.state.slots["flow_id"]) == ("confirm", flow_id)
    assert await chat.say("yes") == "Done: you're on the new plan."
    assert made == [f"plan_change:{flow_id}"]


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("back", "out_of_scope"),
        ("Back to the plan", "plan_change"),
        ("let's go back", "out_of_scope"),
        ("continue", "continue_service"),  # the NLU hears the spending cap's CONTINUE
        ("carry on", "out_of_scope"),
        ("Where were we?", "out_of_scope"),
        ("seguimos", "out_of_scope"),
        ("volver", "out_of_scope"),
        ("¿Dónde estábamos?", "out_of_scope"),
        ("1", "out_of_scope"),  # the reminder's option, by number
        ("resume:plan_change", "out_of_scope"),  # ... or tapped
        ("yes", "out_of_scope"),  # yes to the reminder
    ],
)
async def test_each_way_of_asking_resumes_the_flow_at_its_step(text: str, intent: str) -> None:
    chat = Chat()
    flow_id = await chat.at_confirmation()
    await chat.say("what do I owe", "balance")

    assert (await chat.say(text, intent)).endswith("Change to Unlimited 100 today for $12.90?")
    assert (chat.conv.state.flow, chat.conv.state.step) == ("plan_change", "confirm")
    assert chat.conv.state.slots["flow_id"] == flow_id


async def test_back_in_an_open_flow_goes_to_its_previous_question_first() -> None:
    chat = Chat()
    await chat.say("I lost my phone", "bar_sim")
    await chat.at_confirmation()  # a confident plan_change sets the barring aside

    assert (await chat.say("back")).endswith("Which plan would you like?")
    # the plan change has no earlier question: "back" leaves it for the barring
    assert await chat.say("back") == 'Back to "Block my SIM".\nWhat\'s your PIN?'
    assert chat.conv.state.flow == "bar_sim"
    assert chat.waiting == []


async def test_naming_a_suspended_flow_with_another_open_swaps_them() -> None:
    chat = Chat()
    await chat.at_confirmation()
    await chat.say("I lost my phone", "bar_sim")

    answer = await chat.say("ok, back to the plan", "plan_change")

    assert answer.endswith("Change to Unlimited 100 today for $12.90?")
    assert chat.waiting == ["bar_sim"]


async def test_generic_words_with_a_flow_open_stay_with_that_flow() -> None:
    chat = Chat()
    await chat.at_confirmation()
    await chat.say("my internet is down", "open_ticket")

    await chat.say("where were we")

    assert chat.conv.state.flow == "open_ticket"
    assert chat.waiting == ["plan_change"]


async def test_starting_the_same_intent_afresh_replaces_its_suspended_copy() -> None:
    chat = Chat()
    old = await chat.at_confirmation()
    await chat.say("what do I owe", "balance")

    answer = await chat.say("I want to change my plan", "plan_change")

    assert answer == "Which plan would you like?"  # no reminder of the old one
    assert chat.waiting == []
    assert chat.conv.state.slots["flow_id"] != old


async def test_at_most_two_flows_wait_and_the_oldest_goes() -> None:
    chat = Chat()
    await chat.at_confirmation()
    await chat.say("I lost my phone", "bar_sim")
    await chat.say("my internet is down", "open_ticket")
    await chat.say("what do I owe", "balance")

    assert len(chat.waiting) == MAX_SUSPENDED
    assert chat.waiting == ["bar_sim", "open_ticket"]  # the plan change was the oldest
    await chat.say("back")
    assert chat.conv.state.flow == "open_ticket"
    assert (await chat.say("cancel")).startswith("OK, I've stopped that.")


async def test_a_flow_switched_off_while_set_aside_is_not_resumed() -> None:
    chat = Chat()
    await chat.at_confirmation()
    await chat.say("what do I owe", "balance")
    chat.operator = OperatorConfig(features=Features(plan_changes=False))

    answer = await chat.say("back to the plan", "plan_change")

    assert "Change to" not in answer
    assert not chat.conv.state.active and chat.waiting == []
    assert made == []


# --- secrets ----------------------------------------------------------------------------------
async def test_a_pin_is_never_taken_for_an_intent() -> None:
    chat = Chat()
    await chat.say("I lost my phone", "bar_sim")
    assert ROUTER.is_secret_step(chat.conv.state.flow, chat.conv.state.step)

    answer = await chat.say("2468", "balance")  # even if the NLU heard "balance" in it

    assert answer == "Your SIM is barred."
    assert chat.waiting == []


async def test_a_flow_set_aside_at_its_pin_step_asks_for_the_pin_again() -> None:
    chat = Chat()
    await chat.say("I lost my phone", "bar_sim")
    await chat.say("actually what do I owe?", "balance")

    assert await chat.say("back") == 'Back to "Block my SIM".\nWhat\'s your PIN?'
    # the next message is a secret again: stored as a placeholder, never classified
    assert ROUTER.is_secret_step(chat.conv.state.flow, chat.conv.state.step)
    assert await chat.say("2468", "balance") == "Your SIM is barred."


# --- leaving it -------------------------------------------------------------------------------
async def test_menu_drops_the_suspended_flows() -> None:
    chat = Chat()
    await chat.at_confirmation()
    await chat.say("what do I owe", "balance")

    menu = await chat.say("menu")

    assert menu == "Here's what I can do:"
    assert chat.waiting == []
    assert [o.value for o in chat.last.options] == [
        "intent:plan_change",
        "intent:bar_sim",
        "intent:balance",
    ]


@pytest.mark.parametrize("text", ["never mind", "cancelar", "no"])
async def test_never_mind_or_no_to_the_reminder_drops_the_suspended_flows(text: str) -> None:
    chat = Chat()
    await chat.at_confirmation()
    await chat.say("what do I owe", "balance")

    answer = await chat.say(text)

    assert answer.startswith(("OK, I've stopped that.", "De acuerdo, lo he dejado."))
    assert chat.waiting == []
    assert (await chat.say("back")).startswith("Here's what I can do")
    assert made == []


async def test_a_suspended_flow_older_than_the_idle_timeout_is_gone() -> None:
    chat = Chat()
    await chat.at_confirmation()
    chat.now = NOW + IDLE - timedelta(minutes=5)
    assert (await chat.say("what do I owe", "balance")).endswith(REMINDER)
    chat.now += IDLE - timedelta(minutes=5)  # set aside 10 minutes before the next turn

    chat.now += timedelta(minutes=6)  # now set aside longer ago than the idle timeout

    assert await chat.say("what do I owe", "balance") == "You owe $64.20."
    assert (await chat.say("back")).startswith("Here's what I can do")


async def test_an_old_reminder_option_says_there_is_nothing_to_go_back_to() -> None:
    chat = Chat()
    await chat.at_confirmation()
    await chat.say("what do I owe", "balance")
    chat.now += IDLE + timedelta(seconds=1)

    answer = await chat.say("resume:plan_change")

    assert answer.startswith("There's nothing to go back to any more")
    assert made == []


async def test_another_customer_on_the_address_never_gets_the_suspended_flow() -> None:
    chat = Chat()
    await chat.at_confirmation()
    await chat.say("what do I owe", "balance")

    chat.account = MARIA  # the number changed hands
    answer = await chat.say("¿cuánto debo?", "balance")

    assert answer == "Debes 64,20 $."
    assert chat.waiting == []


# --- stored with the conversation -------------------------------------------------------------
def _row(values: dict[str, object], updated_at: datetime) -> Any:
    """What the conversation's row holds after `SAVE`, its JSON read back as a database does."""
    return SimpleNamespace(
        id=values["c_id"],
        account_id=values["c_account_id"],
        flow=values["c_flow"],
        step=values["c_step"],
        slots=json.loads(json.dumps(values["c_slots"])),
        options=values["c_options"],
        updated_at=updated_at,
    )


async def test_the_suspended_flow_survives_a_restart() -> None:
    chat = Chat()
    flow_id = await chat.at_confirmation()
    await chat.say("what do I owe", "balance")

    saved = conversations.save_values(chat.conv, "token", chat.now)
    later = chat.now + timedelta(minutes=1)
    chat.conv = conversations.state_of(_row(saved, chat.now), later, IDLE)
    chat.now = later

    assert chat.waiting == ["plan_change"]
    assert (await chat.say("back")).endswith("Change to Unlimited 100 today for $12.90?")
    assert await chat.say("yes") == "Done: you're on the new plan."
    assert made == [f"plan_change:{flow_id}"]


async def test_a_suspended_flow_expires_with_the_conversation() -> None:
    chat = Chat()
    await chat.at_confirmation()
    await chat.say("what do I owe", "balance")
    saved = conversations.save_values(chat.conv, "token", chat.now)

    restored = conversations.state_of(_row(saved, chat.now), chat.now + IDLE * 2, IDLE)

    assert restored.suspended == []
    assert not restored.expired  # nothing was open: no "it timed out" notice


def test_an_active_flow_and_suspended_ones_are_stored_side_by_side() -> None:
    state = FlowState("bar_sim", "pin", {"flow_id": "b1"}, [])
    frame = SuspendedFlow("plan_change", "confirm", {"flow_id": "p1"}, ("choose",), 1, NOW)
    conv = ConversationState(state, 1, suspended=[frame])

    saved = conversations.save_values(conv, "token", NOW)
    restored = conversations.state_of(_row(saved, NOW), NOW, IDLE)

    assert (restored.state.flow, restored.state.slots) == ("bar_sim", {"flow_id": "b1"})
    assert restored.suspended == [frame]
