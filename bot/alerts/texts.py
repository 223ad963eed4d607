"""The alerts' words, in English and Spanish (one place, as the chat's replies are).

Short and transactional: most fit one SMS segment; none sells anything (a WhatsApp utility
template must not).
"""

from __future__ import annotations

BILL_READY = {
    "en": "{operator}: your bill {number} for {amount} is ready, due {due}. See it: {link}",
    "es": "{operator}: tu factura {number} de {amount} está lista, vence el {due}. Verla: {link}",
}
BILL_DUE = {
    "en": "{operator}: your bill of {amount} is due {when}. Reply PAY for a payment link.",
    "es": "{operator}: tu factura de {amount} vence {when}. Responde PAGAR para pagarla.",
}
DUE_WHEN = {
    "en": {"one": "tomorrow ({due})", "other": "in {count} days ({due})"},
    "es": {"one": "mañana ({due})", "other": "en {count} días ({due})"},
}
BILL_OVERDUE = {
    "en": "{operator}: your bill of {amount} was due {due} and is still open. Reply PAY for a "
    "payment link.",
    "es": "{operator}: tu factura de {amount} venció el {due} y sigue pendiente. Responde PAGAR "
    "para pagarla.",
}
USAGE = {
    "en": "{operator}: {number} has used {percent}% of its {kind} this cycle ({used} of "
    "{allowance}). It renews {renews}.",
    "es": "{operator}: el {number} ha usado el {percent}% de sus {kind} de este ciclo ({used} de "
    "{allowance}). Se renueva el {renews}.",
}
KINDS = {
    "data": {"en": "data", "es": "datos"},
    "voice": {"en": "minutes", "es": "minutos"},
    "sms": {"en": "texts", "es": "SMS"},
}
LIMIT_NEAR = {
    "en": "{operator}: your charges this cycle are {unbilled}, {percent}% of your {limit} limit.",
    "es": "{operator}: tus cargos de este ciclo son {unbilled}, el {percent}% de tu límite de "
    "{limit}.",
}
LIMIT_REACHED = {
    "en": "{operator}: your charges this cycle ({unbilled}) have reached your {limit} limit.",
    "es": "{operator}: tus cargos de este ciclo ({unbilled}) han alcanzado tu límite de {limit}.",
}
# A payment the billing system reported (`payment.succeeded`): for a bill, or a prepaid top-up.
PAYMENT_RECEIVED = {
    "invoice": {
        "en": "{operator}: thank you! We received {amount} for your bill {number}. Reference: "
        "{reference}.",
        "es": "{operator}: ¡gracias! Hemos recibido {amount} para tu factura {number}. "
        "Referencia: {reference}.",
    },
    "top_up": {
        "en": "{operator}: thank you! We received {amount}, added to your balance. Reference: "
        "{reference}.",
        "es": "{operator}: ¡gracias! Hemos recibido {amount}, ya en tu saldo. Referencia: "
        "{reference}.",
    },
}
LIMIT_BARRED = {
    "en": "{operator}: your charges this cycle ({unbilled}) reached your {limit} limit, so "
    "chargeable use is now barred, as you asked. Reply CONTINUE to keep using it until {end}, "
    "or RAISE {raise_to} to raise your limit.",
    "es": "{operator}: tus cargos de este ciclo ({unbilled}) alcanzaron tu límite de {limit} y, "
    "como pediste, el uso con cargo está bloqueado. Responde CONTINUAR para seguir usándolo "
    "hasta el {end}, o SUBIR {raise_to} para subir tu límite.",
}
LOW_BALANCE = {
    "en": "{operator}: your prepaid balance is {balance}, under your {level} alert. Top up to "
    "keep using your line.",
    "es": "{operator}: tu saldo de prepago es de {balance}, por debajo de tu aviso de {level}. "
    "Recarga para seguir usando tu línea.",
}
TICKET_UPDATED = {
    "en": "{operator}: your ticket {reference} is {status}. Our team says: {message}",
    "es": "{operator}: tu incidencia {reference} está {status}. Nuestro equipo dice: {message}",
}
TICKET_STATUS_ONLY = {
    "en": "{operator}: your ticket {reference} is {status}.",
    "es": "{operator}: tu incidencia {reference} está {status}.",
}
TICKET_STATUSES = {
    "open": {"en": "open", "es": "abierta"},
    "pending_customer": {"en": "waiting for your reply", "es": "esperando tu respuesta"},
    "resolved": {"en": "resolved", "es": "resuelta"},
    "closed": {"en": "closed", "es": "cerrada"},
}
