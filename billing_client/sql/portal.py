"""What the customer's web view reads and changes in the embedded core: payment history, a
ticket's conversation, contact details. Functions over the caller's session (client.py owns
the transactions)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from billing_client import types as dto
from billing_client.contact import checked_email, checked_locale, checked_timezone
from billing_client.errors import NotFoundError
from billing_client.sql.audit import audit
from billing_client.sql.models import Account, Payment, Ticket, TicketMessage


async def payments(session: AsyncSession, account_id: int, limit: int) -> list[dto.Payment]:
    rows = await session.scalars(
        select(Payment)
        .where(Payment.account_id == account_id)
        .order_by(Payment.received_at.desc(), Payment.id.desc())
        .limit(limit)
    )
    return [row.to_dto(created=False) for row in rows]


async def payment(session: AsyncSession, account_id: int, payment_id: int) -> dto.Payment:
    row = await session.get(Payment, payment_id)
    if row is None or row.account_id != account_id:
        raise NotFoundError("no such payment")
    return row.to_dto(created=False)


async def ticket_messages(
    session: AsyncSession, account_id: int, reference: str
) -> list[dto.TicketMessage]:
    prefix, _, digits = reference.strip().upper().partition("-")
    if prefix != "T" or not digits.isdigit() or len(digits) > 12:
        raise NotFoundError("no such ticket")
    ticket = await session.get(Ticket, int(digits))
    if ticket is None or ticket.account_id != account_id:
        raise NotFoundError("no such ticket")
    rows = await session.scalars(
        select(TicketMessage)
        .where(TicketMessage.ticket_id == ticket.id)
        .order_by(TicketMessage.created_at, TicketMessage.id)
    )
    return [dto.TicketMessage(row.author, row.body, row.created_at) for row in rows]


async def update_contact(
    session: AsyncSession, account: Account, change: dto.ContactChange, actor: str, now: datetime
) -> None:
    """Apply the checked change and audit each part (never the old or new address in full)."""
    if change.email is not None:
        account.email = checked_email(change.email)
        audit(session, now, actor, "contact.email", "account", account.id, _masked(account.email))
    if change.locale is not None:
        account.locale = checked_locale(change.locale)
        audit(session, now, actor, "contact.locale", "account", account.id, account.locale)
    if change.timezone is not None:
        account.timezone = checked_timezone(change.timezone)
        audit(session, now, actor, "contact.timezone", "account", account.id, account.timezone)


def _masked(email: str) -> str:
    name, _, domain = email.partition("@")
    return f"{name[:1]}•••@{domain}"
