"""Smoke: sim_swap, port_lock, not_me end to end on the demo data."""

from __future__ import annotations

from bot.services import Services
from tests.integration.test_account_flows import ALEX, audit_actions, say, sent, web_code


async def test_alex_orders_an_esim_and_says_not_me(demo_services: Services) -> None:
    asked = await say(demo_services, "i need a new sim for my phone", ALEX)
    print(asked)
    print(await say(demo_services, "esim", ALEX))
    print(await say(demo_services, "2468", ALEX))
    print(await say(demo_services, "1", ALEX))
    confirm = await say(demo_services, await web_code(demo_services, ALEX), ALEX)
    print(confirm)
    done = await say(demo_services, "yes", ALEX)
    print(done)
    print(await sent(demo_services, "security_notice"))
    print(await say(demo_services, "not me", ALEX))
    print(await audit_actions(demo_services))
    print(await say(demo_services, "port lock", ALEX))
    print(await say(demo_services, "turn the lock off", ALEX))
    assert False
