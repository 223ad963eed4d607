"""`sim_swap`: a replacement SIM card or eSIM for one of the account's numbers.

The most abused self-service action in telecoms, so: strong verification (`bot.stepup`: the
PIN and a code to another verified channel), a confirmation that says what happens to the SIM
in the phone, the order recorded once (keyed by the flow), and at once a notice with a one-tap
"Not me" on every other verified channel of the holder (`intents.security_common`). The old
SIM keeps working until the new one is activated (`billbot sims activate` or the billing
system's `sim.activated` event), which stops it.

Refused before any question: while the account's lock is on, and for a line barred as lost or
stolen — that one gets the replacement-SIM ticket instead (a person checks the identity, see
`intents.replacement`). See docs/flows/sim_swap.md.
"""

from __future__ import annotations

import re
import uuid

from billing_client import Line, SecurityLockedError, SimOrder
from bot import stepup
from bot.flow import Intent, TurnContext
from bot.phones import display
from bot.security_notices import SecurityEvent
from bot.types import Option, Reply
from intents import sim_swap_text as text
from intents.common import TRAINING, answer_is_yes, line_label, yes_no
from intents.plan_common import line_named, switch_line, wants_other_line
from intents.replacement import replacement_text, replacement_ticket
from intents.security_common import LOCKED, lock_of, lost_locked, tell_holder

_ESIM = re.compile(r"\b(e[- ]?sim|esim|digital|virtual|qr)\b")
_CARD = re.compile(r"\b(card|physical|plastic|tarjeta|f[ií]sica|normal|nano|micro|chip)\b")


class SimSwapIntent(Intent):
    name = "sim_swap"
    menu_label = text.MENU_LABEL
    training_file = TRAINING / "sim_swap.yml"
    secret_steps = stepup.SECRET_STEPS

    async def start(self, ctx: TurnContext) -> list[Reply]:
        lines = await _lines(ctx)
        if not lines:
            return [ctx.reply(ctx.say(text.NO_LINES))]
        ctx.state.begin(self.name, "choose_line", flow_id=uuid.uuid4().hex)
        named = line_named(ctx, lines)
        if named is not None or len(lines) == 1:
            return await self._line_chosen(ctx, named or lines[0])
        return [_choose_line(ctx, lines)]

    async def resume(self, ctx: TurnContext) -> list[Reply]:
        if stepup.owns(ctx.state):
            return await stepup.resume(ctx)
        handlers = {
            "choose_line": self._on_line,
            "replacement": self._on_replacement,
            "kind": self._on_kind,
            "confirm": self._on_confirm,
        }
        return await handlers[ctx.state.step or "choose_line"](ctx)

    async def prompt(self, ctx: TurnContext) -> list[Reply]:
        if stepup.owns(ctx.state):
            return await stepup.prompt(ctx)
        step = ctx.state.step
        if step == "confirm":
            return [_confirm(ctx)]
        if step == "kind":
            return [_ask_kind(ctx)]
        if step == "replacement":
            return [_lost(ctx)]
        return [_choose_line(ctx, await _lines(ctx))]

    # --- steps --------------------------------------------------------------------------------
    async def _on_line(self, ctx: TurnContext) -> list[Reply]:
        lines = await _lines(ctx)
        line = line_named(ctx, lines)
        if line is None:
            return [_choose_line(ctx, lines)]
        return await self._line_chosen(ctx, line)

    async def _line_chosen(self, ctx: TurnContext, line: Line) -> list[Reply]:
        ctx.state.slots.update(line_id=line.id, msisdn=line.msisdn, holder=line.holder_name)
        why = (await lock_of(ctx)).why_locked(line.msisdn)
        if why == "lost_stolen":
            return await self._lost_line(ctx, line)
        if why == "account_lock":
            ctx.state.finish()
            return [ctx.reply(ctx.say(LOCKED))]
        pending = await _open_order(ctx, line)
        if pending is not None:
            ctx.state.finish()
            return [ctx.reply(_ordered_already(ctx, pending))]
        # "I need an eSIM" says it at once; after "no, the other line" the choice stands
        kind = _kind_in(ctx.text) or ctx.state.slots.get("kind")
        if kind is None:
            ctx.state.goto("kind")
            return [_ask_kind(ctx)]
        ctx.state.slots["kind"] = kind
        return await self._verify(ctx)

    async def _on_kind(self, ctx: TurnContext) -> list[Reply]:
        if wants_other_line(ctx):
            return await self._other_line(ctx)
        kind = _kind_in(ctx.text)
        if kind is None:
            return [ctx.reply(ctx.say(text.PICK_KIND)), _ask_kind(ctx)]
        ctx.state.slots["kind"] = kind
        return await self._verify(ctx)

    async def _verify(self, ctx: TurnContext) -> list[Reply]:
        number = str(ctx.state.slots["msisdn"])
        return await stepup.require(
            ctx, level="strong", purpose=self.name, then="confirm", number=number
        )

    async def _lost_line(self, ctx: TurnContext, line: Line) -> list[Reply]:
        bar = await ctx.billing.line_bar(line.id)
        ctx.state.slots["bar"] = bar.reference if bar is not None else ""
        ctx.state.goto("replacement")
        return [_lost(ctx)]

    async def _on_replacement(self, ctx: TurnContext) -> list[Reply]:
        answer = answer_is_yes(ctx)
        if answer is None:
            return [ctx.reply(ctx.say(text.YES_OR_NO)), _lost(ctx)]
        slots = ctx.state.slots
        msisdn = str(slots["msisdn"])
        ctx.state.finish()
        if not answer:
            return [ctx.reply(ctx.say(text.NO_REPLACEMENT, number=display(msisdn)))]
        ticket = await replacement_ticket(ctx, int(slots["line_id"]), msisdn, str(slots["bar"]))
        return [ctx.reply(replacement_text(ctx, ticket, msisdn))]

    async def _on_confirm(self, ctx: TurnContext) -> list[Reply]:
        if wants_other_line(ctx):
            return await self._other_line(ctx)
        answer = answer_is_yes(ctx)
        if answer is None:
            return [ctx.reply(ctx.say(text.YES_OR_NO)), _confirm(ctx)]
        if not answer:
            ctx.state.finish()
            return [ctx.reply(ctx.say(text.KEPT))]
        return await self._order(ctx)

    async def _other_line(self, ctx: TurnContext) -> list[Reply]:
        """ "No, the other line": the customer is verified already; the kind chosen stands."""
        current = int(ctx.state.slots["line_id"])
        lines = await _lines(ctx)
        return await switch_line(
            ctx, current, lines, ask_again=self.prompt, chosen=self._line_chosen
        )

    async def _order(self, ctx: TurnContext) -> list[Reply]:
        assert ctx.account is not None
        slots = ctx.state.slots
        ctx.state.finish()
        try:
            order = await ctx.billing.order_sim(
                int(slots["line_id"]),
                "esim" if slots.get("kind") == "esim" else "sim",
                idempotency_key=f"sim_swap:{slots['flow_id']}",
                actor=f"customer:{ctx.message.channel}",
                now=ctx.now,
            )
        except SecurityLockedError as error:  # locked since the customer started
            return [ctx.reply(_locked_text(ctx, error))]
        if not order.created:  # another conversation ordered one meanwhile
            return [ctx.reply(_ordered_already(ctx, order))]
        event = SecurityEvent("sim_ordered", order.reference, order.msisdn, order.kind)
        await tell_holder(ctx, ctx.account, event)
        return [ctx.reply(_done(ctx, order))]


# --- questions and answers --------------------------------------------------------------------
def _choose_line(ctx: TurnContext, lines: list[Line]) -> Reply:
    options = [Option(line_label(line), f"line:{line.id}") for line in lines]
    return ctx.reply(ctx.say(text.WHICH_LINE), *options)


def _ask_kind(ctx: TurnContext) -> Reply:
    number = display(str(ctx.state.slots["msisdn"]))
    esim, card = Option(ctx.say(text.ESIM), "esim"), Option(ctx.say(text.CARD), "sim card")
    return ctx.reply(ctx.say(text.WHICH_KIND, number=number), esim, card)


def _lost(ctx: TurnContext) -> Reply:
    msisdn = str(ctx.state.slots["msisdn"])
    offer = ctx.say(text.OFFER_REPLACEMENT)
    return ctx.reply(f"{lost_locked(ctx, msisdn)} {offer}", *yes_no(ctx))


def _confirm(ctx: TurnContext) -> Reply:
    slots = ctx.state.slots
    line = f"{display(str(slots['msisdn']))} ({slots['holder']})"
    confirm = text.CONFIRM_ESIM if slots.get("kind") == "esim" else text.CONFIRM_CARD
    return ctx.reply(ctx.say(confirm, line=line), *yes_no(ctx))


def _done(ctx: TurnContext, order: SimOrder) -> str:
    assert ctx.account is not None
    done = text.DONE_ESIM if order.kind == "esim" else text.DONE_CARD
    email = ctx.account.email
    return ctx.say(done, reference=order.reference, number=display(order.msisdn), email=email)


def _ordered_already(ctx: TurnContext, order: SimOrder) -> str:
    return ctx.say(
        text.ALREADY,
        number=display(order.msisdn),
        reference=order.reference,
        day=ctx.date(order.ordered_at.date()),
    )


def _locked_text(ctx: TurnContext, error: SecurityLockedError) -> str:
    if error.why == "lost_stolen":
        return lost_locked(ctx, error.msisdn)
    return ctx.say(LOCKED)


def _kind_in(answer: str) -> str | None:
    lowered = answer.lower()
    if _ESIM.search(lowered):
        return "esim"
    return "sim" if _CARD.search(lowered) else None


async def _lines(ctx: TurnContext) -> list[Line]:
    assert ctx.account is not None  # strangers are routed to the fallback
    lines = await ctx.billing.list_lines(ctx.account.id)
    return [line for line in lines if line.status != "terminated"]


async def _open_order(ctx: TurnContext, line: Line) -> SimOrder | None:
    assert ctx.account is not None
    orders = await ctx.billing.list_sim_orders(ctx.account.id)
    return next((o for o in orders if o.line_id == line.id and o.status == "ordered"), None)
