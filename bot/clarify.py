"""Reading a new request when the recogniser is unsure, or hears two.

- **Did you mean?** When the two best intents are close (`ParseResult.did_you_mean`), guessing
  one answers the wrong question about as often as the right one; asking "Did you mean A or
  B?" with both as options costs the customer one tap. Only for an identified customer (a
  stranger is offered the menu anyway) and only between intents the menu names.
- **Two requests in one message** ("pay my bill and block my sim"): the first is answered, the
  second waits as a *queued* frame on the suspended stack (`bot.suspended`) and is offered as
  soon as no flow is open ("You also asked about …"), exactly like a flow set aside.
"""

from __future__ import annotations

from bot.flow import TurnContext
from bot.suspended import SuspendedFlow
from bot.types import Option, Reply

DID_YOU_MEAN = {
    "en": "I want to be sure I get this right. Did you mean one of these?",
    "es": "Quiero asegurarme de entenderte bien. ¿Te refieres a una de estas?",
}
SOMETHING_ELSE = {"en": "Something else", "es": "Otra cosa"}
# Below this the best guess is no guess: an off-topic message ("what's the weather?") spreads
# its little confidence over many intents, and offering two of them would only puzzle.
MIN_CLOSE_CALL = 0.25


def close_call(ctx: TurnContext) -> Reply | None:
    """ "Did you mean A or B?" when the recogniser's two best are close; else None."""
    pair = ctx.parse.did_you_mean()
    if pair is None or ctx.account is None or pair[0][1] < MIN_CLOSE_CALL:
        return None
    if ctx.parse.also is not None:  # two requests, each read clearly: no need to ask
        return None
    labels = [(name, ctx.registry.get(name).menu_label) for name, _ in pair]
    if any(
        label is None or not ctx.allows(ctx.registry.feature_of(name)) for name, label in labels
    ):
        return None
    options = [Option(ctx.say(label), f"intent:{name}") for name, label in labels if label]
    return ctx.reply(ctx.say(DID_YOU_MEAN), *options, Option(ctx.say(SOMETHING_ELSE), "menu"))


def queued_request(ctx: TurnContext, started: str) -> SuspendedFlow | None:
    """The second request of the message, to offer once the first is done; None when there is
    none, it is what was just started, or it is not for this customer."""
    also = ctx.parse.also
    if also is None or also == started or ctx.account is None:
        return None
    intent = ctx.registry.get(also)
    if intent.name != also or not ctx.allows(intent.feature):
        return None
    return SuspendedFlow(also, None, account_id=ctx.account.id, at=ctx.now, queued=True)
