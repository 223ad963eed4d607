"""Global commands and "back" through the whole engine, on the demo data."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

from bot.services import Services
from bot.types import InboundMessage

SAM, STRANGER = "+12025550102", "+12025550199"
_ids = itertools.count(1)


async def say(services: Services, text: str, phone: str = SAM) -> str:
    message = InboundMessage(
        "web", f"s-{phone}", text, f"r{next(_ids)}", datetime.now(UTC), {}, phone
    )
    return "\n".join(reply.text for reply in await services.conversations.handle(message))


async def test_thanks_with_nothing_open_gets_a_short_kind_answer(services: Services) -> None:
    assert "You're welcome" in await say(services, "thanks!")
    assert "You're welcome" in await say(services, "thank you so much")
    assert "De nada" in await say(services, "gracias", "+12025550104")


async def test_never_mind_with_nothing_open_says_nothing_is_in_progress(
    services: Services,
) -> None:
    reply = await say(services, "never mind")
    assert "nothing in progress" in reply
    assert "Nothing was changed" not in reply


async def test_back_never_asks_for_a_number_given_up_front(services: Services) -> None:
    assert "PIN" in await say(services, "I lost my phone, it was 202-555-0103", STRANGER)
    back = await say(services, "back", STRANGER)
    assert "phone's number" not in back
    assert "Here's what I can do" in back or "block its SIM" in back


async def test_back_goes_to_the_question_that_was_asked(services: Services) -> None:
    assert "phone's number" in await say(services, "I lost my phone", STRANGER)
    assert "PIN" in await say(services, "202-555-0103", STRANGER)
    assert "phone's number" in await say(services, "back", STRANGER)


async def test_back_from_a_ticket_described_up_front_does_not_ask_to_describe_it(
    services: Services,
) -> None:
    # (A connection problem goes to `diagnostics` first; a complaint is a ticket up front.)
    said = "I want to complain, my roaming was charged twice"
    assert "open a support ticket" in await say(services, said)
    back = await say(services, "back")
    assert "describe the problem" not in back
