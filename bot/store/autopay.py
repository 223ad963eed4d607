"""`bot_autopay` and `bot_autopay_charges`: who is enrolled (provider references only) and
each charge made, unique by its key."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from billing_client import Money
from bot.payments import ChargeOutcome, SavedMethod
from bot.store.models import AutopayCharge, AutopayMandate
from bot.store.sql import claim_write_lock, dialect_insert, insert_ignore


@dataclass(frozen=True, slots=True)
class ChargeRecord:
    key: str
    account_id: int
    invoice_id: int
    amount: Money
    status: str  # pending | succeeded | failed
    reason: str | None
    attempted_at: datetime


class AutopayStore:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def enrol(self, method: SavedMethod, *, provider: str, now: datetime) -> None:
        """Enrol (or replace the saved method of) the account; a replay changes nothing."""
        values = {
            "account_id": method.account_id,
            "provider": provider,
            "customer_reference": method.customer_reference,
            "method_reference": method.method_reference,
            "label": method.label,
            "enrolled_at": now,
            "cancelled_at": None,
        }
        changed = {key: value for key, value in values.items() if key != "account_id"}
        async with self._sessions() as session, session.begin():
            await claim_write_lock(session)
            statement = dialect_insert(session, AutopayMandate).values(**values)
            await session.execute(
                statement.on_conflict_do_update(index_elements=["account_id"], set_=changed)
            )

    async def cancel(self, account_id: int, *, now: datetime) -> bool:
        async with self._sessions() as session, session.begin():
            result = await session.execute(
                update(AutopayMandate)
                .where(
                    AutopayMandate.account_id == account_id, AutopayMandate.cancelled_at.is_(None)
                )
                .values(cancelled_at=now)
            )
            return bool(getattr(result, "rowcount", 0))

    async def method(self, account_id: int) -> SavedMethod | None:
        async with self._sessions() as session:
            row = await session.get(AutopayMandate, account_id)
            return None if row is None or row.cancelled_at is not None else _method(row)

    async def active(self) -> list[SavedMethod]:
        async with self._sessions() as session:
            rows = await session.scalars(
                select(AutopayMandate).where(AutopayMandate.cancelled_at.is_(None))
            )
            return [_method(row) for row in rows]

    async def begin(
        self, key: str, account_id: int, invoice_id: int, amount: Money, *, now: datetime
    ) -> bool:
        """Claim the charge `key`: True for the one caller that inserted it."""
        values = {
            "key": key,
            "account_id": account_id,
            "invoice_id": invoice_id,
            "amount_minor": amount.minor,
            "currency": amount.currency,
            "status": "pending",
            "attempted_at": now,
        }
        async with self._sessions() as session, session.begin():
            await claim_write_lock(session)
            return await insert_ignore(session, AutopayCharge, values)

    async def finish(self, key: str, outcome: ChargeOutcome) -> ChargeRecord:
        status = "succeeded" if outcome.succeeded else "failed"
        async with self._sessions() as session, session.begin():
            await session.execute(
                update(AutopayCharge)
                .where(AutopayCharge.key == key)
                .values(
                    status=status,
                    payment_reference=outcome.payment_reference or None,
                    reason=(outcome.reason or None) and outcome.reason[:200],
                )
            )
            row = await session.scalar(select(AutopayCharge).where(AutopayCharge.key == key))
            assert row is not None
            return _record(row)

    async def charged(self, key: str) -> bool:
        async with self._sessions() as session:
            found = await session.scalar(select(AutopayCharge.id).where(AutopayCharge.key == key))
            return found is not None

    async def history(self, account_id: int, *, limit: int = 10) -> list[ChargeRecord]:
        async with self._sessions() as session:
            rows = await session.scalars(
                select(AutopayCharge)
                .where(AutopayCharge.account_id == account_id)
                .order_by(AutopayCharge.attempted_at.desc(), AutopayCharge.id.desc())
                .limit(limit)
            )
            return [_record(row) for row in rows]


def _method(row: AutopayMandate) -> SavedMethod:
    return SavedMethod(row.account_id, row.customer_reference, row.method_reference, row.label)


def _record(row: AutopayCharge) -> ChargeRecord:
    return ChargeRecord(
        row.key,
        row.account_id,
        row.invoice_id,
        Money(row.amount_minor, row.currency),
        row.status,
        row.reason,
        row.attempted_at,
    )
