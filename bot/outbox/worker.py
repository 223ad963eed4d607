"""The background delivery task: woken after commits, polling for retries, never in a turn."""

from __future__ import annotations

import asyncio
import logging

from bot.background import BackgroundLoop
from bot.outbox.outbox import Outbox

log = logging.getLogger(__name__)
POLL_SECONDS = 2.0
# After a wake-up, wait this long before claiming: under load the replies of many turns go in
# one claim instead of one claim (five statements) each; a customer does not notice 20 ms.
LINGER_SECONDS = 0.02


class OutboxWorker(BackgroundLoop):
    """Runs `Outbox.deliver_due` in an asyncio task the app's lifespan starts and stops.

    Woken by `Outbox.wake()` in this process; rows queued by other processes, backoff retries
    and rows whose worker died are found by polling every `poll_seconds`. Several workers
    (processes) may run on one database: claims are leased, so each row is sent by one.
    """

    name = "billbot-outbox-worker"

    def __init__(
        self,
        outbox: Outbox,
        *,
        poll_seconds: float = POLL_SECONDS,
        linger_seconds: float = LINGER_SECONDS,
    ) -> None:
        super().__init__()
        self._outbox = outbox
        self._poll_seconds = poll_seconds
        self._linger_seconds = linger_seconds

    async def run(self) -> None:
        while True:
            handled = await self._step()
            if handled < self._outbox.batch_size:  # a full batch means more may be due
                await self._outbox.wait_for_work(self._poll_seconds)
                await asyncio.sleep(self._linger_seconds)

    async def _step(self) -> int:
        try:
            return await self._outbox.deliver_due()
        except Exception as error:  # the database is away: try again at the next poll
            log.warning("outbox: delivery round failed (%s)", type(error).__name__)
            return 0
