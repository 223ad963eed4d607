"""An alert that fails for good on the customer's channel goes to the next one.

The order is the customer's chosen channel, then their own number by SMS, then email. A
failed WhatsApp alert (no WhatsApp on that number) is sent by SMS; a failed SMS (a landline)
by email. Each fallback's dedupe key names the channels already tried, so a chain ends and
every step is queued once. Addresses that opted out (STOP) get nothing: their rows are
suppressed, not failed, so they never reach this.
"""

from __future__ import annotations

from bot.alerts.preferences import CHOOSABLE
from bot.alerts.reach import AlertReach
from bot.outbox.ports import FailedMessage
from bot.types import OutboundMessage

# Proactive messages about the account (not a conversation's reply, not a one-time code).
FALLS_BACK = frozenset(CHOOSABLE)
FROM, THEN = ":from:", ":then:"


class AlertFallback:
    """The outbox's `Fallback` for alerts."""

    def __init__(self, reach: AlertReach) -> None:
        self._reach = reach

    async def instead(self, failed: FailedMessage) -> OutboundMessage | None:
        if failed.kind not in FALLS_BACK or failed.account_id is None:
            return None
        tried = tried_channels(failed.dedupe_key) | {failed.channel}
        for channel, address in await self._reach.order_of(failed.account_id):
            if channel not in tried:
                key = fallback_key(failed.dedupe_key, failed.channel, channel)
                replies = failed.replies
                return OutboundMessage(
                    channel, address, replies, failed.kind, key, failed.account_id
                )
        return None


def fallback_key(key: str, failed: str, channel: str) -> str:
    """The next step's key: the first names the channel that failed, each the one tried."""
    start = key if THEN in key else f"{key}{FROM}{failed}"
    return f"{start}{THEN}{channel}"[:160]


def tried_channels(key: str) -> set[str]:
    """ "alert:bill_due:7:INV-1:3:from:whatsapp:then:sms" → {"whatsapp", "sms"}."""
    _, _, chain = key.partition(FROM)
    return {part for part in chain.split(THEN) if part}
