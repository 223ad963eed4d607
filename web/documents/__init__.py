"""Invoice and receipt PDFs in the customer's language, made with fpdf2.

Generation is CPU work and synchronous: web routes call it through `run_in_threadpool`.
The same input gives the same bytes (the PDF's creation date comes from the document, not
the clock), so a PDF can be cached, hashed or compared byte for byte.
"""

from __future__ import annotations

from web.documents.invoice import InvoiceDocument, invoice_pdf
from web.documents.receipt import ReceiptDocument, receipt_pdf

__all__ = ["InvoiceDocument", "ReceiptDocument", "invoice_pdf", "receipt_pdf"]
