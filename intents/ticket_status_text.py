"""What the `ticket_status` flow (`intents.ticket_status`) says, in English and Spanish."""

from __future__ import annotations

NONE = {
    "en": "You don't have any open tickets. If something isn't working, I can open one for you.",
    "es": "No tienes incidencias abiertas. Si algo no funciona, puedo abrirte una.",
}
HEADER = {"en": "Your open tickets:", "es": "Tus incidencias abiertas:"}
ROW = {
    "en": "• {reference} — {subject}: {status}, last update {when}",
    "es": "• {reference} — {subject}: {status}, última actualización {when}",
}
PICK = {
    "en": "Which one? Pick a number or type its reference (like {example}).",
    "es": "¿Cuál? Elige un número o escribe su referencia (como {example}).",
}
NOT_FOUND = {
    "en": "I couldn't find a ticket {reference} on your account.",
    "es": "No encuentro ninguna incidencia {reference} en tu cuenta.",
}
NOT_CAUGHT = {
    "en": "Sorry, I didn't catch which ticket you mean.",
    "es": "Perdona, no he entendido a qué incidencia te refieres.",
}
GIVE_UP = {
    "en": "Let's start again. Here's what I can do:",
    "es": "Empecemos de nuevo. Esto es lo que puedo hacer:",
}
STATUS = {
    "open": {"en": "open, our team is on it", "es": "abierta, nuestro equipo está en ello"},
    "pending_customer": {"en": "waiting for your reply", "es": "esperando tu respuesta"},
    "resolved": {"en": "resolved", "es": "resuelta"},
    "closed": {"en": "closed", "es": "cerrada"},
}
DETAIL = {
    "en": "{reference} — {subject}\nStatus: {status} (last update {when})",
    "es": "{reference} — {subject}\nEstado: {status} (última actualización {when})",
}
LATEST = {"en": "Latest messages:", "es": "Últimos mensajes:"}
MESSAGE_ROW = {"en": "• {who}, {when}: {body}", "es": "• {who}, {when}: {body}"}
AUTHOR = {
    "customer": {"en": "You", "es": "Tú"},
    "agent": {"en": "Our team", "es": "Nuestro equipo"},
    "bot": {"en": "billbot", "es": "billbot"},
}
WHAT_NEXT = {"en": "What would you like to do?", "es": "¿Qué quieres hacer?"}
IS_CLOSED = {
    "en": "This ticket is closed. If the problem is back, I can open a new one.",
    "es": "Esta incidencia está cerrada. Si el problema ha vuelto, puedo abrir una nueva.",
}
ADD_LABEL = {"en": "Add a message", "es": "Añadir un mensaje"}
CLOSE_LABEL = {"en": "Close this ticket", "es": "Cerrar esta incidencia"}
OTHERS_LABEL = {"en": "My other tickets", "es": "Mis otras incidencias"}
NEW_LABEL = {"en": "Report a problem", "es": "Informar de un problema"}
ASK_MESSAGE = {
    "en": "Type your message for {reference} and I'll add it to the ticket.",
    "es": "Escribe tu mensaje para {reference} y lo añadiré a la incidencia.",
}
CONFIRM_ADD = {
    "en": 'Add this message to {reference}: "{summary}"? Our team will see it and reply here.',
    "es": '¿Añado este mensaje a {reference}: "{summary}"? Nuestro equipo lo verá y te '
    "responderá por aquí.",
}
ADDED = {
    "en": "Done: your message is on {reference}. Our team will reply here.",
    "es": "Hecho: tu mensaje está en {reference}. Nuestro equipo te responderá por aquí.",
}
NOT_ADDED = {
    "en": "OK, I didn't add anything to {reference}.",
    "es": "De acuerdo, no he añadido nada a {reference}.",
}
CONFIRM_CLOSE = {
    "en": 'Close {reference} ("{subject}")? Our team will stop working on it. If the problem '
    "comes back, you can open a new ticket.",
    "es": '¿Cierro {reference} ("{subject}")? Nuestro equipo dejará de trabajar en ella. Si el '
    "problema vuelve, puedes abrir una incidencia nueva.",
}
CLOSED = {
    "en": "{reference} is closed. Thanks for letting us know!",
    "es": "{reference} está cerrada. ¡Gracias por avisarnos!",
}
KEPT_OPEN = {"en": "OK, {reference} stays open.", "es": "De acuerdo, {reference} sigue abierta."}
YES_OR_NO = {"en": "Please answer yes or no.", "es": "Responde sí o no."}
CLOSED_NOTE = {"en": "Closed by the customer in chat.", "es": "Cerrada por el cliente en el chat."}

MENU_LABEL = {"en": "My tickets", "es": "Mis incidencias"}
