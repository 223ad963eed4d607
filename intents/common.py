"""Small helpers shared by intent handlers: yes/no questions, line labels, training files."""

from __future__ import annotations

from pathlib import Path

from billing_client import Account, Line
from bot.flow import TurnContext
from bot.holders import verified_channels
from bot.phones import display
from bot.types import Option, OutboundMessage, Reply

# Each intent's Rasa-format training examples: intents/nlu/<name>.yml.
TRAINING = Path(__file__).resolve().parent / "nlu"
YES = {"en": "Yes", "es": "Sí"}
NO = {"en": "No", "es": "No"}


def yes_no(ctx: TurnContext) -> tuple[Option, Option]:
    return Option(ctx.say(YES), "yes"), Option(ctx.say(NO), "no")


def answer_is_yes(ctx: TurnContext) -> bool | None:
    """True/False for a yes/no answer (typed, numbered or tapped); None when unclear."""
    if ctx.text in ("yes", "no"):
        return ctx.text == "yes"
    entity = ctx.parse.entity("yes_no")
    return None if entity is None else bool(entity.value)


def line_label(line: Line) -> str:
    status = " (barred)" if line.status == "barred" else ""
    return f"{display(line.msisdn)} — {line.holder_name}{status}"


async def holder_addresses(
    ctx: TurnContext, account: Account, *, lost: str | None = None
) -> list[tuple[str, str]]:
    """(channel, address) of every channel the account holder verified, the email first:
    their own lines by SMS (not the `lost` phone) and the chats linked to their numbers (and
    to the lost one's); never the conversation asking."""
    found = await verified_channels(ctx.billing, ctx.addresses, account, skip_sms=lost)
    asking = (ctx.message.channel, ctx.message.sender)
    return [where for where in found if where != asking]


async def tell_other_channels(ctx: TurnContext, text: str, *, kind: str, key: str) -> None:
    """Queue `text` (already in the customer's language) to the holder's other channels."""
    assert ctx.account is not None
    notice = Reply(text=text)
    for channel, address in await holder_addresses(ctx, ctx.account):
        dedupe_key = f"{kind}:{key}:{channel}:{address}"[:160]
        message = OutboundMessage(channel, address, (notice,), kind, dedupe_key, ctx.account.id)
        ctx.notify(message)
