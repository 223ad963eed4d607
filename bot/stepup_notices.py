"""When a step-up check fails: the ticket a person follows, and the holder told.

A strong check that runs out of tries (5 wrong PINs, 5 wrong codes) opens one ticket per
account per day and tells the holder on their other verified channels; a PIN lock or daily
pause emails the holder once per lock. Nothing here changes the account.
"""

from __future__ import annotations

from typing import Any

from billing_client import AccountLockedError, PinChecksPausedError
from bot import i18n
from bot.flow import TurnContext
from bot.phones import PhoneError, mask, normalize
from bot.second_factors import second_factors
from bot.stepup_frame import action, audit, frame, requester_id
from bot.stepup_text import CHANNEL_NAMES, FAILED_NOTICE, LOCK_NOTICE, PAUSE_NOTICE
from bot.stepup_zones import local_moment
from bot.types import OutboundMessage, Reply

FAILED_KIND = "stepup_failed"
_PHONE_CHANNELS = frozenset({"sms", "whatsapp", "console"})


async def hand_over(ctx: TurnContext, why: str) -> str:
    """Open (once per account per day) the ticket a person follows; tell the holder."""
    assert ctx.account is not None
    current = frame(ctx)
    purpose = str(current["purpose"])
    ticket = await ctx.billing.create_ticket(
        ctx.account.id,
        subject=f"Security check failed: {purpose}",
        description=(
            f"Step-up verification for {purpose} failed from {requester_id(ctx)}: {why}. "
            "Nothing was changed. Contact the holder on their registered details before "
            "acting on any request; the audit log has every attempt."
        ),
        channel=ctx.message.channel,
        idempotency_key=f"{FAILED_KIND}:{ctx.account.id}:{ctx.today.isoformat()}",
        now=ctx.now,
    )
    await audit(ctx, FAILED_KIND, f"{purpose}; {why}; ticket {ticket.reference}")
    await _tell_holder(ctx, current, ticket.reference)
    return ticket.reference


async def _tell_holder(ctx: TurnContext, current: dict[str, Any], ticket: str) -> None:
    """The failed check, on each of the holder's other verified channels."""
    assert ctx.account is not None
    locale = ctx.account.locale
    text = i18n.say(
        FAILED_NOTICE,
        locale,
        operator=ctx.operator.name,
        requester=requester_label(ctx, locale),
        action=action(current, locale),
        ticket=ticket,
        phone=ctx.operator.support.phone,
    )
    for where in await second_factors(ctx, ctx.account):
        ctx.notify(
            OutboundMessage(
                channel=where.channel,
                address=where.address,
                replies=(Reply(text=text),),
                kind=FAILED_KIND,
                dedupe_key=f"{FAILED_KIND}:{ticket}:{where.channel}:{where.address}"[:160],
                account_id=ctx.account.id,
            )
        )


def notify_lock(ctx: TurnContext, error: AccountLockedError, current: dict[str, Any]) -> None:
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
        doing = action(current, holder.locale)
        text = i18n.say(LOCK_NOTICE, holder.locale, action=doing, **values)
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
