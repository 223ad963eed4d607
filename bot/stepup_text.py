"""What step-up verification (`bot.stepup`) says, in English and Spanish."""

from __future__ import annotations

from bot.i18n import Messages

ASK_PIN = {
    "en": "To protect your account, please enter your account PIN.",
    "es": "Para proteger tu cuenta, introduce el PIN de tu cuenta.",
}
ASK_PIN_FOR = {
    "en": "To protect your account, please enter your account PIN for {number}.",
    "es": "Para proteger tu cuenta, introduce el PIN de la cuenta de {number}.",
}
PIN_FORMAT = {
    "en": "Your PIN is 4 to 8 digits. Please send just the digits.",
    "es": "El PIN tiene de 4 a 8 dígitos. Envía solo los dígitos.",
}
WRONG_PIN = {
    "en": {
        "one": "That PIN isn't right. You have {count} attempt left.",
        "other": "That PIN isn't right. You have {count} attempts left.",
    },
    "es": {
        "one": "Ese PIN no es correcto. Te queda {count} intento.",
        "other": "Ese PIN no es correcto. Te quedan {count} intentos.",
    },
}
FORGOT = {
    "en": "Without your PIN I can't check it's you here. Our support team can help once they "
    "have checked your identity: {contacts}.",
    "es": "Sin tu PIN no puedo comprobar aquí que eres tú. El equipo de atención al cliente "
    "puede ayudarte tras comprobar tu identidad: {contacts}.",
}
LOCKED_FOR = {
    "en": "Too many wrong PINs, so I can't check a PIN for {number} from here until {until}.",
    "es": "Demasiados PIN incorrectos: no puedo comprobar un PIN de {number} desde aquí hasta "
    "{until}.",
}
LOCKED = {
    "en": "Too many wrong PINs, so I can't check your PIN from here until {until}.",
    "es": "Demasiados PIN incorrectos: no puedo comprobar tu PIN desde aquí hasta {until}.",
}
PAUSED_FOR = {
    "en": "For your security, PIN checks for {number} are paused until {until} after too many "
    "wrong PINs, and a person from our support team will follow up.",
    "es": "Por seguridad, las comprobaciones de PIN de {number} quedan en pausa hasta "
    "{until} por demasiados PIN incorrectos, y una persona de atención al cliente se "
    "pondrá en contacto.",
}
PAUSED = {
    "en": "For your security, PIN checks for your account are paused until {until} after too "
    "many wrong PINs, and a person from our support team will follow up.",
    "es": "Por seguridad, las comprobaciones de PIN de tu cuenta quedan en pausa hasta "
    "{until} por demasiados PIN incorrectos, y una persona de atención al cliente se "
    "pondrá en contacto.",
}
STOLEN_HINT = {
    "en": "If the phone was stolen, call support now and they will block the SIM for you.",
    "es": "Si te han robado el teléfono, llama a atención al cliente y bloquearán la SIM.",
}
HANDED_HINT = {
    "en": "Nothing was changed. Our team has ticket {ticket} and will contact you.",
    "es": "No se ha cambiado nada. Nuestro equipo tiene la incidencia {ticket} y te contactará.",
}
NO_CODES = {
    "en": "I can't send security codes from here, so I can't do this in chat. Support can help: "
    "{contacts}.",
    "es": "Desde aquí no puedo enviar códigos de seguridad, así que no puedo hacerlo por chat. "
    "Atención al cliente puede ayudarte: {contacts}.",
}
NO_CHANNEL = {
    "en": "For this I send a code to one of your other verified contacts (your own phone by SMS, "
    "a chat linked over a week ago, or your email), and I have none I can use from here. "
    "Support can help: {contacts}.",
    "es": "Para esto envío un código a otro de tus contactos verificados (tu teléfono por SMS, "
    "un chat vinculado hace más de una semana o tu correo) y no tengo ninguno que pueda usar "
    "desde aquí. Atención al cliente puede ayudarte: {contacts}.",
}
WHERE = {
    "en": "Thanks. Now I'll send you a 6-digit code. Where should it go?",
    "es": "Gracias. Ahora te enviaré un código de 6 cifras. ¿Adónde lo envío?",
}
CODE_SENT = {
    "en": "I've sent a 6-digit code by {where}. Type it here (it works for 10 minutes).",
    "es": "Te he enviado un código de 6 cifras por {where}. Escríbelo aquí (vale 10 minutos).",
}
CODE_AGAIN = {
    "en": "Type the 6-digit code I sent by {where}.",
    "es": "Escribe el código de 6 cifras que te envié por {where}.",
}
CODE_MESSAGE = {
    "en": "{operator}: {code} is your code to {action}. It expires in 10 minutes. Never share "
    "it: we never ask for it. Not you? Call {phone}.",
    "es": "{operator}: {code} es tu código para {action}. Caduca en 10 minutos. No lo compartas: "
    "nunca te lo pediremos. ¿No has sido tú? Llama al {phone}.",
}
WRONG_CODE = {
    "en": {
        "one": "That code isn't right. You have {count} try left.",
        "other": "That code isn't right. You have {count} tries left.",
    },
    "es": {
        "one": "Ese código no es correcto. Te queda {count} intento.",
        "other": "Ese código no es correcto. Te quedan {count} intentos.",
    },
}
EXPIRED = {
    "en": "That code has expired (codes work for 10 minutes). Shall I send a new one?",
    "es": "Ese código ha caducado (valen 10 minutos). ¿Te envío uno nuevo?",
}
NEW_CODE = {"en": "Send a new code", "es": "Enviar otro código"}
STOP = {"en": "Stop", "es": "Parar"}
STOPPED = {
    "en": "OK, I've stopped. Nothing was changed.",
    "es": "De acuerdo, lo he dejado. No se ha cambiado nada.",
}
TOO_MANY_SENDS = {
    "en": "I've already sent you several codes, so I'll stop here. Nothing was changed. Support "
    "can help: {contacts}.",
    "es": "Ya te he enviado varios códigos, así que lo dejo aquí. No se ha cambiado nada. "
    "Atención al cliente puede ayudarte: {contacts}.",
}
HANDED_OVER = {
    "en": "That was the last try, so for your security I've stopped here and passed this to our "
    "team (ticket {ticket}). They will contact you on your registered details. Nothing on your "
    "account was changed.",
    "es": "Era el último intento, así que por seguridad lo dejo aquí y lo paso a nuestro equipo "
    "(incidencia {ticket}). Te contactarán en tus datos registrados. No se ha cambiado nada en "
    "tu cuenta.",
}
VERIFIED = {"en": "Thanks, that's you.", "es": "Gracias, eres tú."}

# What the customer was trying to do, for the code's message and the holder's notices.
ACTIONS: dict[str, Messages] = {
    "bar_sim": {"en": "block {number}", "es": "bloquear {number}"},
    "unbar_sim": {"en": "unblock {number}", "es": "desbloquear {number}"},
    "pin_reset": {"en": "change your account PIN", "es": "cambiar el PIN de tu cuenta"},
    "update_contact": {
        "en": "change your account's email address",
        "es": "cambiar el correo de tu cuenta",
    },
    "sim_swap": {"en": "order a new SIM for {number}", "es": "pedir una SIM nueva para {number}"},
    "port_lock_off": {
        "en": "turn off your SIM-change and number-transfer lock",
        "es": "quitar tu bloqueo de cambios de SIM y portabilidad",
    },
    "port_out": {
        "en": "approve moving {number} to another provider",
        "es": "aprobar llevar el {number} a otra compañía",
    },
}
ANY_ACTION = {"en": "make a change to your account", "es": "hacer un cambio en tu cuenta"}

LOCK_NOTICE = {
    "en": "billbot: 5 wrong PINs for your account were entered from {requester} while trying "
    "to {action}, so PIN checks from there are locked until {until}. Your own phone can "
    "still use your PIN. If this wasn't you, your account is safe, but call support if you "
    "think someone knows your details.",
    "es": "billbot: se han introducido 5 PIN incorrectos de tu cuenta desde {requester} al "
    "intentar {action}, así que las comprobaciones de PIN desde allí quedan "
    "bloqueadas hasta {until}. Tu propio teléfono puede seguir usando tu PIN. Si no has "
    "sido tú, tu cuenta está a salvo, pero llámanos si crees que alguien conoce tus datos.",
}
PAUSE_NOTICE = {
    "en": "billbot: after too many wrong PINs for your account today (the last from "
    "{requester}), PIN checks are paused for everyone until {until}. A person from our team "
    "will contact you about ticket {ticket}. If you need a SIM blocked now, call support.",
    "es": "billbot: tras demasiados PIN incorrectos de tu cuenta hoy (el último desde "
    "{requester}), las comprobaciones de PIN quedan en pausa para todos hasta {until}. "
    "Una persona de nuestro equipo te contactará por la incidencia {ticket}. Si necesitas "
    "bloquear una SIM ahora, llama a atención al cliente.",
}
FAILED_NOTICE = {
    "en": "{operator}: someone failed our security check from {requester} while trying to "
    "{action}. Nothing was changed, and our team will contact you (ticket {ticket}). If this "
    "wasn't you, call {phone}.",
    "es": "{operator}: alguien no ha superado nuestra comprobación de seguridad desde "
    "{requester} al intentar {action}. No se ha cambiado nada y nuestro equipo te contactará "
    "(incidencia {ticket}). Si no has sido tú, llama al {phone}.",
}
CHANNEL_NAMES = {
    "sms": {"en": "SMS", "es": "SMS"},
    "whatsapp": {"en": "WhatsApp", "es": "WhatsApp"},
    "telegram": {"en": "Telegram", "es": "Telegram"},
    "web": {"en": "the web chat", "es": "el chat web"},
    "console": {"en": "the console", "es": "la consola"},
}
