"""`python -m bench.fake_providers`: the tests' fake Twilio and Bot API servers in their own
process, so the delivery bench measures billbot's side, not the fakes sharing its core.

Prints `twilio <base url>` and `telegram <base url>`, then serves until stdin closes.
"""

from __future__ import annotations

import asyncio
import sys


async def serve() -> None:
    from tests.telegram_fake import running_fake
    from tests.twilio_fake import FakeTwilio

    async with FakeTwilio() as twilio, running_fake() as telegram:
        print(f"twilio {twilio.base_url}", flush=True)
        print(f"telegram {telegram.base_url}", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)


if __name__ == "__main__":
    asyncio.run(serve())
