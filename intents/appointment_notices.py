"""What the `appointment` flow queues in the outbox: the change's notice and the reminder for
the day before, sent where the account's alerts go.

A reminder is keyed by visit and slot (`reminder_key`): a move queues the new slot's own and
withdraws the old one by its key, a cancel withdraws it, in the turn's transaction.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from billing_client import Account, Appointment, TechnicianSlot
from bot.alerts.reach import AlertReach, holder_phone
from bot.flow import TurnContext
from bot.types import OutboundMessage, Reply
from intents.appointment_slots import long_slot, zone_of
from intents.appointment_text import NOTICE_REMINDER

REMINDER_HOUR = 10  # local time, the day before the visit
REMINDER_KIND = "appointment_reminder"


async def announce(
    ctx: TurnContext, visit: Appointment, notice: dict[str, str], kind: str
) -> bool:
    """Queue the change's notice and the reminder for the day before; whether one was queued
    (none when the day before has already begun)."""
    when = long_slot(ctx, visit.slot)
    text = ctx.say(notice, when=when, reference=visit.reference)
    await notify(ctx, text, kind, f"{kind}:{visit.reference}:{visit.slot.id}")
    due = _reminder_time(ctx, visit.slot)
    if due is None:
        return False
    reminder = ctx.say(NOTICE_REMINDER, when=when, reference=visit.reference)
    key = reminder_key(visit.reference, visit.slot.id)
    await notify(ctx, reminder, REMINDER_KIND, key, due=due, always=True)
    return True


async def notify(
    ctx: TurnContext,
    text: str,
    kind: str,
    key: str,
    *,
    due: datetime | None = None,
    always: bool = False,
) -> None:
    """Queue `text` where the account's alerts go; a notice is skipped when that is this very
    conversation (the reply says it), a reminder (`always`) never is."""
    assert ctx.account is not None
    reach = await _reach(ctx, ctx.account)
    if reach is None or (not always and reach == (ctx.message.channel, ctx.message.sender)):
        return
    channel, address = reach
    ctx.notify(
        OutboundMessage(
            channel=channel,
            address=address,
            replies=(Reply(text=text),),
            kind=kind,
            dedupe_key=key[:160],
            account_id=ctx.account.id,
            not_before=due,
        )
    )


async def _reach(ctx: TurnContext, account: Account) -> tuple[str, str] | None:
    """The customer's alert channel (`bot.alerts.reach`); without their settings, the
    holder's number by SMS, else email."""
    if ctx.alert_settings is not None:
        reach = AlertReach(
            billing=ctx.billing, settings=ctx.alert_settings, addresses=ctx.addresses
        )
        return await reach.reach_of(account.id)
    phone = holder_phone(account, await ctx.billing.list_lines(account.id))
    return ("sms", phone) if phone else ("email", account.email)


def _reminder_time(ctx: TurnContext, slot: TechnicianSlot) -> datetime | None:
    """REMINDER_HOUR the day before the visit, in the customer's zone; None once past."""
    zone = ZoneInfo(zone_of(ctx))
    day_before = slot.starts_at.astimezone(zone).date() - timedelta(days=1)
    due = datetime.combine(day_before, time(REMINDER_HOUR), zone).astimezone(UTC)
    return due if due > ctx.now else None


def reminder_key(reference: str, slot_id: int) -> str:
    """One reminder per visit and slot: a move's new slot gets its own, the old one is
    withdrawn by this key."""
    return f"{REMINDER_KIND}:{reference}:{slot_id}"
