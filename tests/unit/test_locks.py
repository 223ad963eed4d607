"""Per-conversation locks: one holder at a time, a bounded wait, nothing kept afterwards."""

from __future__ import annotations

import asyncio

from bot.locks import KeyedLocks


async def test_a_second_holder_waits_and_no_lock_is_kept_afterwards() -> None:
    locks = KeyedLocks()
    order: list[str] = []

    async def hold(name: str, pause: float) -> None:
        async with locks.hold(("web", "s1"), wait=1.0) as acquired:
            assert acquired
            order.append(f"{name} in")
            await asyncio.sleep(pause)
            order.append(f"{name} out")

    await asyncio.gather(hold("first", 0.05), hold("second", 0))
    assert order == ["first in", "first out", "second in", "second out"]
    assert len(locks) == 0


async def test_a_lock_held_too_long_is_not_acquired() -> None:
    locks = KeyedLocks()
    async with locks.hold("k", wait=1.0), locks.hold("k", wait=0.05) as acquired:
        assert not acquired
    assert len(locks) == 0
