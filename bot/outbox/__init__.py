"""The outbox: every message sent outside an immediate reply is stored first, then delivered.

`Outbox` (store, enqueue, wake, list, deliver_due) is the API; `OutboxWorker` delivers in the
background; a `Sender` per channel sends, raising `DeliveryError`. See docs/outbox.md.
"""

from bot.outbox.delivery import DeliveryLimits
from bot.outbox.outbox import Outbox
from bot.outbox.ports import DeliveryError, SendContext, Sender
from bot.outbox.retry import RetryPolicy
from bot.outbox.store import OutboxEntry
from bot.outbox.worker import OutboxWorker

MAX_ATTEMPTS = RetryPolicy().max_attempts

__all__ = [
    "MAX_ATTEMPTS",
    "DeliveryError",
    "DeliveryLimits",
    "Outbox",
    "OutboxEntry",
    "OutboxWorker",
    "RetryPolicy",
    "SendContext",
    "Sender",
]
