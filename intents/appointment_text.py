"""What the `appointment` flow (`intents.appointment`) says, in English and Spanish: the chat
replies, the option labels and the notices the outbox sends (confirmation, reminder)."""

from __future__ import annotations

FIRST_FREE = {
    "en": "The next free technician visit is {first}. Pick a time (your time, {zone}):",
    "es": "La próxima visita libre de un técnico es el {first}. Elige una hora (tu hora, {zone}):",
}
PICK_NEW = {
    "en": "Your visit is {current}. Pick a new time (your time, {zone}):",
    "es": "Tu visita es el {current}. Elige una hora nueva (tu hora, {zone}):",
}
NOT_CAUGHT = {
    "en": "Sorry, I didn't catch which time you want.",
    "es": "Perdona, no he entendido qué hora quieres.",
}
GIVE_UP = {
    "en": "Let's leave the visit for now. Here's what else I can do:",
    "es": "Dejemos la visita por ahora. Esto es lo demás que puedo hacer:",
}
CONFIRM_BOOK = {
    "en": "Book a technician visit on {when} at your service address? Someone aged 18 or over "
    "needs to be home.",
    "es": "¿Reservo la visita de un técnico el {when} en tu dirección? Tiene que haber en casa "
    "alguien mayor de edad.",
}
CONFIRM_MOVE = {
    "en": "Move your technician visit {reference} from {old} to {new}?",
    "es": "¿Cambio tu visita {reference} del {old} al {new}?",
}
CONFIRM_CANCEL = {
    "en": "Cancel your technician visit {reference} on {when}?",
    "es": "¿Anulo tu visita {reference} del {when}?",
}
YES_OR_NO = {"en": "Please answer yes or no.", "es": "Responde sí o no."}
BOOKED = {
    "en": "Booked: a technician will visit on {when}. Reference {reference}. {reminder}",
    "es": "Reservado: un técnico irá el {when}. Referencia {reference}. {reminder}",
}
MOVED = {
    "en": "Done: your visit {reference} is now on {when}. {reminder}",
    "es": "Hecho: tu visita {reference} es ahora el {when}. {reminder}",
}
REMINDER_PROMISE = {
    "en": "I'll send you a reminder the day before.",
    "es": "Te enviaré un recordatorio el día antes.",
}
CANCELLED = {
    "en": "Your technician visit {reference} on {when} is cancelled.",
    "es": "Tu visita {reference} del {when} está anulada.",
}
KEPT_BOOKING = {"en": "OK, nothing booked.", "es": "De acuerdo, no he reservado nada."}
KEPT_VISIT = {
    "en": "OK, your visit stays on {when} ({reference}).",
    "es": "De acuerdo, tu visita sigue el {when} ({reference}).",
}
HAVE_VISIT = {
    "en": "You have a technician visit on {when} (reference {reference}). What would you like "
    "to do?",
    "es": "Tienes una visita de un técnico el {when} (referencia {reference}). ¿Qué quieres "
    "hacer?",
}
NO_VISIT = {
    "en": "You don't have a technician visit booked.",
    "es": "No tienes ninguna visita de un técnico reservada.",
}
TAKEN = {
    "en": "Sorry, that time was just taken.",
    "es": "Lo siento, esa hora se acaba de ocupar.",
}
NO_SLOTS = {
    "en": "There are no free technician visits in your area right now. I can open a ticket "
    "so our team arranges one with you.",
    "es": "Ahora no hay visitas de técnico libres en tu zona. Puedo abrir una incidencia para "
    "que nuestro equipo la organice contigo.",
}
NOT_HERE = {
    "en": "I can't book technician visits for your account here. I can open a ticket so our "
    "team arranges one with you.",
    "es": "No puedo reservar visitas de técnico para tu cuenta desde aquí. Puedo abrir una "
    "incidencia para que nuestro equipo la organice contigo.",
}
NOTICE_BOOKED = {
    "en": "billbot: your technician visit is booked for {when} (reference {reference}). "
    "Message us to move or cancel it.",
    "es": "billbot: tu visita de un técnico está reservada para el {when} (referencia "
    "{reference}). Escríbenos para cambiarla o anularla.",
}
NOTICE_MOVED = {
    "en": "billbot: your technician visit {reference} is now on {when}.",
    "es": "billbot: tu visita de un técnico {reference} es ahora el {when}.",
}
NOTICE_CANCELLED = {
    "en": "billbot: your technician visit {reference} on {when} is cancelled.",
    "es": "billbot: tu visita de un técnico {reference} del {when} está anulada.",
}
NOTICE_REMINDER = {
    "en": "billbot: reminder, a technician visits tomorrow, {when} (reference {reference}). "
    "Someone aged 18 or over needs to be home. Message us to move or cancel it.",
    "es": "billbot: recordatorio, mañana te visita un técnico, el {when} (referencia "
    "{reference}). Tiene que haber en casa alguien mayor de edad. Escríbenos para cambiarla o "
    "anularla.",
}
MOVE = {"en": "Move it", "es": "Cambiarla"}
CANCEL = {"en": "Cancel it", "es": "Anularla"}
KEEP = {"en": "Keep it", "es": "Mantenerla"}
TICKET = {"en": "Open a ticket", "es": "Abrir una incidencia"}
LONG_DAY = {"en": "EEEE, MMMM d", "es": "EEEE d 'de' MMMM"}  # a visit's day (babel pattern)
MENU_LABEL = {"en": "Technician visits", "es": "Visitas de técnico"}
