"""What `port_lock` says, in English and Spanish."""

from __future__ import annotations

MENU_LABEL = {"en": "SIM and number-transfer lock", "es": "Bloqueo de SIM y portabilidad"}
IS_ON = {
    "en": "Your SIM-change and number-transfer lock is ON: nobody can order a new SIM for your "
    "numbers or move them to another provider.",
    "es": "Tu bloqueo de cambios de SIM y portabilidad está ACTIVADO: nadie puede pedir una SIM "
    "nueva para tus números ni llevárselos a otra compañía.",
}
IS_OFF = {
    "en": "Your SIM-change and number-transfer lock is OFF. Turning it on stops anyone ordering "
    "a new SIM for your numbers or moving them to another provider.",
    "es": "Tu bloqueo de cambios de SIM y portabilidad está DESACTIVADO. Si lo activas, nadie "
    "podrá pedir una SIM nueva para tus números ni llevárselos a otra compañía.",
}
TURN_ON = {"en": "Turn the lock on", "es": "Activar el bloqueo"}
TURN_OFF = {"en": "Turn the lock off", "es": "Quitar el bloqueo"}
APPROVE = {"en": "Approve the transfer", "es": "Aprobar la portabilidad"}
NOT_ME = {"en": "Not me", "es": "No fui yo"}
PICK = {
    "en": "Tell me what to do: turn the lock on or off, or approve a transfer.",
    "es": "Dime qué hago: activar o quitar el bloqueo, o aprobar una portabilidad.",
}
WAITING = {
    "en": "{carrier} asked on {day} to move {number} to them ({reference}); it waits for your "
    "approval.",
    "es": "{carrier} pidió el {day} llevarse el {number} ({reference}); espera tu aprobación.",
}
NOTHING_WAITING = {
    "en": "No transfer request is waiting for your approval. To move your number, ask your new "
    "provider: they send us the request and I'll message you to approve it.",
    "es": "No hay ninguna portabilidad esperando tu aprobación. Para llevarte tu número, "
    "pídeselo a tu nueva compañía: nos envían la petición y te escribiré para que la apruebes.",
}
NOT_WAITING = {
    "en": "Transfer {reference} isn't waiting any more (it was cancelled or decided meanwhile).",
    "es": "La portabilidad {reference} ya no está pendiente (se canceló o se decidió mientras "
    "tanto).",
}
CONFIRM_ON = {
    "en": "Turn the lock on? Nobody — you included — can then order a new SIM or move your "
    "numbers to another provider until you turn it off, which needs your PIN and a code.",
    "es": "¿Activamos el bloqueo? Nadie, ni tú, podrá pedir una SIM nueva ni llevarse tus números "
    "a otra compañía hasta que lo quites, para lo que hará falta tu PIN y un código.",
}
CONFIRM_OFF = {
    "en": "Turn the lock off? New SIMs can then be ordered for your numbers, and other "
    "providers can ask to take them (you still approve each transfer).",
    "es": "¿Quitamos el bloqueo? Entonces se podrán pedir SIM nuevas para tus números y otras "
    "compañías podrán pedir llevárselos (cada portabilidad la apruebas tú).",
}
CONFIRM_APPROVE = {
    "en": "Approve moving {number} to {carrier} ({reference})? When {carrier} completes it, "
    "your service for that number with us ends; anything you owe stays due.",
    "es": "¿Apruebas llevar el {number} a {carrier} ({reference})? Cuando {carrier} la "
    "complete, tu servicio de ese número con nosotros termina; lo que debas sigue pendiente.",
}
APPROVED = {
    "en": "Approved: {carrier} can now complete moving {number} ({reference}).",
    "es": "Aprobada: {carrier} ya puede completar la portabilidad del {number} ({reference}).",
}
NOW_ON = {
    "en": "Done: the lock is on. Nobody can order a new SIM or move your numbers now.",
    "es": "Hecho: el bloqueo está activado. Nadie puede pedir una SIM nueva ni llevarse tus "
    "números.",
}
NOW_OFF = {
    "en": "Done: the lock is off. To move a number, ask your new provider; I'll message you to "
    "approve their request.",
    "es": "Hecho: el bloqueo está quitado. Para llevarte un número, pídeselo a tu nueva "
    "compañía; te escribiré para que apruebes su petición.",
}
ALREADY_ON = {
    "en": "Your lock is already on: nobody can order a new SIM or move your numbers.",
    "es": "Tu bloqueo ya está activado: nadie puede pedir una SIM nueva ni llevarse tus números.",
}
ALREADY_OFF = {
    "en": "Your lock is already off. To move a number, ask your new provider: they send us the "
    "request and I'll message you to approve it.",
    "es": "Tu bloqueo ya está quitado. Para llevarte un número, pídeselo a tu nueva compañía: "
    "nos envían la petición y te escribiré para que la apruebes.",
}
LOCKED_APPROVE = {
    "en": "Your lock is on, so this transfer can't go ahead. Turn the lock off first (say \"port "
    'lock"), then approve it.',
    "es": "Tu bloqueo está activado, así que esta portabilidad no puede seguir. Quita antes el "
    'bloqueo (escribe "bloqueo de portabilidad") y luego apruébala.',
}
KEPT = {"en": "OK, nothing changed.", "es": "De acuerdo, no he cambiado nada."}
YES_OR_NO = {"en": "Please answer yes or no.", "es": "Responde sí o no."}
