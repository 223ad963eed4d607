"""Applying a payment provider's verified webhook event, once per event id.

The event is stored before it is applied; a replay is acknowledged without doing anything
again; an event whose application fails is forgotten, so the provider's retry applies it.
Every effect is idempotent by itself too (the payment reference, the account's mandate),
so an event and the customer's own return racing each other still pay once.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.payments import ChargeOutcome, Ignored, SavedMethod, Settled, SetupCompleted, WebhookEvent
from bot.payments.autopay import enrol
from bot.payments.fulfilment import settle
from bot.services import Services
from bot.store.provider_events import ProviderEvents


@dataclass(frozen=True, slots=True)
class Applied:
    event_id: str
    type: str
    replayed: bool
    effect: str  # "payment", "autopay", "ignored", …


async def apply_event(services: Services, event: WebhookEvent) -> Applied:
    provider = services.payments.name
    store = ProviderEvents(services.sessions)
    now = services.clock.now()
    if not await store.receive(provider, event.id, event.type, now=now):
        return Applied(event.id, event.type, replayed=True, effect="replayed")
    try:
        effect = await _apply(services, event)
    except BaseException:
        await store.forget(provider, event.id)
        raise
    await store.processed(provider, event.id, now=services.clock.now())
    return Applied(event.id, event.type, replayed=False, effect=effect)


async def _apply(services: Services, event: WebhookEvent) -> str:
    outcome = event.outcome
    now = services.clock.now()
    if isinstance(outcome, Settled):
        await settle(services, outcome, now=now)
        return "payment"
    if isinstance(outcome, SetupCompleted):
        method = await services.payments.confirm_setup(outcome.provider_reference)
        if method is not None:
            await enrol(services, method, now=now)
        return "autopay" if method is not None else "ignored"
    if isinstance(outcome, SavedMethod):
        await enrol(services, outcome, now=now)
        return "autopay"
    if isinstance(outcome, ChargeOutcome | Ignored):
        # Autopay charges are recorded when they are made (bot.payments.autopay); their
        # events only confirm what is already there.
        return "ignored"
    return "ignored"
