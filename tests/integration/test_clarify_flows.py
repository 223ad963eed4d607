"""Two requests in one message, through the real engine, recogniser and database (SQLite and
PostgreSQL): the first is answered, the second offered once it is done (docs/turns.md)."""

from __future__ import annotations

from bot.services import Services
from tests.integration.test_account_flows import ALEX, MARIA, say


async def test_what_do_i_owe_and_how_much_data_are_both_answered(demo_services: Services) -> None:
    first = await say(demo_services, "what do i owe and how much data do i have left", ALEX)

    assert "$" in first.splitlines()[0]  # the balance first, as asked
    assert 'You also asked about "' in first and "Shall we do that now?" in first

    second = await say(demo_services, "yes", ALEX)

    assert "GB" in second  # the data allowance


async def test_pay_my_bill_and_block_my_sim_starts_with_the_bill(demo_services: Services) -> None:
    first = await say(demo_services, "pay my bill and block my sim", ALEX)

    assert "pay" in first.lower() and "Shall we do that now?" in first
    blocked = await say(demo_services, "yes", ALEX)
    assert "PIN" in blocked or "Which" in blocked  # the bar_sim flow starts


async def test_spanish_two_requests(demo_services: Services) -> None:
    first = await say(demo_services, "cuanto saldo tengo y quiero recargar", MARIA)

    assert "También preguntaste por" in first
