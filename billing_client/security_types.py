"""DTOs of SIM changes, number transfers (port-outs) and the lock that guards both.

A SIM order replaces the SIM (a card or an eSIM) behind a number: while it is `ordered` the
old SIM still works; `active` means the new one took over and the old one no longer works. A
port-out is another provider asking to take the number: `pending` until the holder approves
it with strong verification (`approved`), then `completed` by the billing system; `refused`
when the lock stopped it on arrival, `cancelled` by the holder ("Not me") or the operator.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

SimKind = Literal["sim", "esim"]
SimOrderStatus = Literal["ordered", "active", "cancelled"]
PortOutStatus = Literal["pending", "approved", "refused", "cancelled", "completed"]
LockReason = Literal["account_lock", "lost_stolen"]
OPEN_PORT_OUTS: tuple[PortOutStatus, ...] = ("pending", "approved")


@dataclass(frozen=True, slots=True)
class SimOrder:
    """A replacement SIM or eSIM for one line; reference "S-" + zero-padded id."""

    id: int
    reference: str
    account_id: int
    line_id: int
    msisdn: str
    kind: SimKind
    status: SimOrderStatus
    ordered_at: datetime
    activated_at: datetime | None = None
    cancelled_at: datetime | None = None
    reason: str = ""  # why it was cancelled
    created: bool = True  # False: the same request again, or nothing changed


@dataclass(frozen=True, slots=True)
class PortOut:
    """Another provider's request to take a number; reference "PO-" + zero-padded id."""

    id: int
    reference: str
    account_id: int
    line_id: int
    msisdn: str
    carrier: str
    status: PortOutStatus
    requested_at: datetime
    decided_at: datetime | None = None
    reason: str = ""  # why it was refused or cancelled
    created: bool = True  # False: the same request (source id) again, or nothing changed

    @property
    def open(self) -> bool:
        return self.status in OPEN_PORT_OUTS


@dataclass(frozen=True, slots=True)
class SecurityLock:
    """The account's SIM-change and transfer lock, and the lines locked regardless because
    they are barred as lost or stolen."""

    account_id: int
    locked: bool
    changed_at: datetime | None = None
    lost_lines: tuple[str, ...] = ()  # numbers barred as lost or stolen
    created: bool = True  # False when set to what it already was

    def why_locked(self, msisdn: str) -> LockReason | None:
        """Why a SIM change or transfer of `msisdn` is refused, or None when it may go on."""
        if msisdn in self.lost_lines:
            return "lost_stolen"
        return "account_lock" if self.locked else None
