"""`ticket_status` through the real router with an in-memory billing client: listing, picking,
reading, adding a message and closing, each change confirmed first and done once."""

from __future__ import annotations

import pytest

from billing_client import BillingUnavailableError, TicketMessage
from tests.fakes import FakeBillingClient
from tests.support_fakes import MARIA_ID, SAM_ID, SupportBilling, Talk

SAM = FakeBillingClient().accounts[SAM_ID]
MARIA = FakeBillingClient().accounts[MARIA_ID]


@pytest.fixture
def billing() -> SupportBilling:
    return SupportBilling()


@pytest.fixture
def sam(billing: SupportBilling) -> Talk:
    return Talk(SAM, billing)


async def test_no_open_tickets_says_so_and_offers_to_open_one(sam: Talk) -> None:
    reply = await sam.say("any update on my ticket", "ticket_status")

    assert "You don't have any open tickets" in reply.text
    assert sam.values == ["intent:open_ticket"]
    assert not sam.conv.state.active


async def test_a_closed_ticket_does_not_count_as_open(sam: Talk, billing: SupportBilling) -> None:
    billing.add_ticket(SAM_ID, "Old roaming problem", "closed")

    reply = await sam.say("my tickets", "ticket_status")

    assert "You don't have any open tickets" in reply.text


async def test_the_only_open_ticket_is_shown_with_status_update_and_messages(
    sam: Talk, billing: SupportBilling
) -> None:
    ticket = billing.add_ticket(SAM_ID, "Internet keeps dropping", "pending_customer")
    restart = TicketMessage("agent", "Can you restart the router?", ticket.created_at)
    billing.messages[ticket.reference].append(restart)

    reply = await sam.say("status of my ticket", "ticket_status")

    assert "T-000123 — Internet keeps dropping" in reply.text
    at = "November 20, 2026 9:00\u202fAM"  # babel puts a narrow no-break space before AM
    assert f"Status: waiting for your reply (last update {at})" in reply.text
    assert f"• Our team, {at}: Can you restart the router?" in reply.text
    assert sam.values == ["add", "close"]  # no other ticket to go back to


async def test_several_open_tickets_are_listed_newest_update_first_and_picked_by_number(
    sam: Talk, billing: SupportBilling
) -> None:
    billing.add_ticket(SAM_ID, "No signal at home", hours_ago=48)
    billing.add_ticket(SAM_ID, "Roaming not working", "resolved", hours_ago=2)

    listed = await sam.say("show my tickets", "ticket_status")
    picked = await sam.say("2")

    assert listed.text.splitlines()[1].startswith("• T-000124 — Roaming not working: resolved")
    assert "• T-000123 — No signal at home: open, our team is on it" in listed.text
    assert sam.values[-1] == "list" and "T-000123 — No signal at home" in picked.text


async def test_a_typed_reference_opens_that_ticket(sam: Talk, billing: SupportBilling) -> None:
    billing.add_ticket(SAM_ID, "No signal at home")
    billing.add_ticket(SAM_ID, "Roaming not working")

    reply = await sam.say("what's happening with t 124?", "ticket_status")

    assert reply.text.startswith("T-000124 — Roaming not working")


async def test_someone_elses_ticket_gets_the_same_answer_as_one_that_does_not_exist(
    billing: SupportBilling,
) -> None:
    billing.add_ticket(SAM_ID, "No signal at home")
    marias = billing.add_ticket(MARIA_ID, "Mi SIM no funciona")
    billing.add_ticket(SAM_ID, "Second problem")

    theirs = await Talk(SAM, billing).say(f"status of {marias.reference}", "ticket_status")
    nobodys = await Talk(SAM, billing).say("status of T-999999", "ticket_status")

    assert "Mi SIM" not in theirs.text
    assert theirs.text.replace(marias.reference, "REF") == nobodys.text.replace("T-999999", "REF")
    assert theirs.text.startswith(f"I couldn't find a ticket {marias.reference} on your account.")


async def test_an_unknown_reference_with_no_open_tickets_offers_a_new_one(sam: Talk) -> None:
    reply = await sam.say("T-000777", "ticket_status")

    assert reply.text.startswith("I couldn't find a ticket T-000777 on your account.")
    assert sam.values == ["intent:open_ticket"] and not sam.conv.state.active


async def test_adding_a_message_is_confirmed_then_added_once_and_reopens_the_ticket(
    sam: Talk, billing: SupportBilling
) -> None:
    ticket = billing.add_ticket(SAM_ID, "Internet keeps dropping", "pending_customer")
    await sam.say("my ticket", "ticket_status")
    assert "Type your message" in (await sam.say("1")).text  # "Add a message"

    confirm = await sam.say("I restarted the router, still drops every hour")
    done = await sam.say("yes")

    assert 'Add this message to T-000123: "I restarted the router, still' in confirm.text
    assert sam.values == [] and "Done: your message is on T-000123" in done.text
    bodies = [m.body for m in billing.messages[ticket.reference]]
    assert bodies[-1] == "I restarted the router, still drops every hour"
    assert billing.ticket(ticket.reference).status == "open"  # back with the team
    assert billing.messages[ticket.reference][-1].author == "customer"


async def test_declining_the_message_adds_nothing(sam: Talk, billing: SupportBilling) -> None:
    ticket = billing.add_ticket(SAM_ID, "Internet keeps dropping")
    await sam.say("my ticket", "ticket_status")
    await sam.say("add")
    await sam.say("please call me tomorrow")

    reply = await sam.say("no")

    assert reply.text == "OK, I didn't add anything to T-000123."
    assert len(billing.messages[ticket.reference]) == 1 and billing.update_keys == set()


async def test_a_longer_answer_to_what_next_is_the_message_to_add(
    sam: Talk, billing: SupportBilling
) -> None:
    billing.add_ticket(SAM_ID, "Internet keeps dropping")
    await sam.say("my ticket", "ticket_status")

    reply = await sam.say("it is still dropping every evening")

    assert sam.conv.state.step == "confirm_add"
    assert '"it is still dropping every evening"' in reply.text


async def test_an_unclear_confirmation_asks_again(sam: Talk, billing: SupportBilling) -> None:
    billing.add_ticket(SAM_ID, "Internet keeps dropping")
    await sam.say("my ticket", "ticket_status")
    await sam.say("add")
    await sam.say("call me after 5pm")

    reply = await sam.say("hmm maybe")

    assert reply.text.startswith("Please answer yes or no. Add this message")
    assert billing.update_keys == set()


async def test_closing_is_confirmed_and_closes_the_ticket_once(
    sam: Talk, billing: SupportBilling
) -> None:
    ticket = billing.add_ticket(SAM_ID, "Internet keeps dropping")
    await sam.say("my ticket", "ticket_status")

    confirm = await sam.say("close it, it's fixed")
    done = await sam.say("yes")

    assert confirm.text.startswith('Close T-000123 ("Internet keeps dropping")?')
    assert done.text == "T-000123 is closed. Thanks for letting us know!"
    assert billing.ticket(ticket.reference).status == "closed"
    assert len(billing.update_keys) == 1


async def test_declining_to_close_keeps_the_ticket_open(
    sam: Talk, billing: SupportBilling
) -> None:
    ticket = billing.add_ticket(SAM_ID, "Internet keeps dropping")
    await sam.say("my ticket", "ticket_status")
    await sam.say("close")

    reply = await sam.say("no")

    assert reply.text == "OK, T-000123 stays open."
    assert billing.ticket(ticket.reference).status == "open" and billing.update_keys == set()


async def test_a_closed_ticket_opened_by_reference_offers_a_new_one(
    sam: Talk, billing: SupportBilling
) -> None:
    billing.add_ticket(SAM_ID, "Old problem", "closed")

    reply = await sam.say("T-000123", "ticket_status")

    assert "This ticket is closed" in reply.text and sam.values == ["intent:open_ticket"]


async def test_two_misses_at_the_list_lead_back_to_the_menu(
    sam: Talk, billing: SupportBilling
) -> None:
    billing.add_ticket(SAM_ID, "No signal at home")
    billing.add_ticket(SAM_ID, "Roaming not working")
    await sam.say("my tickets", "ticket_status")

    again = await sam.say("the blue one")
    menu = await sam.say("whatever")

    assert again.text.startswith("Sorry, I didn't catch which ticket you mean.")
    assert "Let's start again" in menu.text and "intent:balance" in sam.values
    assert not sam.conv.state.active


async def test_the_spanish_customer_reads_it_in_spanish(billing: SupportBilling) -> None:
    billing.add_ticket(MARIA_ID, "Mi SIM no funciona", "pending_customer")
    maria = Talk(MARIA, billing)

    reply = await maria.say("cómo va mi incidencia", "ticket_status")

    assert "Estado: esperando tu respuesta" in reply.text
    assert [o.label for o in reply.options] == ["Añadir un mensaje", "Cerrar esta incidencia"]


async def test_a_billing_error_while_adding_reaches_the_engine_with_nothing_added(
    sam: Talk, billing: SupportBilling
) -> None:
    ticket = billing.add_ticket(SAM_ID, "Internet keeps dropping")
    await sam.say("my ticket", "ticket_status")
    await sam.say("add")
    await sam.say("still broken")
    billing.failing.add("update_ticket")

    with pytest.raises(BillingUnavailableError):  # the engine answers it politely
        await sam.say("yes")

    assert len(billing.messages[ticket.reference]) == 1
