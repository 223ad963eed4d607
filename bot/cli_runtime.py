"""What the CLI's commands share at run time: the prepared database, and signals that stop a
long-running command (`serve`, `scheduler`, `telegram poll`)."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Iterator

from bot.settings import Settings


async def prepare(settings: Settings) -> Settings:
    """Migrate (and seed in demo mode); the settings with the secret that signs links."""
    from bot.bootstrap import prepare_database, resolve_secret

    await prepare_database(settings)
    return await resolve_secret(settings)


@contextlib.contextmanager
def stopped_by_signals(stop: asyncio.Event) -> Iterator[None]:
    """SIGTERM and SIGINT (Ctrl-C) set `stop` while the block runs."""
    loop = asyncio.get_running_loop()
    installed: list[signal.Signals] = []
    for number in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):  # not on Windows
            loop.add_signal_handler(number, stop.set)
            installed.append(number)
    try:
        yield
    finally:
        for number in installed:
            loop.remove_signal_handler(number)
