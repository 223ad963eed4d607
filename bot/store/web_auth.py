"""The web view's sign-in state: browser sessions, spent single-use links, code sign-ins.

Nothing here is a secret at rest: a session row is keyed by the SHA-256 of the cookie's
token, a spent link by its nonce (useless once spent), a code sign-in by a reference the
code is derived from (`bot.otp`) and an HMAC of the phone number.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.store.conversations import aware
from bot.store.models import SignInAttempt, SpentLink, WebSession
from bot.store.sql import claim_write_lock, insert_ignore


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class SessionLimits:
    idle: timedelta
    absolute: timedelta


class WebSessions:
    """Create, resolve (sliding the idle expiry) and end browser sessions."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], limits: SessionLimits) -> None:
        self._sessions = sessions
        self.limits = limits

    async def start(self, account_id: int, *, now: datetime) -> str:
        """A new session; the returned token goes in the cookie and nowhere else."""
        token = secrets.token_urlsafe(32)
        row = WebSession(
            id=token_hash(token),
            account_id=account_id,
            created_at=now,
            last_seen_at=now,
            expires_at=now + self.limits.absolute,
        )
        async with self._sessions() as session, session.begin():
            session.add(row)
        return token

    async def account_of(self, token: str, *, now: datetime) -> int | None:
        """The signed-in account, or None when unknown, ended, idle too long or too old."""
        async with self._sessions() as session, session.begin():
            row = await session.get(WebSession, token_hash(token))
            if row is None or not self._alive(row, now):
                return None
            if now - aware(row.last_seen_at) > timedelta(seconds=30):  # fewer writes
                row.last_seen_at = now
            return row.account_id

    async def end(self, token: str, *, now: datetime) -> None:
        async with self._sessions() as session, session.begin():
            await session.execute(
                update(WebSession)
                .where(WebSession.id == token_hash(token), WebSession.ended_at.is_(None))
                .values(ended_at=now)
            )

    def _alive(self, row: WebSession, now: datetime) -> bool:
        return (
            row.ended_at is None
            and now < aware(row.expires_at)
            and now - aware(row.last_seen_at) < self.limits.idle
        )


async def spend_link(
    sessions: async_sessionmaker[AsyncSession],
    nonce: str,
    *,
    purpose: str,
    account_id: int,
    now: datetime,
) -> bool:
    """Spend a single-use link's nonce: True the first time only (concurrent clicks too)."""
    async with sessions() as session, session.begin():
        await claim_write_lock(session)
        values = {"nonce": nonce, "purpose": purpose, "account_id": account_id, "spent_at": now}
        return await insert_ignore(session, SpentLink, values)


async def link_spent(sessions: async_sessionmaker[AsyncSession], nonce: str) -> bool:
    async with sessions() as session:
        return await session.get(SpentLink, nonce) is not None


@dataclass(frozen=True, slots=True)
class Attempt:
    id: str
    reference: str
    account_id: int | None
    tries: int
    expires_at: datetime
    used: bool


class SignInAttempts:
    """Code sign-ins: created per request for a code, checked with a bounded number of tries."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def create(
        self,
        *,
        reference: str,
        phone_hash: str,
        requester: str,
        account_id: int | None,
        now: datetime,
        ttl: timedelta,
    ) -> str:
        attempt_id = secrets.token_urlsafe(24)
        row = SignInAttempt(
            id=attempt_id,
            reference=reference,
            phone_hash=phone_hash,
            requester=requester,
            account_id=account_id,
            tries=0,
            created_at=now,
            expires_at=now + ttl,
        )
        async with self._sessions() as session, session.begin():
            session.add(row)
        return attempt_id

    async def get(self, attempt_id: str) -> Attempt | None:
        async with self._sessions() as session:
            row = await session.get(SignInAttempt, attempt_id)
            return None if row is None else _attempt(row)

    async def fail(self, attempt_id: str) -> int:
        """Count one wrong code; the tries so far (atomic, so parallel guesses all count)."""
        async with self._sessions() as session, session.begin():
            await claim_write_lock(session)
            await session.execute(
                update(SignInAttempt)
                .where(SignInAttempt.id == attempt_id)
                .values(tries=SignInAttempt.tries + 1)
            )
            row = await session.get(SignInAttempt, attempt_id)
            return row.tries if row is not None else 0

    async def use(self, attempt_id: str, *, now: datetime) -> bool:
        """Mark the attempt used: True for the one request that got there first."""
        async with self._sessions() as session, session.begin():
            result = await session.execute(
                update(SignInAttempt)
                .where(SignInAttempt.id == attempt_id, SignInAttempt.used_at.is_(None))
                .values(used_at=now)
            )
            return bool(getattr(result, "rowcount", 0))

    async def codes_sent(self, phone_hash: str, *, since: datetime) -> int:
        """Codes asked for this number since then (a cap stops SMS pumping)."""
        return await self._count(SignInAttempt.phone_hash == phone_hash, since)

    async def wrong_codes(
        self, *, requester: str | None = None, phone_hash: str | None = None, since: datetime
    ) -> int:
        """Wrong codes typed since then, by one requester or on one number."""
        column = SignInAttempt.requester if requester is not None else SignInAttempt.phone_hash
        value = requester if requester is not None else phone_hash
        async with self._sessions() as session:
            total = await session.scalar(
                select(func.coalesce(func.sum(SignInAttempt.tries), 0)).where(
                    column == value, SignInAttempt.created_at >= since
                )
            )
            return int(total or 0)

    async def _count(self, condition: ColumnElement[bool], since: datetime) -> int:
        async with self._sessions() as session:
            total = await session.scalar(
                select(func.count())
                .select_from(SignInAttempt)
                .where(
                    condition,
                    SignInAttempt.created_at >= since,
                )
            )
            return int(total or 0)


def _attempt(row: SignInAttempt) -> Attempt:
    return Attempt(
        id=row.id,
        reference=row.reference,
        account_id=row.account_id,
        tries=row.tries,
        expires_at=aware(row.expires_at),
        used=row.used_at is not None,
    )
