"""PIN attempts on the SQL core: per-requester locks, a daily cap, the same work for every number.

Policy (documented in docs/flows/bar_sim.md):
- 5 wrong PINs in a row from one requester against one target lock that requester out of that
  target for 30 minutes. The target is the account when a known customer verifies for their
  own account, and the number typed when someone names a number: a stranger learns nothing
  from a lock (a customer's number and an unknown one lock the same way), and other
  requesters — the owner's own phone included — can still verify.
- 15 wrong PINs from anyone against one subject (the account, or a number with no account)
  within 24 hours pause PIN checks for it, for everyone, until fewer than 15 remain in the last
  24 hours. The attempt that reaches the cap opens a support ticket (one per account per local
  day) in the same transaction, so a person follows up.
- A number with no line is checked against a dummy argon2 hash of the same cost, counted and
  locked the same way. Every attempt is audited; the PIN never is.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from secrets import token_urlsafe
from zoneinfo import ZoneInfo

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError
from argon2.exceptions import VerificationError as HashMismatch
from sqlalchemy import Select, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from billing_client.errors import (
    AccountLockedError,
    BillingError,
    InvalidRequestError,
    PinChecksPausedError,
    VerificationError,
)
from billing_client.sql.models import Account, AuditLog, Line, PinFailure, PinGuard, Ticket
from billing_client.sql.models import TicketMessage as TicketMessageRow

PIN_MAX_ATTEMPTS = 5  # wrong PINs in a row from one requester before it is locked out
PIN_LOCK_DURATION = timedelta(minutes=30)
PIN_DAILY_CAP = 15  # wrong PINs from anyone against one account before checks pause
PIN_DAILY_WINDOW = timedelta(hours=24)
_PIN_MAX_LENGTH = 64  # longer input is wrong without spending a hash on it
_REQUESTER_MAX = 120
_PRUNE_BATCH = 500  # old rows removed per wrong PIN: more than are ever added
_E164 = re.compile(r"\+[1-9]\d{5,14}")
_HASHER = PasswordHasher()


def hash_pin(pin: str) -> str:
    """An argon2id hash of a PIN (deliberately slow: tens of milliseconds)."""
    return _HASHER.hash(pin)


def pin_matches(pin_hash: str, pin: str) -> bool:
    """Whether `pin` matches the stored argon2 hash."""
    if len(pin) > _PIN_MAX_LENGTH:
        return False
    try:
        return _HASHER.verify(pin_hash, pin)
    except (HashMismatch, InvalidHashError):
        return False


@cache
def dummy_hash() -> str:
    """A hash of a random secret nobody knows, with the real hashes' cost: no PIN matches it."""
    return hash_pin(token_urlsafe(32))


def _pin_is_right(stored: str | None, pin: str) -> bool:
    """Check against the account's hash, or spend the same time on the dummy one (no account)."""
    return pin_matches(stored if stored is not None else dummy_hash(), pin)


@dataclass(slots=True)
class PinCheck:
    """One PIN attempt: who asks, against what, and whose hash decides."""

    requester: str
    target: str  # the requester's lock: "account:<id>" or "number:<E.164>"
    subject: str  # the daily cap: "account:<id>", or "number:<E.164>" when it has no account
    account: Account | None
    now: datetime

    @property
    def entity(self) -> tuple[str, str]:
        """What the audit entry is about."""
        if self.account is not None:
            return "account", str(self.account.id)
        return "number", self.subject.removeprefix("number:")


def requester_key(requester: str) -> str:
    """The requester as stored: long addresses keep a prefix and a digest, so stay distinct."""
    if len(requester) <= _REQUESTER_MAX:
        return requester
    digest = hashlib.sha256(requester.encode()).hexdigest()[:24]
    return f"{requester[: _REQUESTER_MAX - 25]}#{digest}"


def account_check(account: Account, requester: str, now: datetime) -> PinCheck:
    """A known customer verifying for their own account."""
    subject = f"account:{account.id}"
    return PinCheck(requester_key(requester), subject, subject, account, now)


async def line_check(
    session: AsyncSession, msisdn: str, requester: str, now: datetime
) -> tuple[PinCheck, Line | None]:
    """Someone naming a number: its line (None when no line has it) and the check to run."""
    if not _E164.fullmatch(msisdn):
        raise InvalidRequestError("the number must be in E.164 form, e.g. +12025550101")
    # One query whether or not the number is a customer's: the same work either way.
    found = (
        await session.execute(
            select(Line, Account)
            .join(Account, Line.account_id == Account.id)
            .options(joinedload(Line.plan, innerjoin=True))
            .where(Line.msisdn == msisdn)
            .with_for_update(of=Account)
        )
    ).first()
    line, account = (found[0], found[1]) if found is not None else (None, None)
    subject = f"account:{account.id}" if account is not None else f"number:{msisdn}"
    check = PinCheck(requester_key(requester), f"number:{msisdn}", subject, account, now)
    return check, line


async def attempt(session: AsyncSession, check: PinCheck, pin: str) -> BillingError | None:
    """Apply one PIN attempt and audit it; the error to raise, or None when the PIN is right."""
    failure = await _decide(session, check, pin)
    action, detail = _audit_text(failure)
    entity, entity_id = check.entity
    session.add(
        AuditLog(
            at=check.now,
            actor=check.requester[:80],
            action=action,
            entity=entity,
            entity_id=entity_id,
            detail=detail,
        )
    )
    return failure


async def _decide(session: AsyncSession, check: PinCheck, pin: str) -> BillingError | None:
    paused = await _paused_until(session, check)
    if paused is not None:
        return _paused(check, paused, started=False, ticket=None)
    guard = await _guard(session, check)
    if guard.locked_until is not None and check.now < guard.locked_until:
        return _locked(check, guard.locked_until, started=False)
    if guard.locked_until is not None:  # the lock has been served: start counting afresh
        guard.locked_until, guard.failures = None, 0
    guard.updated_at = check.now
    stored = check.account.pin_hash if check.account is not None else None
    # argon2 is CPU-bound for tens of milliseconds: keep the event loop free meanwhile.
    if await asyncio.to_thread(_pin_is_right, stored, pin):
        guard.failures = 0
        await _rehash_if_needed(check, pin)
        return None
    return await _failed(session, check, guard)


async def _failed(session: AsyncSession, check: PinCheck, guard: PinGuard) -> BillingError:
    guard.failures += 1
    session.add(PinFailure(subject=check.subject, requester=check.requester, at=check.now))
    await session.flush()
    await _forget_old_failures(session, check.now)
    recent = await _recent_failures(session, check)
    if len(recent) >= PIN_DAILY_CAP:
        until = recent[PIN_DAILY_CAP - 1] + PIN_DAILY_WINDOW
        ticket = await _pause_ticket(session, check, until, len(recent))
        return _paused(check, until, started=True, ticket=ticket)
    if guard.failures >= PIN_MAX_ATTEMPTS:
        guard.locked_until = check.now + PIN_LOCK_DURATION
        return _locked(check, guard.locked_until, started=True)
    left = min(PIN_MAX_ATTEMPTS - guard.failures, PIN_DAILY_CAP - len(recent))
    return VerificationError(left)


# --- state ------------------------------------------------------------------------------------
async def _guard(session: AsyncSession, check: PinCheck) -> PinGuard:
    """The requester's row for the target, created if new, locked for this transaction."""
    values = {
        "target": check.target,
        "requester": check.requester,
        "failures": 0,
        "updated_at": check.now,
    }
    dialect = postgresql if _dialect(session) == "postgresql" else sqlite
    await session.execute(dialect.insert(PinGuard).values(**values).on_conflict_do_nothing())
    guard = await session.scalar(
        select(PinGuard)
        .where(PinGuard.target == check.target, PinGuard.requester == check.requester)
        .with_for_update()
    )
    assert guard is not None  # inserted above or already there
    return guard


async def _recent_failures(session: AsyncSession, check: PinCheck) -> list[datetime]:
    """When the subject's wrong PINs of the last 24 hours happened, newest first."""
    rows = await session.scalars(
        select(PinFailure.at)
        .where(PinFailure.subject == check.subject)
        .where(PinFailure.at > check.now - PIN_DAILY_WINDOW)
        .order_by(PinFailure.at.desc(), PinFailure.id.desc())
        .limit(PIN_DAILY_CAP)
    )
    return list(rows)


async def _paused_until(session: AsyncSession, check: PinCheck) -> datetime | None:
    """Until when the daily cap pauses the subject's checks; None when it does not."""
    recent = await _recent_failures(session, check)
    if len(recent) < PIN_DAILY_CAP:
        return None
    return recent[PIN_DAILY_CAP - 1] + PIN_DAILY_WINDOW


async def _forget_old_failures(session: AsyncSession, now: datetime) -> None:
    """Storage stays bounded: failures older than the window and idle, unlocked guards go.

    Rows another attempt holds are skipped (SKIP LOCKED on PostgreSQL), so two attempts
    pruning at once never wait for each other; a later attempt gets them.
    """
    cutoff = now - PIN_DAILY_WINDOW
    old_failures = select(PinFailure.id).where(PinFailure.at <= cutoff)
    await _delete_unlocked(session, PinFailure, old_failures)
    idle_guards = (
        select(PinGuard.id)
        .where(PinGuard.updated_at <= cutoff)
        .where(PinGuard.locked_until.is_(None) | (PinGuard.locked_until <= now))
    )
    await _delete_unlocked(session, PinGuard, idle_guards)


async def _delete_unlocked(
    session: AsyncSession, model: type[PinFailure] | type[PinGuard], ids: Select[int]
) -> None:
    found = list(await session.scalars(ids.limit(_PRUNE_BATCH).with_for_update(skip_locked=True)))
    if found:
        await session.execute(delete(model).where(model.id.in_(found)))


async def _rehash_if_needed(check: PinCheck, pin: str) -> None:
    account = check.account
    if account is not None and _HASHER.check_needs_rehash(account.pin_hash):
        account.pin_hash = await asyncio.to_thread(hash_pin, pin)


async def _pause_ticket(
    session: AsyncSession, check: PinCheck, until: datetime, failures: int
) -> str | None:
    """Open (once per account per local day) the ticket that hands the pause to a person."""
    account = check.account
    if account is None:
        return None
    day = check.now.astimezone(ZoneInfo(account.timezone)).date()
    key = f"pin_paused:{account.id}:{day.isoformat()}"
    earlier = await session.scalar(select(Ticket).where(Ticket.idempotency_key == key))
    if earlier is not None:
        return earlier.reference
    ticket = _pause_ticket_row(account.id, key, check.now)
    session.add(ticket)
    await session.flush()
    session.add(_pause_ticket_message(ticket, await _requesters(session, check), failures, until))
    return ticket.reference


def _pause_ticket_row(account_id: int, key: str, now: datetime) -> Ticket:
    return Ticket(
        account_id=account_id,
        subject="PIN checks paused after repeated wrong PINs",
        status="open",
        channel="bot",
        idempotency_key=key,
        created_at=now,
        updated_at=now,
    )


def _pause_ticket_message(
    ticket: Ticket, requesters: int, failures: int, until: datetime
) -> TicketMessageRow:
    body = (
        f"{failures} wrong PINs for this account within 24 hours, from {requesters} "
        f"requester(s). PIN checks are paused for everyone until {until.isoformat()} (UTC). "
        "Please contact the account holder: they may need a SIM blocked or their PIN reset. "
        "The audit log has every attempt."
    )
    return TicketMessageRow(
        ticket_id=ticket.id, author="bot", body=body, created_at=ticket.created_at
    )


async def _requesters(session: AsyncSession, check: PinCheck) -> int:
    count = await session.scalar(
        select(func.count(func.distinct(PinFailure.requester)))
        .where(PinFailure.subject == check.subject)
        .where(PinFailure.at > check.now - PIN_DAILY_WINDOW)
    )
    return int(count or 0)


# --- outcomes ---------------------------------------------------------------------------------
def _locked(check: PinCheck, until: datetime, *, started: bool) -> AccountLockedError:
    holder = check.account.to_dto() if check.account is not None else None
    lock_id = _lock_id(check.target, check.requester, until)
    return AccountLockedError(until, lock_id=lock_id, started=started, holder=holder)


def _paused(
    check: PinCheck, until: datetime, *, started: bool, ticket: str | None
) -> PinChecksPausedError:
    holder = check.account.to_dto() if check.account is not None else None
    return PinChecksPausedError(
        until,
        lock_id=_lock_id(check.subject, "*", until),
        started=started,
        holder=holder,
        ticket_reference=ticket,
    )


def _lock_id(scope: str, requester: str, until: datetime) -> str:
    """Stable for one lock (same scope, requester and end), different for the next one."""
    text = f"{scope}|{requester}|{until.isoformat()}"
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _audit_text(failure: BillingError | None) -> tuple[str, str]:
    if isinstance(failure, VerificationError):
        return "pin_wrong", f"{failure.attempts_left} attempts left"
    if isinstance(failure, PinChecksPausedError):
        ticket = f"; ticket {failure.ticket_reference}" if failure.ticket_reference else ""
        return "pin_paused", f"daily cap: paused until {failure.until.isoformat()}{ticket}"
    if isinstance(failure, AccountLockedError):
        return "pin_locked", f"locked until {failure.until.isoformat()}"
    return "pin_ok", ""


def _dialect(session: AsyncSession) -> str:
    bind = session.bind
    return bind.dialect.name if bind is not None else "sqlite"
