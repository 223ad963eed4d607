"""`web_login`: a sign-in link to the customer's own web account, handed out in chat.

The channel already told us who is writing (their number, a linked chat, the demo's "act
as"), so the link itself is the proof of identity on the web: it is signed, works once and
only for 15 minutes (`LinkSigner.login_url`). Strangers never get here: the router sends
people it cannot identify to `out_of_scope`, which tells them nothing about any account.
`invoice` and `pay_bill` reuse the same link and note when they point at the web view.
"""

from __future__ import annotations

from bot.flow import Intent, TurnContext
from bot.links import LOGIN_LINK_MAX_AGE
from bot.types import Reply
from intents.common import TRAINING

ACCOUNT_PATH = "/account"
LINK_MINUTES = LOGIN_LINK_MAX_AGE // 60

LINK_TEXT = {
    "en": "Here is your link to open your account on the web: {url}",
    "es": "Aquí tienes tu enlace para abrir tu cuenta en la web: {url}",
}
# Said wherever chat hands out a sign-in link, so nobody is surprised when a second tap fails.
ONCE_NOTE = {
    "en": "It signs you in once and works for {minutes} minutes. Don't share it: it opens "
    "your account.",
    "es": "Sirve para entrar una sola vez y caduca en {minutes} minutos. No lo compartas: abre "
    "tu cuenta.",
}
LINK_LABEL = {"en": "Open my account", "es": "Abrir mi cuenta"}

MENU_LABEL = {"en": "Open my account online", "es": "Abrir mi cuenta en la web"}


class WebLoginIntent(Intent):
    name = "web_login"
    menu_label = MENU_LABEL
    training_file = TRAINING / "web_login.yml"

    async def start(self, ctx: TurnContext) -> list[Reply]:
        assert ctx.account is not None  # the router gives strangers the fallback instead
        url = sign_in_url(ctx, ACCOUNT_PATH)
        text = f"{ctx.say(LINK_TEXT, url=url)}\n{once_note(ctx)}"
        return [Reply(text=text, link=url, link_label=ctx.say(LINK_LABEL))]


def sign_in_url(ctx: TurnContext, next_path: str) -> str:
    """A single-use sign-in link for the customer of this turn, landing on `next_path`."""
    assert ctx.account is not None
    return ctx.links.login_url(ctx.account.id, next_path=next_path)


def once_note(ctx: TurnContext) -> str:
    """The "it works once, for 15 minutes" note, in the customer's language."""
    return ctx.say(ONCE_NOTE, minutes=LINK_MINUTES)
