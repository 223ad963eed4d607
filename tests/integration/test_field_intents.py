"""`diagnostics` and `appointment` through the real engine, NLU, outbox and database (SQLite,
then PostgreSQL) for the demo customers: Sam's outage, Alex's router, María in Spanish, a
visit booked once, its reminder queued for the day before and withdrawn when it is cancelled."""

from __future__ import annotations

import asyncio
import itertools
from datetime import datetime, timedelta

from sqlalchemy import func, select, update

from billing_client.sql.models import Appointment, TechnicianSlot
from bot.outbox import OutboxEntry
from bot.services import Services
from bot.types import InboundMessage, Reply

ALEX, SAM, MARIA = "+12025550101", "+12025550102", "+12025550104"
_ids = itertools.count(1)


async def say(services: Services, text: str, phone: str, session: str = "a") -> Reply:
    """One message in the web chat of `phone` (session `session`), the last reply."""
    message = InboundMessage(
        "web",
        f"session-{phone}-{session}",
        text,
        f"fi{next(_ids)}",
        services.clock.now(),
        as_phone=phone,
    )
    replies = await services.conversations.handle(message)
    return replies[-1]


async def _visits(services: Services) -> int:
    async with services.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(Appointment)) or 0)


async def _messages(services: Services, kind: str) -> list[OutboxEntry]:
    return [entry for entry in await services.outbox.list(limit=100) if entry.kind == kind]


async def _to_confirmation(services: Services, phone: str, session: str = "a") -> Reply:
    offer = await say(services, "when can a technician come", phone, session)
    assert all(o.value.startswith("slot:") for o in offer.options[:8]), offer.text
    return await say(services, "2", phone, session)


# --- diagnostics ------------------------------------------------------------------------------
async def test_sam_hears_about_the_outage_at_his_address(demo_services: Services) -> None:
    reply = await say(demo_services, "my internet is down", SAM)

    assert "Known mobile outage at your address (2430 N Lincoln Ave" in reply.text
    assert "Expected fix:" in reply.text and "(America/Chicago)" in reply.text
    assert "likely cause" in reply.text
    assert reply.options == ()


async def test_alex_sees_his_router_online_and_is_offered_a_ticket_or_a_visit(
    demo_services: Services,
) -> None:
    reply = await say(demo_services, "no signal since this morning", ALEX)

    assert "+1 202-555-0101 (Alex Rivera): working normally; 8.5 GB of 50 GB data left" in (
        reply.text
    )
    assert "- Fibre router: online, last seen 4 minutes ago" in reply.text
    assert "Everything looks normal on our side" in reply.text
    assert [o.value for o in reply.options] == ["yes", "intent:appointment", "no"]

    offer = await say(demo_services, "2", ALEX)  # "Book a technician"
    assert offer.text.startswith("The next free technician visit is Monday, March 17")


async def test_maria_gets_it_in_spanish(demo_services: Services) -> None:
    reply = await say(demo_services, "mi fibra no va", MARIA)

    assert reply.text.startswith("Esto es lo que veo:")
    assert "Por nuestra parte todo parece normal" in reply.text
    labels = [o.label for o in reply.options]
    assert labels == ["Sí, abrir una incidencia", "Pedir un técnico", "No"]


# --- appointments -----------------------------------------------------------------------------
async def test_a_visit_is_booked_with_a_confirmation_and_a_reminder_the_day_before(
    demo_services: Services, now: datetime
) -> None:
    question = await _to_confirmation(demo_services, ALEX)
    assert "Book a technician visit on Monday, March 17, 1:00 PM – 5:00 PM" in question.text

    done = await say(demo_services, "yes", ALEX)

    assert done.text.startswith("Booked: a technician will visit on Monday, March 17")
    assert await _visits(demo_services) == 1
    (confirmation,) = await _messages(demo_services, "appointment_booked")
    assert (confirmation.channel, confirmation.recipient) == ("sms", ALEX)
    (reminder,) = await _messages(demo_services, "appointment_reminder")
    assert reminder.status == "queued"
    # 10:00 in New York on Sunday March 16 (EDT since March 9): 14:00 UTC.
    assert reminder.next_attempt_at.isoformat().startswith("2025-03-16T14:00")


async def test_cancelling_the_visit_withdraws_the_waiting_reminder(
    demo_services: Services,
) -> None:
    await _to_confirmation(demo_services, ALEX)
    await say(demo_services, "yes", ALEX)

    question = await say(demo_services, "cancel my technician appointment", ALEX)
    assert question.text.startswith("Cancel your technician visit V-")
    done = await say(demo_services, "yes", ALEX)

    assert "is cancelled" in done.text
    (reminder,) = await _messages(demo_services, "appointment_reminder")
    assert reminder.status == "suppressed"
    assert reminder.last_error is not None and "withdrawn" in reminder.last_error
    assert len(await _messages(demo_services, "appointment_cancelled")) == 1


async def test_moving_the_visit_replaces_its_reminder(demo_services: Services) -> None:
    await _to_confirmation(demo_services, ALEX)
    await say(demo_services, "yes", ALEX)
    await say(demo_services, "I need to reschedule the engineer", ALEX)
    await say(demo_services, "3", ALEX)

    done = await say(demo_services, "yes", ALEX)

    assert done.text.startswith("Done: your visit V-")
    statuses = sorted(m.status for m in await _messages(demo_services, "appointment_reminder"))
    assert statuses == ["queued", "suppressed"]


async def test_declining_the_confirmation_changes_nothing(demo_services: Services) -> None:
    await _to_confirmation(demo_services, SAM)

    reply = await say(demo_services, "no", SAM)

    assert reply.text == "OK, nothing booked."
    assert await _visits(demo_services) == 0
    assert await _messages(demo_services, "appointment_reminder") == []


async def test_the_slot_taken_meanwhile_is_said_and_nothing_is_booked(
    demo_services: Services,
) -> None:
    await _to_confirmation(demo_services, SAM)
    async with demo_services.sessions() as session, session.begin():
        await session.execute(update(TechnicianSlot).values(booked=TechnicianSlot.capacity))

    reply = await say(demo_services, "yes", SAM)

    assert reply.text.startswith("Sorry, that time was just taken.")
    assert "There are no free technician visits in your area" in reply.text
    assert await _visits(demo_services) == 0


async def test_the_same_booking_confirmed_from_two_chats_at_once_books_one_visit(
    demo_services: Services,
) -> None:
    await _to_confirmation(demo_services, SAM, "web")
    await _to_confirmation(demo_services, SAM, "phone")

    replies = await asyncio.gather(
        say(demo_services, "yes", SAM, "web"), say(demo_services, "yes", SAM, "phone")
    )

    texts = sorted(reply.text for reply in replies)
    assert texts[0].startswith("Booked: a technician will visit on Monday, March 17")
    assert texts[1].startswith("You have a technician visit on Monday, March 17")
    assert await _visits(demo_services) == 1
    assert len(await _messages(demo_services, "appointment_reminder")) == 1


async def test_maria_books_in_spanish_in_her_time_zone(demo_services: Services) -> None:
    offer = await say(demo_services, "cuándo puede venir un técnico", MARIA)
    assert offer.text.startswith("La próxima visita libre de un técnico es el lunes 17 de marzo")
    assert offer.options[0].label == "lun, 17 mar, 8:00 – 12:00"
    await say(demo_services, "1", MARIA)

    done = await say(demo_services, "sí", MARIA)

    assert done.text.startswith("Reservado: un técnico irá el lunes 17 de marzo, 8:00 – 12:00")


async def test_a_stranger_cannot_book(demo_services: Services) -> None:
    reply = await say(demo_services, "book a technician", "+12025550177")

    assert not any(o.value.startswith("slot:") for o in reply.options)
    assert "visit" not in reply.text.lower()
    assert await _visits(demo_services) == 0


async def test_the_reminder_is_queued_in_the_turns_transaction(
    demo_services: Services, now: datetime
) -> None:
    """A replayed "yes" (the provider retried the webhook) answers the same and books once."""
    await _to_confirmation(demo_services, SAM)
    message = InboundMessage(
        "web", f"session-{SAM}-a", "yes", "same-id", now + timedelta(seconds=1), as_phone=SAM
    )

    first = await demo_services.conversations.handle(message)
    again = await demo_services.conversations.handle(message)

    assert first == again and await _visits(demo_services) == 1
    assert len(await _messages(demo_services, "appointment_reminder")) == 1


async def test_yes_after_an_all_clear_opens_one_ticket_with_the_check_attached(
    demo_services: Services,
) -> None:
    await say(demo_services, "my internet keeps dropping every evening", ALEX)

    reply = await say(demo_services, "yes", ALEX)

    assert reply.text.startswith("Your ticket T-") and "with what I checked attached" in reply.text
    account = await demo_services.billing.find_account_by_msisdn(ALEX)
    assert account is not None
    (ticket,) = await demo_services.billing.list_tickets(account.id)
    (first, *_) = await demo_services.billing.ticket_messages(account.id, ticket.reference)
    assert first.body.startswith("my internet keeps dropping every evening")
    assert "What billbot checked:" in first.body and "Fibre router: online" in first.body
