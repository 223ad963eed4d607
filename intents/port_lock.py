"""`port_lock`: the account's SIM-change and number-transfer lock, and transfers waiting for the
holder's approval.

- Turning the lock on only reduces harm: a confirmation is enough.
- Turning it off, and approving another provider's request to take a number, move the number
  away: both need strong verification (`bot.stepup`) and a confirmation, and the holder's other
  channels are told at once with a one-tap "Not me".
- A line barred as lost or stolen stays locked whatever the lock says (the status says so).
See docs/flows/port_lock.md.
"""

from __future__ import annotations

import re
import uuid

from billing_client import InvalidRequestError, PortOut, SecurityLock, SecurityLockedError
from bot import stepup
from bot.flow import Intent, TurnContext
from bot.phones import display
from bot.security_notices import SecurityEvent
from bot.types import Option, Reply
from intents import port_lock_text as text
from intents.common import TRAINING, answer_is_yes, yes_no
from intents.security_common import lock_of, lost_locked, tell_holder

_APPROVE = re.compile(r"\b(approve|allow|authori[sz]e|accept|go ahead|aprob|autoriz|acept)")
_OFF = re.compile(
    r"\b(off|unlock|remove|disable|deactivate|lift|switch (provider|carrier|network)|port(ing)? "
    r"(it |my number )?out|move my number|transfer my number|quitar|quita|desbloque|desactiv|"
    r"llevar|cambiarme|irme)"
)
_ON = re.compile(
    r"\b((turn|switch|put) (it |the lock )?on|on$|lock (my|it|the)|enable|activate|protect|"
    r"freeze|bloquea|activa|protege|congela)"
)


class PortLockIntent(Intent):
    name = "port_lock"
    menu_label = text.MENU_LABEL
    training_file = TRAINING / "port_lock.yml"
    secret_steps = stepup.SECRET_STEPS

    async def start(self, ctx: TurnContext) -> list[Reply]:
        ctx.state.begin(self.name, "choose", flow_id=uuid.uuid4().hex)
        wanted = _wanted(ctx.text)
        if wanted is None:
            return [await _status(ctx)]
        return await self._act(ctx, wanted)

    async def resume(self, ctx: TurnContext) -> list[Reply]:
        if stepup.owns(ctx.state):
            return await stepup.resume(ctx)
        handlers = {
            "choose": self._on_choice,
            "confirm_on": self._on_confirm,
            "confirm_off": self._on_confirm,
            "confirm_approve": self._on_confirm,
        }
        return await handlers[ctx.state.step or "choose"](ctx)

    async def prompt(self, ctx: TurnContext) -> list[Reply]:
        if stepup.owns(ctx.state):
            return await stepup.prompt(ctx)
        if ctx.state.step and ctx.state.step.startswith("confirm_"):
            return [_confirm(ctx)]
        return [await _status(ctx)]

    # --- steps --------------------------------------------------------------------------------
    async def _on_choice(self, ctx: TurnContext) -> list[Reply]:
        wanted = _wanted(ctx.text)
        if wanted is None:
            return [ctx.reply(ctx.say(text.PICK)), await _status(ctx)]
        return await self._act(ctx, wanted)

    async def _act(self, ctx: TurnContext, wanted: str) -> list[Reply]:
        lock = await lock_of(ctx)
        if wanted == "approve":
            return await self._approve(ctx, lock)
        if lock.locked == (wanted == "on"):
            ctx.state.finish()
            return [ctx.reply(ctx.say(text.ALREADY_ON if lock.locked else text.ALREADY_OFF))]
        if wanted == "on":
            ctx.state.goto("confirm_on")
            return [_confirm(ctx)]
        return await stepup.require(
            ctx, level="strong", purpose="port_lock_off", then="confirm_off"
        )

    async def _approve(self, ctx: TurnContext, lock: SecurityLock) -> list[Reply]:
        transfer = await _waiting(ctx, ctx.text)
        if transfer is None:
            ctx.state.finish()
            return [ctx.reply(ctx.say(text.NOTHING_WAITING))]
        ctx.state.slots.update(
            reference=transfer.reference, msisdn=transfer.msisdn, carrier=transfer.carrier
        )
        if lock.why_locked(transfer.msisdn) is not None:
            ctx.state.finish()
            return [ctx.reply(_locked_transfer(ctx, lock, transfer.msisdn))]
        return await stepup.require(
            ctx, level="strong", purpose="port_out", then="confirm_approve", number=transfer.msisdn
        )

    async def _on_confirm(self, ctx: TurnContext) -> list[Reply]:
        answer = answer_is_yes(ctx)
        if answer is None:
            return [ctx.reply(ctx.say(text.YES_OR_NO)), _confirm(ctx)]
        step, slots = ctx.state.step, ctx.state.slots
        ctx.state.finish()  # replaces the slots: the transfer's are read from `slots`
        if not answer:
            return [ctx.reply(ctx.say(text.KEPT))]
        if step == "confirm_approve":
            return [await _approve_transfer(ctx, str(slots["reference"]))]
        return [await _set_lock(ctx, locked=step == "confirm_on")]


# --- doing it ---------------------------------------------------------------------------------
async def _set_lock(ctx: TurnContext, *, locked: bool) -> Reply:
    assert ctx.account is not None
    lock = await ctx.billing.set_security_lock(
        ctx.account.id, locked, actor=f"customer:{ctx.message.channel}", now=ctx.now
    )
    if not locked and lock.created:
        reference = f"L-{ctx.now:%Y%m%d%H%M%S}"  # one notice per change
        await tell_holder(ctx, ctx.account, SecurityEvent("lock_off", reference))
    return ctx.reply(ctx.say(text.NOW_ON if locked else text.NOW_OFF))


async def _approve_transfer(ctx: TurnContext, reference: str) -> Reply:
    assert ctx.account is not None
    try:
        transfer = await ctx.billing.decide_port_out(
            reference,
            "approved",
            actor=f"customer:{ctx.message.channel}",
            now=ctx.now,
        )
    except SecurityLockedError as error:
        return ctx.reply(_locked_transfer(ctx, await lock_of(ctx), error.msisdn))
    except InvalidRequestError:  # cancelled or decided meanwhile ("Not me" elsewhere)
        return ctx.reply(ctx.say(text.NOT_WAITING, reference=reference))
    event = SecurityEvent(
        "port_out_approved", transfer.reference, transfer.msisdn, carrier=transfer.carrier
    )
    await tell_holder(ctx, ctx.account, event)
    return ctx.reply(_transfer_text(ctx, text.APPROVED, transfer))


# --- questions --------------------------------------------------------------------------------
async def _status(ctx: TurnContext) -> Reply:
    lock = await lock_of(ctx)
    parts = [ctx.say(text.IS_ON if lock.locked else text.IS_OFF)]
    parts += [lost_locked(ctx, msisdn) for msisdn in lock.lost_lines]
    options = [Option(ctx.say(text.TURN_OFF if lock.locked else text.TURN_ON), _toggle(lock))]
    for transfer in await _open_transfers(ctx):
        parts.append(_transfer_text(ctx, text.WAITING, transfer))
        options.append(Option(ctx.say(text.APPROVE), f"approve {transfer.reference}"))
        options.append(Option(ctx.say(text.NOT_ME), "intent:not_me"))
    return ctx.reply(" ".join(parts), *options)


def _confirm(ctx: TurnContext) -> Reply:
    step = ctx.state.step
    if step == "confirm_approve":
        slots = ctx.state.slots
        confirm = ctx.say(
            text.CONFIRM_APPROVE,
            number=display(str(slots["msisdn"])),
            carrier=slots["carrier"],
            reference=slots["reference"],
        )
        return ctx.reply(confirm, *yes_no(ctx))
    confirm_text = text.CONFIRM_ON if step == "confirm_on" else text.CONFIRM_OFF
    return ctx.reply(ctx.say(confirm_text), *yes_no(ctx))


def _transfer_text(ctx: TurnContext, messages: dict[str, str], transfer: PortOut) -> str:
    return ctx.say(
        messages,
        carrier=transfer.carrier,
        number=display(transfer.msisdn),
        reference=transfer.reference,
        day=ctx.date(transfer.requested_at.date()),
    )


def _locked_transfer(ctx: TurnContext, lock: SecurityLock, msisdn: str) -> str:
    if lock.why_locked(msisdn) == "lost_stolen":
        return lost_locked(ctx, msisdn)
    return ctx.say(text.LOCKED_APPROVE)


def _toggle(lock: SecurityLock) -> str:
    return "turn the lock off" if lock.locked else "turn the lock on"


def _wanted(answer: str) -> str | None:
    """ "approve", "off" or "on" as the customer said it, or None."""
    lowered = answer.lower()
    for wanted, pattern in (("approve", _APPROVE), ("off", _OFF), ("on", _ON)):
        if pattern.search(lowered):
            return wanted
    return None


async def _open_transfers(ctx: TurnContext) -> list[PortOut]:
    assert ctx.account is not None
    transfers = await ctx.billing.list_port_outs(account_id=ctx.account.id, open_only=True)
    return [transfer for transfer in transfers if transfer.status == "pending"]


async def _waiting(ctx: TurnContext, answer: str) -> PortOut | None:
    """The pending transfer named in the answer ("approve PO-000001"), or the only one."""
    transfers = await _open_transfers(ctx)
    named = [t for t in transfers if t.reference.lower() in answer.lower()]
    if named:
        return named[0]
    return transfers[0] if len(transfers) == 1 else None
