"""The billing system's side of SIM changes and number transfers: what `billbot sims`,
`billbot port-out` and the events `port_out.requested` / `sim.activated` do.

Each change is made in the billing core once, then the holder is told at once on every verified
channel with a one-tap "Not me" (`bot.security_notices`, queued in the outbox, once per event
and address). A transfer request is refused on arrival while the account's lock is on or the
line is barred as lost or stolen, and the holder hears of the refusal too.
"""

from __future__ import annotations

from billing_client import BillingClient, PortOut, SimOrder
from bot.clock import Clock
from bot.outbox import Outbox
from bot.security_notices import SecurityEvent, SecurityEventKind, SecurityNotices

ACTOR = "billing"


class SecurityDesk:
    """Records SIM activations and transfer requests and tells the holder."""

    def __init__(
        self, *, billing: BillingClient, notices: SecurityNotices, outbox: Outbox, clock: Clock
    ) -> None:
        self._billing = billing
        self._notices = notices
        self._outbox = outbox
        self._clock = clock

    async def request_port_out(
        self, msisdn: str, carrier: str, *, source_id: str, actor: str = ACTOR
    ) -> PortOut:
        """Record the request (pending, or refused when locked) and tell the holder."""
        transfer = await self._billing.request_port_out(
            msisdn, carrier, source_id=source_id, actor=actor, now=self._clock.now()
        )
        kind: SecurityEventKind = (
            "port_out_refused" if transfer.status == "refused" else "port_out_requested"
        )
        if transfer.status in ("pending", "refused"):
            event = SecurityEvent(kind, transfer.reference, transfer.msisdn, carrier=carrier)
            await self._tell(transfer.account_id, event)
        return transfer

    async def activate_sim(
        self, reference: str, *, iccid: str | None = None, actor: str = ACTOR
    ) -> SimOrder:
        """The new SIM takes over (the old one stops working); the holder is told."""
        order = await self._billing.activate_sim(
            reference, iccid=iccid, actor=actor, now=self._clock.now()
        )
        event = SecurityEvent("sim_activated", order.reference, order.msisdn, order.kind)
        await self._tell(order.account_id, event)
        return order

    async def _tell(self, account_id: int, event: SecurityEvent) -> None:
        """Queued once per event and address: a replayed request adds nothing."""
        account = await self._billing.get_account(account_id)
        await self._outbox.enqueue_many(await self._notices.messages(account, event))
