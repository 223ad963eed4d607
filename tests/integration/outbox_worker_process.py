"""One outbox worker process for the multi-process test: `python -m … URL LOG GO`.

Prints "ready", waits for the file GO to exist (so the processes start sending together), then
delivers until nothing is due, appending each send's idempotency key to LOG (O_APPEND writes
of one short line do not interleave).
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from billing_client.sql.database import create_engine, session_factory
from bot.clock import SystemClock
from bot.outbox import Outbox
from bot.outbox.ports import SendContext
from bot.types import Reply


class FileSender:
    def __init__(self, log: Path) -> None:
        self._log = log

    async def send(self, address: str, replies: Sequence[Reply], *, context: SendContext) -> str:
        idempotency_key = context.idempotency_key
        await asyncio.sleep(0.002)  # a provider round trip: the other process gets to claim
        fd = os.open(self._log, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
        try:
            os.write(fd, f"{os.getpid()} {idempotency_key}\n".encode())
        finally:
            os.close(fd)
        return f"{os.getpid()}:{idempotency_key}"


async def deliver(url: str, log: Path) -> None:
    engine = create_engine(url)
    try:
        outbox = Outbox(
            session_factory(engine), SystemClock(), senders={"sms": FileSender(log)}, live=True
        )
        idle = 0
        while idle < 3:  # nothing due three times in a row: the other worker has the rest
            idle = 0 if await outbox.deliver_due() else idle + 1
            await asyncio.sleep(0.01)
    finally:
        await engine.dispose()


def main(url: str, log: str, go: str) -> None:
    print("ready", flush=True)
    deadline = time.monotonic() + 60
    while not Path(go).exists():
        if time.monotonic() > deadline:
            sys.exit("the test never said go")
        time.sleep(0.01)
    asyncio.run(deliver(url, Path(log)))


if __name__ == "__main__":
    main(*sys.argv[1:4])
