"""The BillingClient port, its DTOs and errors; adapters live in subpackages (`sql`)."""

from billing_client.errors import (
    AccountLockedError,
    BillingError,
    BillingUnavailableError,
    ConflictError,
    InvalidRequestError,
    NotFoundError,
    PinChecksPausedError,
    VerificationError,
)
from billing_client.interface import BillingClient
from billing_client.types import (
    Account,
    AuditEntry,
    Balance,
    BarResult,
    InvoiceDetail,
    InvoiceItem,
    InvoiceSummary,
    Line,
    Money,
    Payment,
    PaymentLink,
    Ticket,
    UsageCounter,
)

__all__ = [
    "Account",
    "AccountLockedError",
    "AuditEntry",
    "Balance",
    "BarResult",
    "BillingClient",
    "BillingError",
    "BillingUnavailableError",
    "ConflictError",
    "InvalidRequestError",
    "InvoiceDetail",
    "InvoiceItem",
    "InvoiceSummary",
    "Line",
    "Money",
    "NotFoundError",
    "Payment",
    "PaymentLink",
    "PinChecksPausedError",
    "Ticket",
    "UsageCounter",
    "VerificationError",
]
