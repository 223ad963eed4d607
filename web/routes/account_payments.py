"""The signed-in customer's payment history and receipts (HTML and PDF)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from billing_client import Account, InvoiceSummary, Payment
from bot.services import Services
from web.auth import CustomerDep
from web.deps import ServicesDep
from web.documents import ReceiptDocument, receipt_pdf
from web.pages import render_page

router = APIRouter(prefix="/account/payments", tags=["pages"])


@router.get("", include_in_schema=False)
async def payment_list(request: Request, account: CustomerDep, services: ServicesDep) -> Response:
    payments = await services.billing.list_payments(account.id, limit=50)
    return render_page(
        request, "account/payments.html", {"account": account, "payments": payments}
    )


@router.get("/{payment_id}", include_in_schema=False)
async def receipt(
    payment_id: int, request: Request, account: CustomerDep, services: ServicesDep
) -> Response:
    payment, invoice = await _receipt(services, account, payment_id)
    context = {"account": account, "payment": payment, "invoice": invoice}
    return render_page(request, "account/receipt.html", context)


@router.get("/{payment_id}/receipt.pdf", include_in_schema=False)
async def receipt_document(
    payment_id: int, account: CustomerDep, services: ServicesDep
) -> Response:
    payment, invoice = await _receipt(services, account, payment_id)
    document = ReceiptDocument(
        payment=payment, invoice=invoice, account=account, operator=services.operator
    )
    pdf = await run_in_threadpool(receipt_pdf, document)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            "content-disposition": f'attachment; filename="receipt-{payment.id}.pdf"',
        },
    )


async def _receipt(
    services: Services, account: Account, payment_id: int
) -> tuple[Payment, InvoiceSummary | None]:
    """The payment (NotFoundError unless it is this account's) and the invoice it paid."""
    payment = await services.billing.get_payment(account.id, payment_id)
    invoice = None
    if payment.invoice_id is not None:
        detail = await services.billing.get_invoice(payment.invoice_id, now=services.clock.now())
        invoice = detail.summary
    return payment, invoice
