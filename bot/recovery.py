"""The recovery sweep: messages accepted but never answered (their worker died) get answered.

Runs in every serving process, at start-up and then every minute: taking a message over is
atomic (`bot.store.turns`), so sweeps in several processes never answer one message twice.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

from bot.background import BackgroundLoop

log = logging.getLogger(__name__)
SWEEP_SECONDS = 60.0


class Recoverable(Protocol):
    async def recover(self, *, limit: int = 100) -> int: ...


class RecoverySweeper(BackgroundLoop):
    """A background loop the app's lifespan starts and stops."""

    name = "billbot-recovery-sweep"

    def __init__(self, engine: Recoverable, *, every_seconds: float = SWEEP_SECONDS) -> None:
        super().__init__()
        self._engine = engine
        self._every = every_seconds

    async def run(self) -> None:
        while True:
            await self.sweep()
            await asyncio.sleep(self._every)

    async def sweep(self) -> int:
        """Answer every orphaned message now; how many there were."""
        total = 0
        try:
            while found := await self._engine.recover():
                total += found
                if found < 100:
                    break
        except Exception as error:  # the database is away: the next sweep tries again
            log.warning("recovery sweep failed (%s)", type(error).__name__)
        if total:
            log.warning("recovery sweep answered %d message(s) whose worker had died", total)
        return total
