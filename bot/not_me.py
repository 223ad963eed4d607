"""The holder's "Not me": stop a SIM change or number transfer they did not ask for.

One action, whichever way it comes (the notice's link, NOT ME in chat): it cancels what is
still open (the SIM order, the transfer), bars the line when a new SIM was already activated
(whoever holds it must not keep the number), turns the account's lock on, opens one fraud
ticket that asks the fraud team to call the holder back, and audits it. It only ever reduces
harm, so it needs no PIN: a thief who taps it stops their own attempt. Everything is keyed, so
tapping twice (or the link and NOT ME) changes nothing more and answers the same.

Without a reference (NOT ME typed in chat, a notice about the lock), everything recent is
stopped: open orders and transfers, and SIMs activated in the last `RECENT`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from billing_client import Account, BillingClient, Line, PortOut, SimOrder, Ticket
from bot import i18n
from bot.phones import display

RECENT = timedelta(days=7)
Item = TypeVar("Item", SimOrder, PortOut)
ACTION = "not_me"

DONE = {
    "en": "Thank you for telling us. {stopped}SIM changes and number transfers are now locked on "
    "your account. Fraud case {ticket} is open: {callback}",
    "es": "Gracias por avisarnos. {stopped}Los cambios de SIM y la portabilidad están "
    "bloqueados en tu cuenta. Hemos abierto el caso de fraude {ticket}: {callback}",
}
STOPPED = {
    "en": "I've stopped {refs}. ",
    "es": "He parado {refs}. ",
}
BARRED = {
    "en": "The new SIM for {numbers} was already active, so I've blocked the line: nobody can "
    "use it until our team has checked who you are. ",
    "es": "La SIM nueva de {numbers} ya estaba activa, así que he bloqueado la línea: nadie "
    "podrá usarla hasta que nuestro equipo compruebe tu identidad. ",
}
COMPLETED = {
    "en": "{refs} had already gone through; our fraud team will work to get your number back. ",
    "es": "{refs} ya se había completado; nuestro equipo de fraude trabajará para recuperar tu "
    "número. ",
}
CALLBACK = {
    "en": "our fraud team will call you on {phone} as soon as they can.",
    "es": "nuestro equipo de fraude te llamará al {phone} lo antes posible.",
}
CALLBACK_EMAIL = {
    "en": "our fraud team will contact you at {email} as soon as they can.",
    "es": "nuestro equipo de fraude te escribirá a {email} lo antes posible.",
}


@dataclass(frozen=True, slots=True)
class Findings:
    """What one "Not me" changed (nothing more when repeated)."""

    cancelled: tuple[str, ...]
    barred: tuple[str, ...]  # numbers barred because their new SIM was already active
    completed: tuple[str, ...]  # transfers that had gone through (the fraud team's job)
    callback: str | None  # the number the fraud team calls, or None (email instead)


@dataclass(frozen=True, slots=True)
class Stopped:
    """What the customer is told: the findings and the fraud case."""

    findings: Findings
    ticket: Ticket


async def stop(
    billing: BillingClient, account: Account, *, reference: str, actor: str, now: datetime
) -> Stopped:
    """Do "Not me" for `reference` ("" for everything recent) on `account`."""
    # The lock first: from then on no SIM can be activated nor transfer completed, so what is
    # read next cannot change under the cancellations (an activation racing them is refused).
    await billing.set_security_lock(account.id, True, actor=actor, now=now)
    orders = _pick(await billing.list_sim_orders(account.id), reference, now)
    transfers = _pick(await billing.list_port_outs(account_id=account.id), reference, now)
    cancelled = [*await _cancel_orders(billing, orders, actor, now)]
    cancelled += await _cancel_transfers(billing, transfers, actor, now)
    barred = await _bar_taken_lines(billing, orders, actor, now)
    completed = tuple(t.reference for t in transfers if t.status == "completed")
    callback = _callback(await billing.list_lines(account.id), account, barred)
    findings = Findings(tuple(cancelled), barred, completed, callback)
    ticket = await _fraud_ticket(billing, account, reference, findings, actor, now)
    detail = f"{reference or 'recent'}: {', '.join(cancelled) or 'nothing open'}"
    detail += f"; barred {', '.join(barred)}" if barred else ""
    await billing.record_audit(account.id, ACTION, actor=actor, detail=detail, now=now)
    return Stopped(findings, ticket)


def summary(stopped: Stopped, account: Account, locale: str) -> str:
    """What the customer is told, in their language."""
    found, parts = stopped.findings, ""
    if found.cancelled:
        parts += i18n.say(STOPPED, locale, refs=", ".join(found.cancelled))
    if found.barred:
        numbers = ", ".join(display(number) for number in found.barred)
        parts += i18n.say(BARRED, locale, numbers=numbers)
    if found.completed:
        parts += i18n.say(COMPLETED, locale, refs=", ".join(found.completed))
    callback = (
        i18n.say(CALLBACK, locale, phone=display(found.callback))
        if found.callback
        else i18n.say(CALLBACK_EMAIL, locale, email=account.email)
    )
    return i18n.say(
        DONE, locale, stopped=parts, ticket=stopped.ticket.reference, callback=callback
    )


# --- steps ------------------------------------------------------------------------------------
def _pick(items: list[Item], reference: str, now: datetime) -> list[Item]:
    """The one the notice named, or everything recent."""
    if reference:
        return [item for item in items if item.reference == reference]
    return [item for item in items if is_recent(item, now)]


def is_recent(item: SimOrder | PortOut, now: datetime) -> bool:
    """Whether "Not me" without a reference stops it: anything still open, whatever its age
    (a SIM card can be in the post for days), and SIMs activated or transfers completed in the
    last `RECENT`."""
    if isinstance(item, SimOrder):
        if item.status == "ordered":
            return True
        activated = item.activated_at
        return item.status == "active" and activated is not None and now - activated <= RECENT
    return item.open or (
        item.status == "completed" and now - (item.decided_at or item.requested_at) <= RECENT
    )


async def _cancel_orders(
    billing: BillingClient, orders: list[SimOrder], actor: str, now: datetime
) -> list[str]:
    done = []
    for order in orders:
        if order.status == "ordered":
            after = await billing.cancel_sim_order(
                order.reference, reason=ACTION, actor=actor, now=now
            )
            if after.created:  # not a "Not me" at the same moment that cancelled it first
                done.append(order.reference)
    return done


async def _cancel_transfers(
    billing: BillingClient, transfers: list[PortOut], actor: str, now: datetime
) -> list[str]:
    done = []
    for transfer in transfers:
        if transfer.open:
            after = await billing.decide_port_out(
                transfer.reference, "cancelled", reason=ACTION, actor=actor, now=now
            )
            if after.created:
                done.append(transfer.reference)
    return done


async def _bar_taken_lines(
    billing: BillingClient, orders: list[SimOrder], actor: str, now: datetime
) -> tuple[str, ...]:
    """Bar (as stolen) each line whose new SIM the holder did not ask for, once per order."""
    barred = []
    for order in orders:
        if order.status == "active":
            key = f"{ACTION}:{order.reference}"
            await billing.bar_line(
                order.line_id, reason="stolen", idempotency_key=key, actor=actor, now=now
            )
            barred.append(order.msisdn)
    return tuple(dict.fromkeys(barred))


def _callback(lines: list[Line], account: Account, barred: tuple[str, ...]) -> str | None:
    """The holder's own number still in their hands: not one that was just taken."""
    own = [
        line.msisdn
        for line in lines
        if line.holder_name == account.name
        and line.status == "active"
        and line.msisdn not in barred
    ]
    return own[0] if own else None


async def _fraud_ticket(
    billing: BillingClient,
    account: Account,
    reference: str,
    found: Findings,
    actor: str,
    now: datetime,
) -> Ticket:
    """One fraud case per account per day: the link and NOT ME, or the links of two notices
    of one attack, are one case for the fraud team (the audit keeps each "Not me")."""
    key = f"{ACTION}:{account.id}:{now.date().isoformat()}"
    call = (
        f"Call the holder back on {found.callback}."
        if found.callback
        else f"The holder has no safe phone: contact them at {account.email}."
    )
    description = (
        f'The holder said "Not me" ({actor}) about {reference or "recent changes"}. '
        f"Cancelled: {', '.join(found.cancelled) or 'nothing open'}. "
        f"Lines barred (new SIM already active): {', '.join(found.barred) or 'none'}. "
        f"Transfers already completed: {', '.join(found.completed) or 'none'}. "
        f"The account's SIM-change and transfer lock is on. {call}"
    )
    return await billing.create_ticket(
        account.id,
        subject="Fraud: SIM change or number transfer the holder did not ask for",
        description=description,
        channel=actor.partition(":")[2] or "web",
        idempotency_key=key[:160],
        now=now,
    )
