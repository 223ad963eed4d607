"""A long list of options goes a page at a time ("More"); a number picks from the page shown."""

from __future__ import annotations

from billing_client import Account
from bot.flow import FlowState, Intent, TurnContext
from bot.links import LinkSigner
from bot.registry import Registry
from bot.routing import Router
from bot.settings import Settings
from bot.store.conversations import ConversationState
from bot.types import InboundMessage, Option, Reply
from tests.fakes import NOW, FakeBillingClient, parse

SETTINGS = Settings(demo=True, secret_key="unit-test-secret-key-0123")


class PickALine(Intent):
    """A flow offering twelve lines, then saying which was picked."""

    name = "pick"

    async def start(self, ctx: TurnContext) -> list[Reply]:
        ctx.state.begin(self.name, "choose")
        options = tuple(Option(f"Line {n}", f"line:{n}") for n in range(1, 13))
        return [ctx.reply("Which line?", *options)]

    async def resume(self, ctx: TurnContext) -> list[Reply]:
        ctx.state.finish()
        return [ctx.reply(f"You picked {ctx.text}")]


class Fallback(Intent):
    name = "out_of_scope"

    async def start(self, ctx: TurnContext) -> list[Reply]:
        return [ctx.reply("menu")]


ROUTER = Router(Registry([PickALine(), Fallback()]))


async def send(conv: ConversationState, account: Account, text: str, intent: str) -> Reply:
    ctx = TurnContext(
        message=InboundMessage("sms", "+12025550102", text, "x", NOW),
        text=text,
        parse=parse(text, intent),
        account=account,
        state=conv.state,
        billing=FakeBillingClient(),
        links=LinkSigner(SETTINGS.secret_key, SETTINGS.public_url),
        registry=ROUTER.registry,
        settings=SETTINGS,
        now=NOW,
    )
    replies, _ = await ROUTER.route(ctx, conv)
    return replies[-1]


async def test_a_long_list_shows_eight_options_and_more_then_the_rest() -> None:
    account = FakeBillingClient().accounts[1]
    conv = ConversationState(state=_fresh(), account_id=account.id)

    first = await send(conv, account, "pick a line", "pick")
    assert [o.label for o in first.options] == [*(f"Line {n}" for n in range(1, 9)), "More"]

    second = await send(conv, account, "9", "out_of_scope")  # "More" is the ninth option
    assert second.text == "Which line?"
    assert [o.value for o in second.options] == [f"line:{n}" for n in range(9, 13)]

    picked = await send(conv, account, "2", "out_of_scope")
    assert picked.text == "You picked line:10"


async def test_typing_more_turns_the_page_too() -> None:
    account = FakeBillingClient().accounts[1]
    conv = ConversationState(state=_fresh(), account_id=account.id)
    await send(conv, account, "pick a line", "pick")

    second = await send(conv, account, "more", "out_of_scope")

    assert [o.label for o in second.options] == [f"Line {n}" for n in range(9, 13)]


def _fresh() -> FlowState:
    return FlowState()
