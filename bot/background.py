"""A loop that runs beside the web app's requests, started and stopped by its lifespan."""

from __future__ import annotations

import asyncio
import contextlib


class BackgroundLoop:
    """Runs `run()` in an asyncio task; `stop()` cancels it (work in flight is abandoned and
    its lease lets another worker finish it)."""

    name = "billbot-background"

    def __init__(self) -> None:
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        if not self.running:
            self._task = asyncio.create_task(self.run(), name=self.name)

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def run(self) -> None:
        raise NotImplementedError
