"""Coming back after a topic switch: the words that ask for it, and the reminder that offers it.

The router (`bot.routing`) sets a flow aside when a confident, different intent takes over
(`bot.suspended`); these pure helpers decide which frame a message asks to resume and add the
reminder ("We were in the middle of …. Say "back" to carry on.") with its option to the last
reply of a turn that leaves no flow open. Precedence is documented in docs/turns.md.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from bot.flow import TurnContext
from bot.suspended import SuspendedFlow
from bot.types import Option, Reply

RESUME_PREFIX = "resume:"  # the reminder option's value: "resume:plan_change"

# Whole messages (lower case, outer punctuation gone) asking to go back to what was set aside.
# "back" alone is routing's _BACK: the previous question first, then the suspended flow.
_RESUME = re.compile(
    r"""^((ok(ay)?|so|right|alright|fine|now|vale|bueno|venga|pues)[ ,]+)*  # "ok, "
    (
        (let'?s\ |lets\ )?(go\ |get\ )?back\ to\ [\w' ]{1,40}    # "back to the plan"
      | let'?s\ go\ back | where\ were\ we
      | (let'?s\ )?(continue|carry\ on|go\ on|resume)(\ please|\ with\ (it|that))?
      | (volvamos|volver|vuelve)(\ a\ lo\ de\ antes|\ al?\ [\w ]{1,40})?
      | seguimos | sigamos | continuemos | contin[uú]a | continuar | d[oó]nde\ est[aá]bamos
    )$""",
    re.VERBOSE,
)
# ... except going back to the start, which is the menu ("Back to the start" on its last page).
_TO_THE_START = re.compile(r"\b(start|beginning|main menu|menu|principio|inicio|men[uú])$")

REMINDER = {
    "en": 'We were in the middle of "{label}". Say "back" to carry on.',
    "es": 'Estábamos a medias con "{label}". Di "volver" para seguir.',
}
REMINDER_UNNAMED = {
    "en": 'We were in the middle of something else. Say "back" to carry on.',
    "es": 'Estábamos a medias con otra cosa. Di "volver" para seguir.',
}
QUEUED = {
    "en": 'You also asked about "{label}". Shall we do that now?',
    "es": 'También preguntaste por "{label}". ¿Lo vemos ahora?',
}
BACK_TO = {"en": "Back to: {label}", "es": "Volver a: {label}"}
BACK_TO_UNNAMED = {"en": "Back to where we were", "es": "Volver a lo de antes"}
RESUMING = {"en": 'Back to "{label}".', "es": 'Volvemos a "{label}".'}
RESUMING_UNNAMED = {"en": "Back to where we were.", "es": "Volvemos a lo de antes."}


def asks_to_resume(command: str) -> bool:
    """Whether the whole message asks to go back to what was set aside."""
    return bool(_RESUME.match(command)) and not _TO_THE_START.search(command)


def is_option(ctx: TurnContext) -> bool:
    """Whether the message is a reminder's option (tapped, or its number typed)."""
    return ctx.text.startswith(RESUME_PREFIX)


def answers_reminder(ctx: TurnContext, offered: Sequence[str]) -> bool | None:
    """A yes or no right after a reminder was offered (`offered`: the last reply's option
    values): the answer to it. None when the message is neither, or nothing was offered."""
    if not any(value.startswith(RESUME_PREFIX) for value in offered):
        return None
    answer = ctx.parse.entity("yes_no")
    return None if answer is None else bool(answer.value)


def named_frame(ctx: TurnContext, stack: Sequence[SuspendedFlow]) -> SuspendedFlow | None:
    """The frame the message names: the reminder's option, or an intent the NLU heard in it
    ("back to the plan" is `plan_change`). The newest such frame; None when none is named."""
    wanted = ctx.text.removeprefix(RESUME_PREFIX) if is_option(ctx) else None
    for frame in reversed(stack):
        if frame.flow in (wanted, ctx.parse.intent):
            return frame
    return None


def remind(ctx: TurnContext, reply: Reply, frame: SuspendedFlow) -> Reply:
    """`reply` with the reminder of `frame` after its text and the option to go back to it."""
    label = _label(ctx, frame)
    if label is None:
        text, option = ctx.say(REMINDER_UNNAMED), ctx.say(BACK_TO_UNNAMED)
    elif frame.queued:
        text, option = ctx.say(QUEUED, label=label), label
    else:
        text, option = ctx.say(REMINDER, label=label), ctx.say(BACK_TO, label=label)
    value = f"{RESUME_PREFIX}{frame.flow}"
    joined = f"{reply.text}\n\n{text}" if reply.text else text
    return replace(reply, text=joined, options=(*reply.options, Option(option, value)))


def resuming(ctx: TurnContext, frame: SuspendedFlow) -> Reply:
    """The line before the resumed flow's question, saying what it is about again."""
    label = _label(ctx, frame)
    if label is None:
        return ctx.reply(ctx.say(RESUMING_UNNAMED))
    return ctx.reply(ctx.say(RESUMING, label=label))


def _label(ctx: TurnContext, frame: SuspendedFlow) -> str | None:
    """The flow's menu label in the customer's language (None for flows off the menu)."""
    label = ctx.registry.get(frame.flow).menu_label
    return None if label is None else ctx.say(label)
