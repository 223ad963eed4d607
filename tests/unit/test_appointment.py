"""`appointment` with an in-memory billing client: offering slots in the customer's time, the
confirmation with the date and time, booking once, moving, cancelling, and the outbox messages
(confirmation, the day-before reminder, its withdrawal)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from tests.fakes import NOW
from tests.field_fakes import FakeFieldBilling
from tests.unit.test_diagnostics import FieldChat

MONDAY_AM = "Monday, November 23, 8:00 AM – 12:00 PM"
MONDAY_PM = "Monday, November 23, 1:00 PM – 5:00 PM"
TUESDAY_PM = "Tuesday, November 24, 1:00 PM – 5:00 PM"
REMINDER_KEY = "appointment_reminder:V-000001:{slot}"


@pytest.fixture
def field() -> FakeFieldBilling:
    return FakeFieldBilling()


@pytest.fixture
def sam(field: FakeFieldBilling) -> FieldChat:
    return FieldChat(1, field)


async def _book(sam: FieldChat, slot: str = "slot:2") -> str:
    await sam.say("when can a technician come", "appointment")
    await sam.say(slot)
    return await sam.say("yes")


async def test_the_next_free_slots_are_offered_in_the_customers_time(sam: FieldChat) -> None:
    text = await sam.say("when can a technician come", "appointment")

    assert f"The next free technician visit is {MONDAY_AM}" in text
    assert "(your time, America/Chicago)" in text
    assert sam.offered == ["slot:1", "slot:2", "slot:3", "slot:4"]
    assert sam.last.options[1].label == "Mon, Nov 23, 1:00 PM – 5:00 PM"


async def test_the_confirmation_names_the_date_and_time_and_yes_books_once(
    sam: FieldChat, field: FakeFieldBilling
) -> None:
    await sam.say("book a technician", "appointment")
    question = await sam.say("slot:2")
    assert f"Book a technician visit on {MONDAY_PM}" in question
    assert [o.value for o in sam.last.options] == ["yes", "no"]

    done = await sam.say("yes")

    assert f"Booked: a technician will visit on {MONDAY_PM}. Reference V-000001." in done
    assert "reminder the day before" in done
    assert [v.slot.id for v in field.visits.values()] == [2]
    assert field.slots[2].free == 1
    assert not sam.state.active


async def test_a_booking_queues_a_confirmation_and_a_reminder_for_the_day_before(
    sam: FieldChat,
) -> None:
    await _book(sam)

    confirmation, reminder = sam.outgoing
    assert (confirmation.channel, confirmation.address) == ("sms", "+12025550102")
    assert confirmation.kind == "appointment_booked" and confirmation.not_before is None
    assert "booked for Monday, November 23, 1:00 PM – 5:00 PM" in confirmation.replies[0].text
    assert reminder.kind == "appointment_reminder"
    assert reminder.dedupe_key == REMINDER_KEY.format(slot=2)
    # 10:00 in Chicago the day before (Sunday), as UTC.
    assert reminder.not_before == datetime(2026, 11, 22, 16, 0, tzinfo=UTC)
    assert "a technician visits tomorrow" in reminder.replies[0].text


async def test_declining_the_confirmation_books_nothing(
    sam: FieldChat, field: FakeFieldBilling
) -> None:
    await sam.say("book a technician", "appointment")
    await sam.say("slot:1")

    assert await sam.say("no") == "OK, nothing booked."
    assert field.visits == {} and sam.outgoing == []
    assert field.slots[1].free == 2


async def test_an_unclear_answer_asks_again_with_the_date(sam: FieldChat) -> None:
    await sam.say("book a technician", "appointment")
    await sam.say("slot:1")

    text = await sam.say("hmm maybe")

    assert text.startswith("Please answer yes or no.") and MONDAY_AM in text


async def test_a_slot_taken_meanwhile_is_said_and_the_others_offered(
    sam: FieldChat, field: FakeFieldBilling
) -> None:
    await sam.say("book a technician", "appointment")
    await sam.say("slot:2")
    field.slots[2] = replace(field.slots[2], free=0)  # someone else took the last place

    text = await sam.say("yes")

    assert text.startswith("Sorry, that time was just taken.")
    assert sam.offered == ["slot:1", "slot:3", "slot:4"]
    assert field.visits == {} and sam.state.step == "choose_slot"


async def test_no_free_slots_offers_a_ticket_instead(
    sam: FieldChat, field: FakeFieldBilling
) -> None:
    field.slots.clear()

    text = await sam.say("book a technician", "appointment")

    assert "no free technician visits in your area" in text
    assert sam.offered == ["intent:open_ticket"]
    assert not sam.state.active


async def test_an_account_without_a_service_address_cannot_book_here(
    sam: FieldChat, field: FakeFieldBilling
) -> None:
    del field.addresses[1]

    assert "I can't book technician visits" in await sam.say("book a technician", "appointment")


async def test_a_weekday_and_part_of_the_day_pick_the_slot(sam: FieldChat) -> None:
    await sam.say("book a technician", "appointment")

    text = await sam.say("tuesday afternoon please")

    assert f"Book a technician visit on {TUESDAY_PM}" in text


async def test_two_answers_that_name_no_slot_leave_for_the_menu(sam: FieldChat) -> None:
    await sam.say("book a technician", "appointment")

    again = await sam.say("whenever")
    assert again.startswith("Sorry, I didn't catch which time you want.")
    assert sam.offered[:4] == ["slot:1", "slot:2", "slot:3", "slot:4"]
    text = await sam.say("dunno")

    assert "Let's leave the visit for now" in text
    assert not sam.state.active


async def test_asking_again_shows_the_booked_visit_and_what_can_be_done(sam: FieldChat) -> None:
    await _book(sam)

    text = await sam.say("when is my technician coming", "appointment")

    assert f"You have a technician visit on {MONDAY_PM} (reference V-000001)" in text
    assert sam.offered == ["visit:move", "visit:cancel", "visit:keep"]


async def test_cancelling_withdraws_the_waiting_reminder_and_frees_the_place(
    sam: FieldChat, field: FakeFieldBilling
) -> None:
    await _book(sam)
    question = await sam.say("cancel my technician appointment", "appointment")
    assert question.startswith(f"Cancel your technician visit V-000001 on {MONDAY_PM}?")

    text = await sam.say("yes")

    assert text == f"Your technician visit V-000001 on {MONDAY_PM} is cancelled."
    assert sam.withdrawn == [REMINDER_KEY.format(slot=2)]
    assert field.visits[1].status == "cancelled" and field.slots[2].free == 2
    assert sam.outgoing[-1].kind == "appointment_cancelled"


async def test_declining_the_cancellation_keeps_the_visit_and_its_reminder(
    sam: FieldChat, field: FakeFieldBilling
) -> None:
    await _book(sam)
    await sam.say("cancel the engineer visit", "appointment")

    text = await sam.say("no")

    assert text == f"OK, your visit stays on {MONDAY_PM} (V-000001)."
    assert sam.withdrawn == [] and field.visits[1].status == "booked"


async def test_moving_withdraws_the_old_reminder_and_queues_a_new_one(
    sam: FieldChat, field: FakeFieldBilling
) -> None:
    await _book(sam)
    await sam.say("my appointment", "appointment")
    offer = await sam.say("visit:move")
    assert offer.startswith(f"Your visit is {MONDAY_PM}. Pick a new time")
    assert "slot:2" not in sam.offered
    question = await sam.say("slot:4")
    assert f"from {MONDAY_PM} to {TUESDAY_PM}?" in question

    text = await sam.say("yes")

    assert text.startswith(f"Done: your visit V-000001 is now on {TUESDAY_PM}.")
    assert sam.withdrawn == [REMINDER_KEY.format(slot=2)]
    moved, reminder = sam.outgoing[-2:]
    assert moved.kind == "appointment_moved"
    assert reminder.dedupe_key == REMINDER_KEY.format(slot=4)
    assert field.visits[1].slot.id == 4 and field.slots[2].free == 2 and field.slots[4].free == 1


async def test_a_move_to_a_slot_taken_meanwhile_leaves_the_visit_where_it_was(
    sam: FieldChat, field: FakeFieldBilling
) -> None:
    await _book(sam)
    await sam.say("reschedule my appointment", "appointment")
    await sam.say("slot:4")
    field.slots[4] = replace(field.slots[4], free=0)

    text = await sam.say("yes")

    assert text.startswith("Sorry, that time was just taken.")
    assert field.visits[1].slot.id == 2 and sam.withdrawn == []


async def test_a_second_booking_while_one_is_booked_shows_the_first(
    sam: FieldChat, field: FakeFieldBilling
) -> None:
    other = FieldChat(1, field)  # the same customer in another chat, at the confirmation
    await other.say("book a technician", "appointment")
    await other.say("slot:1")
    await _book(sam)

    text = await other.say("yes")

    assert f"You have a technician visit on {MONDAY_PM}" in text
    assert len(field.visits) == 1


async def test_no_reminder_when_the_day_before_has_begun(field: FakeFieldBilling) -> None:
    maria = FieldChat(2, field)  # 16:00 in Madrid: 10:00 today, the day before, has passed
    soon = NOW + timedelta(hours=21)  # Sunday 13:00 in Madrid
    field.slots = {
        9: replace(field.slots[1], id=9, starts_at=soon, ends_at=soon + timedelta(hours=4))
    }

    text = await _book(maria, "slot:9")

    assert text.startswith("Reservado:") and "recordatorio" not in text
    assert [m.kind for m in maria.outgoing] == ["appointment_booked"]


async def test_spanish_for_maria(field: FakeFieldBilling) -> None:
    maria = FieldChat(2, field)

    text = await maria.say("cuándo puede venir un técnico", "appointment")
    assert "La próxima visita libre de un técnico es el lunes 23 de noviembre" in text
    assert "(tu hora, Europe/Madrid)" in text
    await maria.say("slot:1")
    done = await maria.say("sí")

    assert done.startswith("Reservado: un técnico irá el lunes 23 de noviembre, 15:00 – 19:00.")
    assert "Te enviaré un recordatorio el día antes." in done
