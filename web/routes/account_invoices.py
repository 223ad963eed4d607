"""The signed-in customer's invoices: list, detail, PDF, and a pay link for one.

Another customer's invoice id answers 404, exactly like one that does not exist.
"""

from __future__ import annotations

from functools import lru_cache

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from billing_client import Account, InvoiceDetail, NotFoundError, Payment
from bot.payqr import pay_qr_payload
from bot.services import Services
from web.auth import CustomerDep
from web.deps import ServicesDep
from web.documents import InvoiceDocument, invoice_pdf
from web.pages import render_page
from web.routes.account import pay_redirect

router = APIRouter(prefix="/account/invoices", tags=["pages"])
# The same document (invoice, payments, operator, link) gives the same bytes: repeat downloads
# skip the ~0.1 s of layout. Anything that changes the invoice changes the key.
cached_invoice_pdf = lru_cache(maxsize=64)(invoice_pdf)
LATEST = 24


@router.get("", include_in_schema=False)
async def invoice_list(request: Request, account: CustomerDep, services: ServicesDep) -> Response:
    invoices = []
    if services.operator.features.invoices:
        invoices = await services.billing.list_invoices(
            account.id, now=services.clock.now(), limit=LATEST
        )
    return render_page(
        request, "account/invoices.html", {"account": account, "invoices": invoices}
    )


@router.get("/{invoice_id}", include_in_schema=False)
async def invoice_detail(
    invoice_id: int, request: Request, account: CustomerDep, services: ServicesDep
) -> Response:
    detail = await owned_invoice(services, account, invoice_id)
    context = {
        "account": account,
        "invoice": detail,
        "s": detail.summary,
        "payments": await payments_on(services, account, invoice_id),
        "discounts": [item for item in detail.items if item.amount.minor < 0],
    }
    return render_page(request, "account/invoice.html", context)


@router.get("/{invoice_id}/invoice.pdf", include_in_schema=False)
async def invoice_document(
    invoice_id: int, account: CustomerDep, services: ServicesDep
) -> Response:
    """The invoice as a PDF: seller, buyer, items, taxes, totals, payments, how to pay."""
    detail = await owned_invoice(services, account, invoice_id)
    payments = await payments_on(services, account, invoice_id)
    pay_url = None
    if detail.summary.amount_due.minor > 0 and detail.summary.status != "void":
        pay_url = f"{services.links.public_url}/account/invoices/{invoice_id}/pay"
    document = InvoiceDocument(
        detail=detail,
        payments=tuple(payments),
        operator=services.operator,
        pay_url=pay_url,
        qr_payload=None
        if pay_url is None
        else pay_qr_payload(
            currency=account.currency,
            pay_url=pay_url,
            operator=services.operator,
            amount=detail.summary.amount_due,
            invoice_number=detail.summary.number,
        ),
    )
    pdf = await run_in_threadpool(cached_invoice_pdf, document)
    name = f"invoice-{detail.summary.number}.pdf"
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            "content-disposition": f'attachment; filename="{name}"',
        },
    )


@router.get("/{invoice_id}/pay", include_in_schema=False)
async def pay_invoice(invoice_id: int, account: CustomerDep, services: ServicesDep) -> Response:
    await owned_invoice(services, account, invoice_id)
    return await pay_redirect(services, account.id, invoice_id)


async def owned_invoice(services: Services, account: Account, invoice_id: int) -> InvoiceDetail:
    """The invoice if it is this account's (and invoices may be shown); NotFoundError else."""
    if not services.operator.features.invoices:
        raise NotFoundError("invoices are not shown here")
    detail = await services.billing.get_invoice(invoice_id, now=services.clock.now())
    if detail.account.id != account.id:
        raise NotFoundError("no such invoice")
    return detail


async def payments_on(services: Services, account: Account, invoice_id: int) -> list[Payment]:
    return [
        p
        for p in await services.billing.list_payments(account.id, limit=200)
        if p.invoice_id == invoice_id
    ]
