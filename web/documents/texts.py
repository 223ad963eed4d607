"""Every word printed on invoices and receipts, in English and Spanish (chosen by bot.i18n.say).

Spanish uses "tú", as the chat replies do.
"""

from __future__ import annotations

from collections.abc import Mapping

from bot.i18n import Messages

# --- every document ---------------------------------------------------------------------------
PAGE = {"en": "Page {page} of {pages}", "es": "Página {page} de {pages}"}
TAX_ID = {"en": "Tax ID: {tax_id}", "es": "NIF: {tax_id}"}
ACCOUNT = {"en": "Account no. {id}", "es": "Cuenta n.º {id}"}
BILL_TO = {"en": "Bill to", "es": "Cliente"}
DATE = {"en": "Date", "es": "Fecha"}
METHOD = {"en": "Method", "es": "Método"}
AMOUNT = {"en": "Amount", "es": "Importe"}
REFERENCE = {"en": "Reference", "es": "Referencia"}

# --- invoice ----------------------------------------------------------------------------------
INVOICE_TITLE = {"en": "Invoice {number}", "es": "Factura {number}"}
ISSUED_ON = {"en": "Issue date", "es": "Fecha de emisión"}
DUE_ON = {"en": "Due date", "es": "Fecha de vencimiento"}
PERIOD = {"en": "Billing period", "es": "Periodo de facturación"}
PERIOD_RANGE = {"en": "{start} – {end}", "es": "{start} – {end}"}
STATUS = {"en": "Status", "es": "Estado"}
STATUS_WORDS: Mapping[str, Messages] = {
    "draft": {"en": "Draft", "es": "Borrador"},
    "open": {"en": "Open", "es": "Pendiente"},
    "overdue": {"en": "Overdue", "es": "Vencida"},
    "paid": {"en": "Paid", "es": "Pagada"},
    "void": {"en": "Void", "es": "Anulada"},
}
COLUMN_DESCRIPTION = {"en": "Description", "es": "Concepto"}
COLUMN_NUMBER = {"en": "Phone number", "es": "Número"}
COLUMN_QUANTITY = {"en": "Qty", "es": "Cant."}
COLUMN_NET = {"en": "Amount (net)", "es": "Importe (neto)"}
DISCOUNT = {"en": "Discount: {description}", "es": "Descuento: {description}"}
SUBTOTAL = {"en": "Subtotal", "es": "Subtotal"}
TAX = {"en": "Tax {rate} %", "es": "Impuestos {rate} %"}
TOTAL = {"en": "Total", "es": "Total"}
AMOUNT_PAID = {"en": "Amount paid", "es": "Importe pagado"}
AMOUNT_DUE = {"en": "Amount due", "es": "Importe pendiente"}
PAYMENTS = {"en": "Payments received", "es": "Pagos recibidos"}
HOW_TO_PAY = {"en": "How to pay", "es": "Cómo pagar"}
PAY_BY = {"en": "Please pay {amount} by {due}.", "es": "Por favor, paga {amount} antes del {due}."}
PAY_ONLINE = {"en": "Pay online:", "es": "Paga en línea:"}
SCAN: Mapping[str, Messages] = {
    "epc": {
        "en": "Scan the code with your banking app to pay by bank transfer.",
        "es": "Escanea el código con la app de tu banco para pagar por transferencia.",
    },
    "upi": {
        "en": "Scan the code with any UPI app to pay.",
        "es": "Escanea el código con cualquier app de UPI para pagar.",
    },
    "link": {
        "en": "Scan the code to open the payment page.",
        "es": "Escanea el código para abrir la página de pago.",
    },
}
BANK_TRANSFER = {"en": "Bank transfer", "es": "Transferencia bancaria"}
BENEFICIARY = {"en": "Beneficiary", "es": "Beneficiario"}
UPI = {"en": "UPI", "es": "UPI"}
UPI_ID = {"en": "UPI ID", "es": "ID de UPI"}
PAYEE = {"en": "Payee", "es": "Beneficiario"}

# --- receipt ----------------------------------------------------------------------------------
RECEIPT_TITLE = {"en": "Payment receipt", "es": "Recibo de pago"}
RECEIVED_FROM = {"en": "Received from", "es": "Recibido de"}
AMOUNT_RECEIVED = {"en": "Amount received", "es": "Importe recibido"}
INVOICE = {"en": "Invoice", "es": "Factura"}
INVOICE_TOTAL = {"en": "Invoice total", "es": "Total de la factura"}
STILL_DUE = {"en": "Still due on this invoice", "es": "Pendiente en esta factura"}
APPLIED_TO = {"en": "Applied to", "es": "Aplicado a"}
ACCOUNT_BALANCE = {"en": "Account balance", "es": "Saldo de la cuenta"}
THANKS = {"en": "Thank you for your payment.", "es": "Gracias por tu pago."}
