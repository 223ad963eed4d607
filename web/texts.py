"""The web view's texts in English and Spanish, looked up by key through `bot.i18n`.

Templates call `t("key", name=value)`; the page's locale is the signed-in customer's (or the
pay link's account's), else the browser's Accept-Language, else English.
"""

from __future__ import annotations

from typing import Any

from bot.i18n import Messages, say

TEXTS: dict[str, Messages] = {
    # layout
    "skip": {"en": "Skip to content", "es": "Saltar al contenido"},
    "nav": {"en": "Account", "es": "Cuenta"},
    "nav_dashboard": {"en": "Overview", "es": "Resumen"},
    "nav_invoices": {"en": "Invoices", "es": "Facturas"},
    "nav_payments": {"en": "Payments", "es": "Pagos"},
    "nav_autopay": {"en": "Autopay", "es": "Pago automático"},
    "nav_preferences": {"en": "Settings", "es": "Ajustes"},
    "nav_contact": {"en": "Contact details", "es": "Datos de contacto"},
    "nav_tickets": {"en": "Support tickets", "es": "Incidencias"},
    "nav_help": {"en": "Help", "es": "Ayuda"},
    "sign_out": {"en": "Sign out", "es": "Salir"},
    "sign_in": {"en": "Sign in", "es": "Entrar"},
    "back_to_chat": {"en": "Back to chat", "es": "Volver al chat"},
    "demo_banner": {
        "en": "Fictional customers and a sandbox: no real accounts or money",
        "es": "Clientes ficticios y un entorno de pruebas: sin cuentas ni dinero reales",
    },
    "support_line": {
        "en": "Support: {phone} · {email} · {hours}",
        "es": "Atención: {phone} · {email} · {hours}",
    },
    # sign-in
    "signin_title": {"en": "Sign in to your account", "es": "Entra en tu cuenta"},
    "signin_intro": {
        "en": "Enter your mobile number. We will text you a 6-digit code.",
        "es": "Escribe tu número de móvil. Te enviaremos un código de 6 cifras por SMS.",
    },
    "phone_label": {"en": "Mobile number", "es": "Número de móvil"},
    "phone_hint": {"en": "For example +1 202 555 0101", "es": "Por ejemplo +34 612 345 678"},
    "send_code": {"en": "Text me a code", "es": "Enviarme un código"},
    "signin_chat_hint": {
        "en": "Or text “open my account” to us on SMS, WhatsApp or Telegram for a sign-in link.",
        "es": "O escríbenos “abrir mi cuenta” por SMS, WhatsApp o Telegram y te enviaremos "
        "un enlace.",
    },
    "code_title": {"en": "Enter your code", "es": "Escribe tu código"},
    "code_sent": {
        "en": "If this number has an account with us, we have sent it a code. It expires in "
        "10 minutes.",
        "es": "Si este número tiene una cuenta con nosotros, le hemos enviado un código. "
        "Caduca en 10 minutos.",
    },
    "code_label": {"en": "6-digit code", "es": "Código de 6 cifras"},
    "code_submit": {"en": "Sign in", "es": "Entrar"},
    "code_again": {"en": "Send a new code", "es": "Enviar otro código"},
    "bad_number": {
        "en": "That does not look like a mobile number. Include the country code, e.g. +1.",
        "es": "Eso no parece un número de móvil. Incluye el prefijo del país, p. ej. +34.",
    },
    "too_many_codes": {
        "en": "We have just sent codes to this number. Wait 15 minutes, or use the last code.",
        "es": "Acabamos de enviar códigos a este número. Espera 15 minutos o usa el último.",
    },
    "codes_paused": {
        "en": "Too many wrong codes for this number today. Text “open my account” from your "
        "phone for a sign-in link, or call support.",
        "es": "Demasiados códigos erróneos para este número hoy. Escríbenos “abrir mi cuenta” "
        "desde tu móvil para recibir un enlace, o llama a atención al cliente.",
    },
    "locked": {
        "en": "Too many wrong codes. Try again in 30 minutes.",
        "es": "Demasiados códigos erróneos. Inténtalo de nuevo en 30 minutos.",
    },
    "code_wrong": {
        "en": "That code is not right. Check the text and try again.",
        "es": "El código no es correcto. Revisa el SMS e inténtalo de nuevo.",
    },
    "code_tries": {
        "en": "Too many wrong tries for this code. Ask for a new code.",
        "es": "Demasiados intentos con este código. Pide uno nuevo.",
    },
    "code_expired": {
        "en": "This code has expired or was used. Ask for a new code.",
        "es": "Este código ha caducado o ya se usó. Pide uno nuevo.",
    },
    "link_title": {"en": "Continue to your account", "es": "Continuar a tu cuenta"},
    "link_intro": {
        "en": "This sign-in link works once, for 15 minutes.",
        "es": "Este enlace de acceso funciona una vez, durante 15 minutos.",
    },
    "link_continue": {"en": "Continue", "es": "Continuar"},
    "not_me_title": {"en": "This wasn't me", "es": "No he sido yo"},
    "not_me_intro": {
        "en": "If you did not ask for {reference}, press the button: we stop it, lock SIM changes "
        "and number transfers on your account, and our fraud team calls you.",
        "es": "Si no has pedido {reference}, pulsa el botón: lo paramos, bloqueamos los cambios "
        "de SIM y la portabilidad de tu cuenta, y nuestro equipo de fraude te llama.",
    },
    "not_me_button": {"en": "Stop it: this wasn't me", "es": "Pararlo: no he sido yo"},
    "link_used": {
        "en": "This sign-in link was already used or has expired. Sign in with a code, or "
        "text “open my account” for a new link.",
        "es": "Este enlace ya se usó o ha caducado. Entra con un código, o escríbenos “abrir "
        "mi cuenta” para recibir otro.",
    },
    "link_used_title": {"en": "Link no longer valid", "es": "Enlace no válido"},
    "signed_out": {"en": "You are signed out.", "es": "Has salido de tu cuenta."},
    # dashboard
    "hello": {"en": "Hello, {name}", "es": "Hola, {name}"},
    "amount_due": {"en": "Amount due", "es": "Importe pendiente"},
    "due_on": {"en": "Due {date}", "es": "Vence el {date}"},
    "overdue": {"en": "Overdue", "es": "Vencida"},
    "nothing_due": {"en": "Nothing to pay. Thank you!", "es": "Nada pendiente. ¡Gracias!"},
    "pay_now": {"en": "Pay now", "es": "Pagar ahora"},
    "prepaid_balance": {"en": "Prepaid balance", "es": "Saldo de prepago"},
    "unbilled": {"en": "Charges so far this cycle", "es": "Cargos en este ciclo hasta ahora"},
    "bill_limit": {
        "en": "Spending limit {limit} ({percent} % used)",
        "es": "Límite de gasto {limit} ({percent} % usado)",
    },
    "usage_title": {"en": "Usage this cycle", "es": "Consumo en este ciclo"},
    "usage_until": {"en": "Until {date}", "es": "Hasta el {date}"},
    "unlimited": {"en": "unlimited", "es": "ilimitado"},
    "no_usage": {"en": "No usage recorded this cycle.", "es": "Sin consumo en este ciclo."},
    "alerts_title": {"en": "Alerts", "es": "Avisos"},
    "usage_hidden": {
        "en": "Usage is not shown here. Ask support for details.",
        "es": "El consumo no se muestra aquí. Pregunta a atención al cliente.",
    },
    "kind_data": {"en": "Data", "es": "Datos"},
    "kind_voice": {"en": "Calls", "es": "Llamadas"},
    "kind_sms": {"en": "Texts", "es": "SMS"},
    # invoices
    "invoices_title": {"en": "Your invoices", "es": "Tus facturas"},
    "no_invoices": {
        "en": "There are no invoices on this account yet.",
        "es": "Todavía no hay facturas en esta cuenta.",
    },
    "invoice": {"en": "Invoice", "es": "Factura"},
    "invoice_n": {"en": "Invoice {number}", "es": "Factura {number}"},
    "period": {"en": "Period", "es": "Periodo"},
    "issued": {"en": "Issued", "es": "Emitida"},
    "due": {"en": "Due", "es": "Vence"},
    "total": {"en": "Total", "es": "Total"},
    "paid": {"en": "Paid", "es": "Pagado"},
    "status": {"en": "Status", "es": "Estado"},
    "item": {"en": "Item", "es": "Concepto"},
    "quantity": {"en": "Qty", "es": "Cant."},
    "amount": {"en": "Amount", "es": "Importe"},
    "subtotal": {"en": "Subtotal", "es": "Subtotal"},
    "discounts": {"en": "Discounts", "es": "Descuentos"},
    "tax_rate": {"en": "Tax {rate}", "es": "Impuestos {rate}"},
    "already_paid": {"en": "Already paid", "es": "Ya pagado"},
    "download_pdf": {"en": "Download PDF", "es": "Descargar PDF"},
    "payments_against": {"en": "Payments on this invoice", "es": "Pagos de esta factura"},
    "status_open": {"en": "Open", "es": "Pendiente"},
    "status_overdue": {"en": "Overdue", "es": "Vencida"},
    "status_paid": {"en": "Paid", "es": "Pagada"},
    "status_void": {"en": "Void", "es": "Anulada"},
    "status_draft": {"en": "Draft", "es": "Borrador"},
    "invoices_hidden": {
        "en": "Invoices are not shown here. Ask support for a copy.",
        "es": "Las facturas no se muestran aquí. Pide una copia a atención al cliente.",
    },
    # payments
    "payments_title": {"en": "Payment history", "es": "Historial de pagos"},
    "no_payments": {"en": "No payments yet.", "es": "Todavía no hay pagos."},
    "date": {"en": "Date", "es": "Fecha"},
    "reference": {"en": "Reference", "es": "Referencia"},
    "method": {"en": "Method", "es": "Método"},
    "receipt": {"en": "Receipt", "es": "Recibo"},
    "method_stripe": {"en": "Card", "es": "Tarjeta"},
    "method_sandbox": {"en": "Sandbox (test)", "es": "Prueba (sandbox)"},
    "method_demo": {"en": "Demo payment", "es": "Pago de demostración"},
    "method_cash": {"en": "Cash", "es": "Efectivo"},
    "method_bank": {"en": "Bank transfer", "es": "Transferencia"},
    "support_phone": {"en": "Phone", "es": "Teléfono"},
    "prefs_other": {"en": "Language and paper", "es": "Idioma y papel"},
    "receipt_title": {"en": "Payment receipt", "es": "Recibo de pago"},
    "for_invoice": {"en": "For invoice", "es": "Para la factura"},
    "remaining": {"en": "Still due on it", "es": "Pendiente en ella"},
    "top_up": {"en": "Prepaid top-up", "es": "Recarga de prepago"},
    # pay
    "pay_title": {"en": "Pay invoice {number}", "es": "Pagar la factura {number}"},
    "amount_to_pay": {"en": "Amount to pay", "es": "Importe a pagar"},
    "pay_full": {"en": "The full amount, {amount}", "es": "El importe completo, {amount}"},
    "pay_part": {"en": "Another amount", "es": "Otro importe"},
    "pay_part_label": {"en": "Amount ({currency})", "es": "Importe ({currency})"},
    "pay_button": {"en": "Pay {amount}", "es": "Pagar {amount}"},
    "pay_sandbox_note": {
        "en": "Sandbox payment: no card is asked for and no money moves.",
        "es": "Pago de prueba: no se pide tarjeta y no se mueve dinero.",
    },
    "pay_card_note": {
        "en": "You will pay on our payment provider's secure page. We never see your card, "
        "and we never ask for card numbers in chat.",
        "es": "Pagarás en la página segura de nuestro proveedor de pagos. Nunca vemos tu "
        "tarjeta ni pedimos números de tarjeta por chat.",
    },
    "pay_processing": {
        "en": "We are confirming your payment with the provider. This page updates by itself.",
        "es": "Estamos confirmando tu pago con el proveedor. Esta página se actualiza sola.",
    },
    "pay_paid": {
        "en": "Paid — thank you! {amount} received for invoice {number}.",
        "es": "Pagado, ¡gracias! Hemos recibido {amount} para la factura {number}.",
    },
    "pay_expired": {
        "en": "This link has expired. Text “pay my bill” for a new one.",
        "es": "Este enlace ha caducado. Escríbenos “pagar mi factura” para otro.",
    },
    "pay_settled": {
        "en": "This invoice is already settled.",
        "es": "Esta factura ya está pagada.",
    },
    "pay_cancelled": {
        "en": "The payment was cancelled. Nothing was charged.",
        "es": "Se canceló el pago. No se ha cobrado nada.",
    },
    "pay_qr": {"en": "Scan to pay from your phone", "es": "Escanea para pagar desde el móvil"},
    "pay_bank": {"en": "Or pay by bank transfer", "es": "O paga por transferencia"},
    "pay_bad_amount": {
        "en": "Enter an amount between {low} and {high}.",
        "es": "Escribe un importe entre {low} y {high}.",
    },
    "pay_provider_down": {
        "en": "The payment provider is not answering. Nothing was charged; try again shortly.",
        "es": "El proveedor de pagos no responde. No se ha cobrado nada; inténtalo en un rato.",
    },
    "pay_signin_needed": {
        "en": "Sign in to pay this invoice.",
        "es": "Entra en tu cuenta para pagar esta factura.",
    },
    # pay: a prepaid top-up link (no invoice)
    "pay_top_up_title": {"en": "Top-up of {amount}", "es": "Recarga de {amount}"},
    "pay_top_up_amount": {
        "en": "{amount} will be added to your prepaid balance as soon as you have paid.",
        "es": "Se añadirán {amount} a tu saldo de prepago en cuanto pagues.",
    },
    "pay_top_up_paid": {
        "en": "Paid — thank you! {amount} was added to your prepaid balance.",
        "es": "Pagado, ¡gracias! Hemos añadido {amount} a tu saldo de prepago.",
    },
    "pay_top_up_expired": {
        "en": "This link has expired. Text “top up” for a new one.",
        "es": "Este enlace ha caducado. Escríbenos “recargar” para otro.",
    },
    # autopay
    "autopay_title": {"en": "Autopay", "es": "Pago automático"},
    "autopay_intro": {
        "en": "We charge your saved card on each invoice's due date and text you the receipt.",
        "es": "Cobramos tu tarjeta guardada en la fecha de vencimiento de cada factura y te "
        "enviamos el recibo.",
    },
    "autopay_on": {
        "en": "Autopay is on with {label}.",
        "es": "El pago automático está activo con {label}.",
    },
    "autopay_off": {"en": "Autopay is off.", "es": "El pago automático está desactivado."},
    "autopay_enrol": {"en": "Set up autopay", "es": "Activar el pago automático"},
    "autopay_cancel": {"en": "Turn off autopay", "es": "Desactivar el pago automático"},
    "autopay_next": {
        "en": "Next charge: {amount} on {date} (invoice {number}).",
        "es": "Próximo cargo: {amount} el {date} (factura {number}).",
    },
    "autopay_history": {"en": "Recent autopay charges", "es": "Cargos automáticos recientes"},
    "autopay_failed": {"en": "Declined: {reason}", "es": "Rechazado: {reason}"},
    "autopay_disabled": {
        "en": "Autopay is not offered on this account.",
        "es": "El pago automático no está disponible en esta cuenta.",
    },
    "autopay_saved": {"en": "Autopay is on.", "es": "Pago automático activado."},
    "autopay_cancelled": {
        "en": "Autopay is off. Nothing more will be charged automatically.",
        "es": "Pago automático desactivado. No se cobrará nada más automáticamente.",
    },
    # preferences
    "prefs_title": {"en": "Settings", "es": "Ajustes"},
    "prefs_alerts": {"en": "Alerts we send you", "es": "Avisos que te enviamos"},
    "prefs_channel": {"en": "Send alerts by", "es": "Enviar los avisos por"},
    "channel_auto": {"en": "Automatic (text message)", "es": "Automático (SMS)"},
    "channel_sms": {"en": "Text message (SMS)", "es": "SMS"},
    "channel_whatsapp": {"en": "WhatsApp", "es": "WhatsApp"},
    "channel_telegram": {"en": "Telegram", "es": "Telegram"},
    "channel_email": {"en": "Email", "es": "Correo electrónico"},
    "quiet_hours": {"en": "Quiet hours (your time)", "es": "Horas de silencio (tu hora)"},
    "quiet_from": {"en": "From", "es": "Desde"},
    "quiet_to": {"en": "To", "es": "Hasta"},
    "quiet_none": {"en": "No quiet hours", "es": "Sin horas de silencio"},
    "usage_levels": {
        "en": "Usage alerts at (% of each allowance)",
        "es": "Avisos de consumo al (% de cada bono)",
    },
    "limit_title": {"en": "Spending limit", "es": "Límite de gasto"},
    "limit_amount": {
        "en": "Limit per bill ({currency}); empty for none",
        "es": "Límite por factura ({currency}); vacío para ninguno",
    },
    "limit_bar": {
        "en": "Pause chargeable usage when I reach it (I can reply CONTINUE)",
        "es": "Pausar el consumo con cargo al alcanzarlo (puedo responder CONTINUAR)",
    },
    "paperless": {
        "en": "Paperless billing (no paper invoices by post)",
        "es": "Factura electrónica (sin facturas en papel por correo)",
    },
    "language": {"en": "Language", "es": "Idioma"},
    "save": {"en": "Save", "es": "Guardar"},
    "saved": {"en": "Saved.", "es": "Guardado."},
    "alert_bill_ready": {"en": "A new bill is ready", "es": "Nueva factura disponible"},
    "alert_bill_due": {"en": "Bill due soon", "es": "Factura a punto de vencer"},
    "alert_bill_overdue": {"en": "Bill overdue", "es": "Factura vencida"},
    "alert_usage_threshold": {"en": "Allowance nearly used", "es": "Bono casi agotado"},
    "alert_bill_limit": {"en": "Spending limit", "es": "Límite de gasto"},
    "alert_payment_received": {"en": "Payment received", "es": "Pago recibido"},
    "alert_ticket_updated": {"en": "Ticket updates", "es": "Novedades de incidencias"},
    "alert_low_balance": {"en": "Low prepaid balance", "es": "Saldo de prepago bajo"},
    "alert_line_barred_note": {
        "en": "Barring notices are always sent: they protect your account.",
        "es": "Los avisos de bloqueo se envían siempre: protegen tu cuenta.",
    },
    # contact
    "contact_title": {"en": "Contact details", "es": "Datos de contacto"},
    "email": {"en": "Email", "es": "Correo electrónico"},
    "email_new": {"en": "New email address", "es": "Nuevo correo electrónico"},
    "email_change": {"en": "Send confirmation link", "es": "Enviar enlace de confirmación"},
    "email_sent": {
        "en": "We sent a confirmation link to {email}. Your address changes when you open it.",
        "es": "Hemos enviado un enlace de confirmación a {email}. Tu correo cambiará al abrirlo.",
    },
    "email_confirmed": {
        "en": "Your email address is now {email}.",
        "es": "Tu correo electrónico es ahora {email}.",
    },
    "phone_numbers": {"en": "Phone numbers", "es": "Números de teléfono"},
    "phone_change_note": {
        "en": "To change a phone number, contact support: it needs identity checks.",
        "es": "Para cambiar un número, contacta con atención al cliente: requiere comprobar "
        "tu identidad.",
    },
    "contact_disabled": {
        "en": "Contact changes are made by support.",
        "es": "Los cambios de contacto los hace atención al cliente.",
    },
    "timezone": {"en": "Time zone", "es": "Zona horaria"},
    # tickets
    "tickets_title": {"en": "Support tickets", "es": "Incidencias"},
    "no_tickets": {
        "en": "You have no tickets. Text us “I have a problem” to open one.",
        "es": "No tienes incidencias. Escríbenos “tengo un problema” para abrir una.",
    },
    "ticket_status_open": {"en": "Open", "es": "Abierta"},
    "ticket_status_pending_customer": {"en": "Waiting for you", "es": "Esperando tu respuesta"},
    "ticket_status_resolved": {"en": "Resolved", "es": "Resuelta"},
    "ticket_status_closed": {"en": "Closed", "es": "Cerrada"},
    "ticket_add": {"en": "Add a message", "es": "Añadir un mensaje"},
    "ticket_send": {"en": "Send", "es": "Enviar"},
    "ticket_author_customer": {"en": "You", "es": "Tú"},
    "ticket_author_agent": {"en": "Support", "es": "Soporte"},
    "ticket_author_bot": {"en": "billbot", "es": "billbot"},
    "ticket_empty": {"en": "Write a message first.", "es": "Escribe un mensaje primero."},
    "opened": {"en": "Opened {date}", "es": "Abierta el {date}"},
    # help
    "help_title": {"en": "Help and contact", "es": "Ayuda y contacto"},
    "help_intro": {
        "en": "Text us any time on SMS, WhatsApp or Telegram: check your balance, pay a bill, "
        "block a lost phone, see usage and invoices, or open a ticket.",
        "es": "Escríbenos cuando quieras por SMS, WhatsApp o Telegram: consulta tu saldo, paga "
        "una factura, bloquea un móvil perdido, mira tu consumo y tus facturas o abre una "
        "incidencia.",
    },
    "help_person": {"en": "To talk to a person", "es": "Para hablar con una persona"},
    "help_hours": {"en": "Opening hours", "es": "Horario"},
    "help_lost": {
        "en": "Lost or stolen phone? Text “block my sim” from any phone, at any hour.",
        "es": "¿Móvil perdido o robado? Escribe “bloquear mi sim” desde cualquier móvil, a "
        "cualquier hora.",
    },
    # errors
    "error_title": {"en": "Sorry", "es": "Lo sentimos"},
    "error_hint": {
        "en": "You can always text us “pay my bill” or “my invoices” for a new link.",
        "es": "Siempre puedes escribirnos “pagar mi factura” o “mis facturas” para un "
        "enlace nuevo.",
    },
    "not_found": {"en": "We could not find that page.", "es": "No hemos encontrado esa página."},
    "error_not_found": {
        "en": "We could not find that. It may have been removed.",
        "es": "No lo hemos encontrado. Puede que ya no exista.",
    },
    "error_link_invalid": {
        "en": "This link is not valid. Check that you copied all of it, or ask us again.",
        "es": "Este enlace no es válido. Comprueba que lo copiaste entero o pídenos otro.",
    },
    "error_link_expired": {
        "en": "This link has expired, ask billbot for a new one.",
        "es": "Este enlace ha caducado; pide otro a billbot.",
    },
    "error_forbidden": {
        "en": "This form has expired or did not come from this site. Reload the page and retry.",
        "es": "Este formulario ha caducado o no viene de esta web. Recarga la página y "
        "reinténtalo.",
    },
}


def text(key: str, locale: str, **values: Any) -> str:
    """The page text `key` in the locale's language (KeyError for a missing key: a bug)."""
    return say(TEXTS[key], locale, **values)
