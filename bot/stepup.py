"""Step-up verification: one sub-flow any intent calls before a sensitive action.

Levels (docs/flows/stepup.md has the table of which action needs which):

- ``light``: the account PIN (barring: it reduces harm and must stay fast).
- ``strong``: the PIN, then a 6-digit one-time code sent to one of the holder's verified
  channels other than the one asking (`bot.second_factors`: their own number by SMS, a chat
  linked over 7 days ago, the account email). With several, the customer picks (the first by
  default). Codes come from `bot.otp`: 10 minutes, single use, 5 tries, never stored.

An intent calls it and gets control back, like a function call inside its own flow::

    return await stepup.require(ctx, level="strong", purpose="unbar_sim", then="confirm")

The conversation stays in the caller's flow (`FlowState.call`): the sub-flow's steps are
"stepup.pin", "stepup.channel", "stepup.code" and "stepup.expired", its slots live in
``slots["stepup"]``. The caller lists `SECRET_STEPS` among its secret steps (what is typed
there is stored as a placeholder) and hands those steps back here first::

    if stepup.owns(ctx.state):
        return await stepup.resume(ctx)

On success the sub-flow returns (`FlowState.leave`): ``slots["verified"]`` records the level
(a later `require` in the same flow asks nothing again), the flow moves to ``then`` and the
caller's `prompt` asks that step's question in the same reply. On failure the caller's flow
ends: wrong PINs count down and lock in the billing core (`verify_pin`, which audits each);
wrong codes count down here and are audited; at the limit of a strong check a support ticket
(one per account per day) hands it to a person, the customer gets its reference and the
holder is told on their other channels. `number` names the line in the PIN question; when
nobody is identified (barring another phone), the PIN is that number's account's
(`verify_line_pin`) and ``slots["verified_line"]`` says which line it proved.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

import phonenumbers
from babel.dates import format_date, format_time
from phonenumbers import timezone as phone_zones

from billing_client import AccountLockedError, Line, PinChecksPausedError, VerificationError
from bot import i18n, otp
from bot.features import contacts_text
from bot.flow import FlowState, TurnContext
from bot.phones import PhoneError, display, mask, normalize
from bot.second_factors import Destination, second_factors
from bot.stepup_text import (
    ACTIONS,
    ANY_ACTION,
    ASK_PIN,
    ASK_PIN_FOR,
    CHANNEL_NAMES,
    CODE_AGAIN,
    CODE_MESSAGE,
    CODE_SENT,
    EXPIRED,
    FAILED_NOTICE,
    FORGOT,
    HANDED_HINT,
    HANDED_OVER,
    LOCK_NOTICE,
    LOCKED,
    LOCKED_FOR,
    NEW_CODE,
    NO_CHANNEL,
    NO_CODES,
    PAUSE_NOTICE,
    PAUSED,
    PAUSED_FOR,
    PIN_FORMAT,
    STOLEN_HINT,
    STOP,
    STOPPED,
    TOO_MANY_SENDS,
    VERIFIED,
    WHERE,
    WRONG_CODE,
    WRONG_PIN,
)
from bot.types import Option, OutboundMessage, Reply

Level = Literal["light", "strong"]
SUB = "stepup"
VERIFIED_SLOT = "verified"
SECRET_STEPS = frozenset({f"{SUB}.pin", f"{SUB}.code"})
CODE_KIND = "stepup_code"
MAX_SENDS = 3  # codes sent in one verification (the first and two new ones)
_RANK = {"light": 1, "strong": 2}
_PIN = re.compile(r"\d{4,8}")
_FORGOT = re.compile(
    r"\b(forgot|forget|forgotten|don[' ’]?t (know|remember)|lost my pin|"
    r"olvid[eéoa]|no (la |lo |me )?(s[eé]|recuerdo|acuerdo))\b"
)
_RESEND = re.compile(
    r"\b(resend|new code|another code|send (it )?again|didn[' ’]?t (get|receive)|no code|"
    r"otro c[oó]digo|reenv[ií]a|no (me )?(ha )?llegado|no me lleg[oó])\b"
)
_PHONE_CHANNELS = frozenset({"sms", "whatsapp", "console"})


def owns(state: FlowState) -> bool:
    """Whether the conversation is inside the sub-flow (the caller hands the turn here)."""
    return state.called(SUB) is not None


async def require(
    ctx: TurnContext, *, level: Level, purpose: str, then: str, number: str | None = None
) -> list[Reply]:
    """Verify the customer at `level` for `purpose`, then continue the caller's flow at
    `then` (its question is asked by the caller's `prompt`). See the module docstring."""
    if _already(ctx, level, number):
        ctx.state.goto(then)
        return await ctx.registry.get(ctx.state.flow).prompt(ctx)
    frame: dict[str, Any] = {"level": level, "purpose": purpose, "number": number}
    frame["zone"] = _zone(ctx, number)
    if level == "strong":
        refusal = await _destinations(ctx, frame)
        if refusal is not None:
            ctx.state.finish()
            return [ctx.reply(refusal)]
    ctx.state.call(SUB, "pin", then=then, **frame)
    return [_ask_pin(ctx)]


def forgot_pin(ctx: TurnContext) -> Reply | None:
    """The way to a person when the customer says they forgot their PIN; else None."""
    if not _FORGOT.search(ctx.text.lower()):
        return None
    return ctx.reply(ctx.say(FORGOT, contacts=_contacts(ctx)))


def _already(ctx: TurnContext, level: Level, number: str | None) -> bool:
    """Whether this flow verified at `level` or above — for a stranger, for this number."""
    slots = ctx.state.slots
    if _RANK.get(str(slots.get(VERIFIED_SLOT)), 0) < _RANK[level]:
        return False
    return ctx.account is not None or slots.get("verified_number") == number


async def resume(ctx: TurnContext) -> list[Reply]:
    """Handle the customer's answer at the sub-flow's current step."""
    handlers = {
        "pin": _on_pin,
        "channel": _on_channel,
        "code": _on_code,
        "expired": _on_expired,
    }
    return await handlers[ctx.state.called(SUB) or "pin"](ctx)


async def prompt(ctx: TurnContext) -> list[Reply]:
    """Ask the current step's question again (after "back")."""
    step = ctx.state.called(SUB)
    if step == "channel":
        return [_where(ctx)]
    if step == "code":
        frame = _frame(ctx)
        where = Destination(*frame["to"][int(frame.get("via", 0))])
        return [ctx.reply(ctx.say(CODE_AGAIN, where=where.label(ctx.locale)))]
    if step == "expired":
        return [_expired(ctx)]
    return [_ask_pin(ctx)]


# --- the PIN ----------------------------------------------------------------------------------
def _ask_pin(ctx: TurnContext) -> Reply:
    number = _frame(ctx).get("number")
    if number:
        return ctx.reply(ctx.say(ASK_PIN_FOR, number=display(str(number))))
    return ctx.reply(ctx.say(ASK_PIN))


async def _on_pin(ctx: TurnContext) -> list[Reply]:
    forgot = forgot_pin(ctx)
    if forgot is not None:
        ctx.state.finish()
        return [forgot]
    pin = ctx.text.replace(" ", "")
    if not _PIN.fullmatch(pin):
        return [ctx.reply(ctx.say(PIN_FORMAT))]
    try:
        line = await _check_pin(ctx, pin)
    except VerificationError as exc:
        return [ctx.reply(ctx.plural(WRONG_PIN, exc.attempts_left))]
    except AccountLockedError as exc:
        return [await _locked(ctx, exc)]
    if line is not None:  # a stranger proved the number: the caller learns whose it is
        ctx.state.slots.update(verified_line=line.id, verified_account=line.account_id)
    if _frame(ctx)["level"] == "light":
        return await _passed(ctx)
    return await _choose(ctx)


async def _check_pin(ctx: TurnContext, pin: str) -> Line | None:
    """Check the PIN for this requester; the named number's line when nobody is identified."""
    requester = _requester_id(ctx)
    if ctx.account is not None:
        await ctx.billing.verify_pin(ctx.account.id, pin, actor=requester, now=ctx.now)
        return None
    number = str(_frame(ctx)["number"])
    return await ctx.billing.verify_line_pin(number, pin, requester=requester, now=ctx.now)


async def _locked(ctx: TurnContext, error: AccountLockedError) -> Reply:
    """The lock (or the daily pause) as the requester reads it; the holder is told by email."""
    frame = _frame(ctx)
    until = local_moment(error.until, str(frame["zone"]), ctx.locale, now=ctx.now)
    paused = isinstance(error, PinChecksPausedError)
    number = display(str(frame["number"])) if frame.get("number") else None
    if error.holder is not None:
        _notify_lock(ctx, error, frame)
    if number is not None:
        text = ctx.say(PAUSED_FOR if paused else LOCKED_FOR, number=number, until=until)
    else:
        text = ctx.say(PAUSED if paused else LOCKED, until=until)
    hint = await _lock_hint(ctx, error, frame)
    ctx.state.finish()
    return ctx.reply(f"{text} {hint}".strip())


async def _lock_hint(ctx: TurnContext, error: AccountLockedError, frame: dict[str, Any]) -> str:
    """What to do now: block by phone (barring), or the ticket a person follows (strong)."""
    if frame["purpose"] == "bar_sim":
        return ctx.say(STOLEN_HINT)
    if frame["level"] != "strong" or ctx.account is None:
        return ""
    ticket = getattr(error, "ticket_reference", None)
    if ticket is None:
        ticket = await _hand_over(ctx, "5 wrong PINs in a row (locked for 30 minutes)")
    return ctx.say(HANDED_HINT, ticket=ticket)


def _notify_lock(ctx: TurnContext, error: AccountLockedError, frame: dict[str, Any]) -> None:
    """Email the holder about the lock; its id keeps it to one notice per lock.

    Queued on every refused attempt, not only the one that caused the lock: the outbox keeps
    one message per dedupe key, and a turn that crashed after the lock still gets it sent.
    """
    holder = error.holder
    assert holder is not None
    until = local_moment(error.until, holder.timezone, holder.locale, now=ctx.now)
    values = {"requester": requester_label(ctx, holder.locale), "until": until}
    if isinstance(error, PinChecksPausedError):
        kind = "pin_paused"
        ticket = error.ticket_reference or "-"
        text = i18n.say(PAUSE_NOTICE, holder.locale, ticket=ticket, **values)
    else:
        kind = "pin_locked"
        action = _action(frame, holder.locale)
        text = i18n.say(LOCK_NOTICE, holder.locale, action=action, **values)
    ctx.notify(
        OutboundMessage(
            channel="email",
            address=holder.email,
            replies=(Reply(text=text),),
            kind=kind,
            dedupe_key=f"{kind}:{error.lock_id}",
            account_id=holder.id,
        )
    )


# --- the code ---------------------------------------------------------------------------------
async def _destinations(ctx: TurnContext, frame: dict[str, Any]) -> str | None:
    """Where a code may go, into the frame; why the check cannot be done here, if it can't."""
    if ctx.account is None or ctx.codes is None:
        return ctx.say(NO_CODES, contacts=_contacts(ctx))
    found = await second_factors(ctx, ctx.account)
    if not found:
        return ctx.say(NO_CHANNEL, contacts=_contacts(ctx))
    frame["to"] = [[where.channel, where.address] for where in found]
    return None


async def _choose(ctx: TurnContext) -> list[Reply]:
    if len(_frame(ctx)["to"]) == 1:
        return [_send(ctx, 0)]
    ctx.state.goto(f"{SUB}.channel")
    return [_where(ctx)]


def _where(ctx: TurnContext) -> Reply:
    options = [
        Option(Destination(channel, address).label(ctx.locale), f"via:{n}")
        for n, (channel, address) in enumerate(_frame(ctx)["to"], 1)
    ]
    return ctx.reply(ctx.say(WHERE), *options)


async def _on_channel(ctx: TurnContext) -> list[Reply]:
    """The customer's pick; anything that is not one of the options takes the first."""
    count = len(_frame(ctx)["to"])
    picked = ctx.text.removeprefix("via:")
    index = int(picked) - 1 if picked.isdigit() and 1 <= int(picked) <= count else 0
    return [_send(ctx, index)]


def _send(ctx: TurnContext, index: int) -> Reply:
    """Queue a new code to destination `index`; the outbox writes the code in at send time."""
    assert ctx.account is not None
    frame = _frame(ctx)
    where = Destination(*frame["to"][index])
    reference = otp.OneTimeCodes.new_reference()
    sends = int(frame.get("sends", 0)) + 1
    frame.update(via=index, reference=reference, issued_at=ctx.now.isoformat(), sends=sends)
    frame.setdefault("tries", 0)
    text = ctx.say(
        CODE_MESSAGE,
        operator=ctx.operator.name,
        code=otp.placeholder(reference),
        action=_action(frame, ctx.locale),
        phone=ctx.operator.support.phone,
    )
    ctx.notify(
        OutboundMessage(
            channel=where.channel,
            address=where.address,
            replies=(Reply(text=text),),
            kind=CODE_KIND,
            dedupe_key=f"{CODE_KIND}:{reference}",
            account_id=ctx.account.id,
        )
    )
    ctx.state.goto(f"{SUB}.code")
    return ctx.reply(ctx.say(CODE_SENT, where=where.label(ctx.locale)))


async def _on_code(ctx: TurnContext) -> list[Reply]:
    frame = _frame(ctx)
    if _RESEND.search(ctx.text.lower()):
        return [_resend(ctx)]
    if ctx.now - datetime.fromisoformat(str(frame["issued_at"])) > otp.TTL:
        ctx.state.goto(f"{SUB}.expired")
        await _audit(ctx, "stepup_code_expired", str(frame["purpose"]))
        return [_expired(ctx)]
    assert ctx.codes is not None
    if ctx.codes.matches(str(frame["reference"]), ctx.text):
        await _audit(ctx, "stepup_passed", f"{frame['purpose']}; code by {_via(frame)}")
        return await _passed(ctx)
    return [await _wrong_code(ctx)]


async def _wrong_code(ctx: TurnContext) -> Reply:
    frame = _frame(ctx)
    frame["tries"] = int(frame.get("tries", 0)) + 1
    left = otp.MAX_TRIES - frame["tries"]
    await _audit(ctx, "stepup_code_wrong", f"{frame['purpose']}; {left} tries left")
    if left > 0:
        return ctx.reply(ctx.plural(WRONG_CODE, left))
    ticket = await _hand_over(ctx, f"{otp.MAX_TRIES} wrong one-time codes")
    ctx.state.finish()
    return ctx.reply(ctx.say(HANDED_OVER, ticket=ticket))


def _expired(ctx: TurnContext) -> Reply:
    return ctx.reply(
        ctx.say(EXPIRED), Option(ctx.say(NEW_CODE), "resend"), Option(ctx.say(STOP), "stop")
    )


async def _on_expired(ctx: TurnContext) -> list[Reply]:
    wants = ctx.text == "resend" or bool(_RESEND.search(ctx.text.lower()))
    yes = ctx.parse.entity("yes_no")
    if wants or (yes is not None and yes.value is True):
        return [_resend(ctx)]
    ctx.state.finish()
    return [ctx.reply(ctx.say(STOPPED))]


def _resend(ctx: TurnContext) -> Reply:
    frame = _frame(ctx)
    if int(frame.get("sends", 0)) >= MAX_SENDS:
        ctx.state.finish()
        return ctx.reply(ctx.say(TOO_MANY_SENDS, contacts=_contacts(ctx)))
    return _send(ctx, int(frame.get("via", 0)))


# --- the outcome ------------------------------------------------------------------------------
async def _passed(ctx: TurnContext) -> list[Reply]:
    """Return to the caller at its `then` step, verified, and ask that step's question."""
    frame = _frame(ctx)
    level = str(frame["level"])
    ctx.state.leave(SUB)
    ctx.state.slots[VERIFIED_SLOT] = level
    if ctx.account is None:  # a stranger proved this number only
        ctx.state.slots["verified_number"] = frame["number"]
    replies = await ctx.registry.get(ctx.state.flow).prompt(ctx)
    if level == "strong":
        return [ctx.reply(ctx.say(VERIFIED)), *replies]
    return replies


async def _hand_over(ctx: TurnContext, why: str) -> str:
    """Open (once per account per day) the ticket a person follows; tell the holder."""
    assert ctx.account is not None
    frame = _frame(ctx)
    purpose = str(frame["purpose"])
    ticket = await ctx.billing.create_ticket(
        ctx.account.id,
        subject=f"Security check failed: {purpose}",
        description=(
            f"Step-up verification for {purpose} failed from {_requester_id(ctx)}: {why}. "
            "Nothing was changed. Contact the holder on their registered details before "
            "acting on any request; the audit log has every attempt."
        ),
        channel=ctx.message.channel,
        idempotency_key=f"stepup_failed:{ctx.account.id}:{ctx.today.isoformat()}",
        now=ctx.now,
    )
    await _audit(ctx, "stepup_failed", f"{purpose}; {why}; ticket {ticket.reference}")
    await _tell_holder(ctx, frame, ticket.reference)
    return ticket.reference


async def _tell_holder(ctx: TurnContext, frame: dict[str, Any], ticket: str) -> None:
    assert ctx.account is not None
    locale = ctx.account.locale
    text = i18n.say(
        FAILED_NOTICE,
        locale,
        operator=ctx.operator.name,
        requester=requester_label(ctx, locale),
        action=_action(frame, locale),
        ticket=ticket,
        phone=ctx.operator.support.phone,
    )
    for where in await second_factors(ctx, ctx.account):
        ctx.notify(
            OutboundMessage(
                channel=where.channel,
                address=where.address,
                replies=(Reply(text=text),),
                kind="stepup_failed",
                dedupe_key=f"stepup_failed:{ticket}:{where.channel}:{where.address}"[:160],
                account_id=ctx.account.id,
            )
        )


async def _audit(ctx: TurnContext, action: str, detail: str) -> None:
    if ctx.account is not None:
        await ctx.billing.record_audit(
            ctx.account.id, action, actor=_requester_id(ctx), detail=detail, now=ctx.now
        )


# --- helpers ----------------------------------------------------------------------------------
def _frame(ctx: TurnContext) -> dict[str, Any]:
    frame = ctx.state.slots.get(SUB)
    assert isinstance(frame, dict), "not inside step-up verification"
    return frame


def _via(frame: dict[str, Any]) -> str:
    channel, _address = frame["to"][int(frame.get("via", 0))]
    return str(channel)


def _action(frame: dict[str, Any], locale: str) -> str:
    number = display(str(frame["number"])) if frame.get("number") else ""
    return i18n.say(ACTIONS.get(str(frame["purpose"]), ANY_ACTION), locale, number=number)


def _contacts(ctx: TurnContext) -> str:
    return contacts_text(ctx.operator.support, ctx.locale)


def _zone(ctx: TurnContext, number: str | None) -> str:
    """Where lock times are shown: the customer's zone, or a stranger's number's area."""
    if ctx.account is not None:
        return ctx.account.timezone
    return number_zone(number) if number else "UTC"


def _requester_id(ctx: TurnContext) -> str:
    """Who asks, as the billing core counts and audits it."""
    return f"{ctx.message.channel}:{ctx.message.sender}"


def requester_label(ctx: TurnContext, locale: str) -> str:
    """Where the attempts came from, for the holder: the channel and a masked phone number."""
    channel = ctx.message.channel
    name = i18n.say(CHANNEL_NAMES.get(channel, {"en": channel}), locale)
    if channel not in _PHONE_CHANNELS:
        return name
    try:
        return f"{name} {mask(normalize(ctx.message.sender))}"
    except PhoneError:
        return name


def number_zone(msisdn: str) -> str:
    """The time zone of the number's area ("America/New_York" for +1 202 …), else "UTC".

    A stranger's lock message is shown in this zone, not the account's: telling someone who
    has not proven the PIN where a customer lives would also tell them the number is one.
    """
    zones = phone_zones.time_zones_for_number(phonenumbers.parse(msisdn))
    if len(zones) == 1 and zones[0] != "Etc/Unknown":
        return str(zones[0])
    return "UTC"


def local_moment(moment: datetime, zone: str, locale: str, *, now: datetime) -> str:
    """ "4:05 PM (America/Chicago)", with the date in front when it is not today there."""
    tz = ZoneInfo(zone)
    local = moment.astimezone(tz)
    text = format_time(local, format="short", locale=locale)
    if local.date() != now.astimezone(tz).date():
        text = f"{format_date(local.date(), format='long', locale=locale)} {text}"
    # CLDR puts a narrow no-break space before AM/PM; SMS alphabets have no such character.
    return f"{text.replace(chr(0x202F), ' ')} ({zone})"
