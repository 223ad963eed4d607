"""What step-up verification guards in the embedded core: lifting a bar, setting a new PIN, and
the audit entries of verifications. Functions over the caller's session (client.py owns the
transactions and retries).

Exactly once without a new table: each request's idempotency key is written into its audit
entry, and a request whose key is already there (within `REPLAY_WINDOW`, a turn's retry) gets
the first answer again. The rows that decide — the account, then the line — are locked first
(FOR UPDATE on PostgreSQL; the write transaction holds SQLite's lock), so two requests at once
wait for each other and the second finds the first one's work: one unbar, one PIN change.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from billing_client import types as dto
from billing_client.errors import InvalidRequestError, NotFoundError
from billing_client.pin_rules import pin_problem
from billing_client.sql import caps
from billing_client.sql.audit import audit
from billing_client.sql.models import Account, AuditLog, Barring, Line, PinFailure, PinGuard
from billing_client.sql.pin_guard import hash_pin

REPLAY_WINDOW = timedelta(days=1)  # how long a request's key answers its replay
LOST_STOLEN = "lost_stolen"
UNBARRED = "line_unbarred"
PIN_CHANGED = "pin_changed"
_KINDS: dict[str, dto.BarKind] = {LOST_STOLEN: "lost_stolen", caps.CAP_BAR: "spend_cap"}
_PIN_RULES = {
    "format": "a PIN is 4 to 8 digits",
    "repeated": "a PIN cannot be one digit repeated",
    "run": "a PIN cannot be a run of digits like 1234",
}


# --- bars -------------------------------------------------------------------------------------
async def line_bar(session: AsyncSession, line_id: int) -> dto.LineBar | None:
    """The line's active bar, or None (NotFoundError for an unknown line)."""
    line = await session.get(Line, line_id)
    if line is None:
        raise NotFoundError(f"line {line_id} not found")
    barring = await _active_barring(session, line_id)
    return None if barring is None else _bar_dto(barring)


async def unbar(
    session: AsyncSession, line_id: int, *, key: str, actor: str, now: datetime
) -> dto.UnbarResult:
    """Lift the line's active bar once; see `BillingClient.unbar_line`."""
    account, line = await _locked_line(session, line_id)
    earlier = await _keyed_entry(session, UNBARRED, "line", line.id, key, now)
    if earlier is not None:
        return _replayed(earlier, line)
    barring = await _active_barring(session, line.id)
    if barring is None:
        return dto.UnbarResult("", line.to_dto(), None, created=False)
    if barring.type == LOST_STOLEN:
        raise InvalidRequestError("a lost or stolen SIM stays barred: it needs a replacement")
    barring.lifted_at = now
    line.status, line.barred_reason, line.barred_at = "active", None, None
    detail = f"{barring.reference} {barring.type} lifted{_key_suffix(key)}"
    audit(session, now, actor, UNBARRED, "line", line.id, detail)
    await session.flush()
    if barring.type == caps.CAP_BAR and account.bill_limit_minor:
        # Otherwise the next scan would bar it again this cycle: as the customer's CONTINUE.
        await caps.consent(session, account, actor=actor, now=now)
    kind = _kind(barring.type)
    return dto.UnbarResult(barring.reference, line.to_dto(), now, created=True, kind=kind)


# --- PIN --------------------------------------------------------------------------------------
async def set_pin(
    session: AsyncSession,
    account_id: int,
    pin: str,
    *,
    key: str | None,
    actor: str,
    now: datetime,
) -> None:
    """Replace the PIN and forget its wrong attempts; see `BillingClient.set_pin`."""
    problem = pin_problem(pin)
    if problem is not None:
        raise InvalidRequestError(_PIN_RULES[problem])
    account = await _locked_account(session, account_id)
    if key and await _keyed_entry(session, PIN_CHANGED, "account", account.id, key, now):
        return  # this very request ran before (a retried turn)
    # argon2 is CPU-bound for tens of milliseconds: keep the event loop free meanwhile.
    account.pin_hash = await asyncio.to_thread(hash_pin, pin)
    account.failed_pin_attempts, account.pin_locked_until = 0, None
    await _forget_wrong_pins(session, account)
    detail = "PIN replaced; wrong-PIN counters cleared" + _key_suffix(key)
    audit(session, now, actor, PIN_CHANGED, "account", account.id, detail)


async def _forget_wrong_pins(session: AsyncSession, account: Account) -> None:
    """The account's locks and counters, per requester and daily: a new PIN starts afresh."""
    numbers = await session.scalars(select(Line.msisdn).where(Line.account_id == account.id))
    targets = [f"account:{account.id}", *(f"number:{msisdn}" for msisdn in numbers)]
    await session.execute(delete(PinGuard).where(PinGuard.target.in_(targets)))
    await session.execute(delete(PinFailure).where(PinFailure.subject.in_(targets)))


# --- audit ------------------------------------------------------------------------------------
async def record(
    session: AsyncSession, account_id: int, action: str, *, actor: str, detail: str, now: datetime
) -> None:
    """An audit entry about the account (NotFoundError for an unknown one)."""
    if await session.get(Account, account_id) is None:
        raise NotFoundError(f"account {account_id} not found")
    audit(session, now, actor, action[:40], "account", account_id, detail)


# --- helpers ----------------------------------------------------------------------------------
async def _locked_account(session: AsyncSession, account_id: int) -> Account:
    query = select(Account).where(Account.id == account_id).with_for_update()
    account = await session.scalar(query)
    if account is None:
        raise NotFoundError(f"account {account_id} not found")
    return account


async def _locked_line(session: AsyncSession, line_id: int) -> tuple[Account, Line]:
    """The line and its account, locked in the cap scan's order (account, then line)."""
    account_id = await session.scalar(select(Line.account_id).where(Line.id == line_id))
    if account_id is None:
        raise NotFoundError(f"line {line_id} not found")
    account = await _locked_account(session, account_id)
    query = (
        select(Line)
        .options(joinedload(Line.plan, innerjoin=True))
        .where(Line.id == line_id)
        .with_for_update(of=Line)
    )
    line = await session.scalar(query)
    assert line is not None  # lines are not deleted while their account is locked
    return account, line


async def _active_barring(session: AsyncSession, line_id: int) -> Barring | None:
    return await session.scalar(
        select(Barring).where(Barring.line_id == line_id, Barring.lifted_at.is_(None))
    )


async def _keyed_entry(
    session: AsyncSession, action: str, entity: str, entity_id: int, key: str, now: datetime
) -> AuditLog | None:
    """The audit entry that request `key` wrote, if it ran before (within the window)."""
    return await session.scalar(
        select(AuditLog)
        .where(AuditLog.at >= now - REPLAY_WINDOW)
        .where(AuditLog.action == action, AuditLog.entity == entity)
        .where(AuditLog.entity_id == str(entity_id))
        .where(AuditLog.detail.endswith(_key_suffix(key), autoescape=True))
        .order_by(AuditLog.id)
        .limit(1)
    )


def _key_suffix(key: str | None) -> str:
    return f"; key {key}" if key else ""


def _replayed(entry: AuditLog, line: Line) -> dto.UnbarResult:
    reference, kind = [*entry.detail.split(" "), "", ""][:2]
    return dto.UnbarResult(
        reference, line.to_dto(), entry.at, created=False, replayed=True, kind=_kind(kind)
    )


def _kind(barring_type: str) -> dto.BarKind:
    return _KINDS.get(barring_type, "full")


def _bar_dto(barring: Barring) -> dto.LineBar:
    return dto.LineBar(barring.reference, _kind(barring.type), barring.reason, barring.applied_at)
