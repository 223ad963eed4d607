"""What `sim_swap` says, in English and Spanish."""

from __future__ import annotations

MENU_LABEL = {"en": "Replacement SIM or eSIM", "es": "SIM o eSIM nueva"}
NO_LINES = {
    "en": "Your account has no line in service, so there's no SIM to replace.",
    "es": "Tu cuenta no tiene ninguna línea en servicio, así que no hay SIM que cambiar.",
}
WHICH_LINE = {
    "en": "Which number is the new SIM for?",
    "es": "¿Para qué número es la SIM nueva?",
}
WHICH_KIND = {
    "en": "For {number}: an eSIM (ready in minutes, if your phone supports eSIM) or a SIM card "
    "(posted to you, 2–3 working days)?",
    "es": "Para {number}: ¿una eSIM (lista en minutos, si tu teléfono admite eSIM) o una "
    "tarjeta SIM (te la enviamos, 2–3 días laborables)?",
}
PICK_KIND = {
    "en": "Please choose eSIM or SIM card.",
    "es": "Elige eSIM o tarjeta SIM.",
}
ESIM = {"en": "eSIM", "es": "eSIM"}
CARD = {"en": "SIM card", "es": "Tarjeta SIM"}
CONFIRM_ESIM = {
    "en": "Order a replacement eSIM for {line}? It's free. The activation details go to your "
    "account email. As soon as the eSIM is activated, the SIM in the phone now stops working.",
    "es": "¿Pedimos una eSIM nueva para {line}? Es gratis. Los datos de activación llegan al "
    "correo de tu cuenta. En cuanto se active la eSIM, la SIM del teléfono actual deja de "
    "funcionar.",
}
CONFIRM_CARD = {
    "en": "Order a replacement SIM card for {line}? It's free and is posted to your address in "
    "2–3 working days. As soon as the new SIM is activated, the SIM in the phone now stops "
    "working.",
    "es": "¿Pedimos una tarjeta SIM nueva para {line}? Es gratis y te llega por correo postal en "
    "2–3 días laborables. En cuanto se active la SIM nueva, la SIM del teléfono actual deja "
    "de funcionar.",
}
DONE_ESIM = {
    "en": "Done: eSIM order {reference} for {number}. Our SIM team emails the activation details "
    "to {email} once the eSIM is ready. Your current SIM keeps working until you activate it.",
    "es": "Hecho: pedido de eSIM {reference} para {number}. Nuestro equipo de SIM enviará los "
    "datos de activación a {email} cuando la eSIM esté lista. Tu SIM actual sigue funcionando "
    "hasta que la actives.",
}
DONE_CARD = {
    "en": "Done: SIM card order {reference} for {number}. It's posted to your address within "
    "2–3 working days. Your current SIM keeps working until you activate the new one.",
    "es": "Hecho: pedido de tarjeta SIM {reference} para {number}. Te llega por correo en 2–3 "
    "días laborables. Tu SIM actual sigue funcionando hasta que actives la nueva.",
}
ALREADY = {
    "en": "A new SIM for {number} is already on order ({reference}, {day}). It takes over as "
    "soon as it's activated.",
    "es": "Ya hay una SIM nueva pedida para {number} ({reference}, {day}). Sustituye a la "
    "actual en cuanto se active.",
}
OFFER_REPLACEMENT = {
    "en": "I can ask our team for a replacement SIM: they check your identity first. Shall I?",
    "es": "Puedo pedir a nuestro equipo una SIM nueva: antes comprobarán tu identidad. ¿Lo hago?",
}
NO_REPLACEMENT = {
    "en": "OK. The SIM for {number} stays blocked.",
    "es": "De acuerdo. La SIM de {number} sigue bloqueada.",
}
KEPT = {
    "en": "OK, I haven't ordered anything.",
    "es": "De acuerdo, no he pedido nada.",
}
YES_OR_NO = {"en": "Please answer yes or no.", "es": "Responde sí o no."}
