"""Outbox rows in and out: insert-ignore on the dedupe key, claim due rows, record results.

Every function here runs inside a transaction its caller owns. A row's status moves
queued → leased → sent | retry | failed, or straight to sandbox; a leased row whose lease ran
out (its worker died) is due again. See docs/outbox.md.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Row, and_, bindparam, or_, select, text, update
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession

from bot.otp import hide
from bot.store.models import Conversation, OutboxMessage, Suppression
from bot.store.sql import dialect_insert, dialect_inserts
from bot.types import OutboundMessage, Reply

QUEUED, LEASED, RETRY = "queued", "leased", "retry"
SENT, FAILED, SANDBOX, SUPPRESSED = "sent", "failed", "sandbox", "suppressed"
WAITING = (QUEUED, RETRY, LEASED)
# Column sizes (bot/store/models.py): a message that does not fit is refused, not truncated.
LIMITS = {"channel": 20, "address": 254, "kind": 40, "dedupe_key": 160}


@dataclass(frozen=True, slots=True)
class ClaimedRow:
    """A due row a worker took: what it needs to send it and to record the result."""

    id: int
    channel: str
    recipient: str
    replies: tuple[Reply, ...]
    kind: str
    dedupe_key: str
    attempts: int  # including the attempt this claim starts
    window_open: bool = True  # the customer wrote on this channel address within 24 hours
    account_id: int | None = None


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """One row of the outbound message log (`billbot messages`)."""

    id: int
    channel: str
    recipient: str
    kind: str
    replies: tuple[Reply, ...]
    status: str
    attempts: int
    account_id: int | None
    created_at: datetime
    next_attempt_at: datetime
    sent_at: datetime | None
    last_error: str | None
    provider_id: str | None
    provider_status: str | None = None  # the provider's last word (status callbacks)
    provider_error: str | None = None

    @property
    def text(self) -> str:
        """The replies' texts, one paragraph each (one-time codes shown as dots)."""
        return "\n".join(hide(reply.text) for reply in self.replies)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "channel": self.channel,
            "recipient": self.recipient,
            "kind": self.kind,
            "status": self.status,
            "body": self.text,
            "replies": [{**reply.as_dict(), "text": hide(reply.text)} for reply in self.replies],
            "attempts": self.attempts,
            "account_id": self.account_id,
            "created_at": self.created_at.isoformat(),
            "next_attempt_at": self.next_attempt_at.isoformat(),
            "sent_at": self.sent_at.isoformat() if self.sent_at else None,
            "last_error": self.last_error,
            "provider_id": self.provider_id,
            "provider_status": self.provider_status,
            "provider_error": self.provider_error,
        }


def row_values(message: OutboundMessage, *, now: datetime) -> dict[str, Any]:
    """The new row for `message`; ValueError (naming the field) when it cannot be stored."""
    if not message.replies:
        raise ValueError(f"outbound message {message.dedupe_key!r} has no replies")
    fields = {
        "channel": message.channel,
        "address": message.address,
        "kind": message.kind,
        "dedupe_key": message.dedupe_key,
    }
    for name, value in fields.items():
        if not value.strip() or len(value) > LIMITS[name]:
            raise ValueError(f"outbound message {name} must be 1–{LIMITS[name]} characters")
    return {
        "channel": message.channel,
        "recipient": message.address,
        "replies": [reply.as_dict() for reply in message.replies],
        "kind": message.kind,
        "dedupe_key": message.dedupe_key,
        "account_id": message.account_id,
        "status": QUEUED,
        "attempts": 0,
        "next_attempt_at": max(now, message.not_before or now),
        "created_at": now,
    }


async def insert_ignore(session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> int:
    """INSERT … ON CONFLICT DO NOTHING (on the dedupe key); how many rows were new."""
    if not rows:
        return 0
    if len(rows) > 1:  # executemany of one compiled INSERT, not one VALUES list per call
        connection = await session.connection()
        statement = _INSERT_IGNORE[connection.dialect.name]
        result = await session.execute(statement, [dict(row) for row in rows])
        return max(int(getattr(result, "rowcount", 0) or 0), 0)
    insert = dialect_insert(session, OutboxMessage)
    result = await session.execute(insert.values(list(rows)).on_conflict_do_nothing())
    return max(int(getattr(result, "rowcount", 0) or 0), 0)


_INSERT_IGNORE = {
    dialect: insert.on_conflict_do_nothing()
    for dialect, insert in dialect_inserts(OutboxMessage.__table__).items()  # type: ignore[arg-type]
}


def insert_ignore_on(connection: Connection, rows: Sequence[Mapping[str, Any]]) -> int:
    """`insert_ignore` inside a transaction the caller runs on a plain `Connection`."""
    if not rows:
        return 0
    result = connection.execute(_INSERT_IGNORE[connection.dialect.name], list(rows))
    return max(int(result.rowcount or 0), 0)


_CLAIM_COLUMNS = (
    OutboxMessage.id,
    OutboxMessage.channel,
    OutboxMessage.recipient,
    OutboxMessage.replies,
    OutboxMessage.kind,
    OutboxMessage.dedupe_key,
    OutboxMessage.attempts,
    OutboxMessage.account_id,
)


def _due(now: datetime) -> Any:
    """Waiting rows whose time has come and that no live worker holds."""
    return and_(
        OutboxMessage.status.in_(WAITING),
        OutboxMessage.next_attempt_at <= now,
        or_(OutboxMessage.leased_until.is_(None), OutboxMessage.leased_until <= now),
    )


def has_due(connection: Connection, now: datetime) -> bool:
    """A cheap read before taking a write lock for a claim."""
    query = select(OutboxMessage.id).where(_due(now)).limit(1)
    return connection.scalar(query) is not None


def due_rows(connection: Connection, now: datetime, *, limit: int) -> list[ClaimedRow]:
    """Lock up to `limit` due rows, oldest first; rows other workers locked are skipped.

    PostgreSQL: SELECT … FOR UPDATE SKIP LOCKED. SQLite has no row locks (the clause is not
    rendered); the caller's BEGIN IMMEDIATE makes claims one at a time instead.
    """
    query = (
        select(*_CLAIM_COLUMNS)
        .where(_due(now))
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return [_claimed(row) for row in (connection.execute(query)).all()]


def lease(connection: Connection, ids: Iterable[int], *, token: str, until: datetime) -> None:
    """Mark rows as being sent by the worker holding `token`; each lease is one attempt."""
    connection.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(list(ids)))
        .values(
            status=LEASED,
            lease_token=token,
            leased_until=until,
            attempts=OutboxMessage.attempts + 1,
        )
    )


def mark_suppressed(
    connection: Connection, ids: Iterable[int], *, now: datetime, reason: str
) -> None:
    """Not sent, and never will be: the address opted out or cannot receive."""
    connection.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(list(ids)))
        .values(status=SUPPRESSED, last_error=reason, lease_token=None, leased_until=None)
    )


def last_inbound(connection: Connection, ids: Iterable[int]) -> dict[int, datetime]:
    """When each row's recipient last wrote to billbot on the row's channel, where known.

    Joined on row ids, so no address is ever a statement parameter (driver debug logs).
    """
    wanted = list(ids)
    if not wanted:
        return {}
    rows = connection.execute(
        select(OutboxMessage.id, Conversation.last_inbound_at)
        .join(
            Conversation,
            and_(
                Conversation.channel == OutboxMessage.channel,
                Conversation.sender == OutboxMessage.recipient,
            ),
        )
        .where(OutboxMessage.id.in_(wanted), Conversation.last_inbound_at.is_not(None))
    )
    return {row.id: utc(row.last_inbound_at) for row in rows}


def suppressed(connection: Connection, ids: Iterable[int]) -> dict[int, str]:
    """The rows whose recipient is suppressed on the row's channel, with the reason."""
    wanted = list(ids)
    if not wanted:
        return {}
    rows = connection.execute(
        select(OutboxMessage.id, Suppression.reason)
        .join(
            Suppression,
            and_(
                Suppression.channel == OutboxMessage.channel,
                Suppression.address == OutboxMessage.recipient,
            ),
        )
        .where(OutboxMessage.id.in_(wanted))
    )
    return {row.id: row.reason for row in rows}


async def by_provider_id(session: AsyncSession, provider_id: str) -> OutboxMessage | None:
    """The row a provider's status callback is about (the newest with that id)."""
    query = (
        select(OutboxMessage)
        .where(OutboxMessage.provider_id == provider_id)
        .order_by(OutboxMessage.id.desc())
        .limit(1)
    )
    return (await session.scalars(query)).first()


def mark_sandbox(
    connection: Connection, ids: Iterable[int], *, now: datetime, reason: str | None
) -> None:
    """Recorded as what would have gone out, without sending."""
    connection.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(list(ids)))
        .values(
            status=SANDBOX, sent_at=now, last_error=reason, lease_token=None, leased_until=None
        )
    )


async def record(session: AsyncSession, row_id: int, token: str, **values: Any) -> bool:
    """Store a send's result; False when the lease was lost (another worker took the row)."""
    result = await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == row_id,
            OutboxMessage.lease_token == token,
            OutboxMessage.status == LEASED,
        )
        .values(lease_token=None, leased_until=None, **values)
    )
    return bool(getattr(result, "rowcount", 0))


_RECORD = (
    update(OutboxMessage)
    .where(
        OutboxMessage.id == bindparam("r_id"),
        OutboxMessage.lease_token == bindparam("r_token"),
        OutboxMessage.status == LEASED,
    )
    .values(lease_token=None, leased_until=None)
)


_RECORDS: dict[tuple[str, ...], Any] = {}  # one statement per set of columns, built once


def record_on(connection: Connection, row_id: int, token: str, values: dict[str, Any]) -> bool:
    """`record` as a plain transaction function (`Transactions.write`): the worker's hot path."""
    columns = tuple(sorted(values))
    statement = _RECORDS.get(columns)
    if statement is None:
        statement = _RECORD.values({name: bindparam(f"v_{name}") for name in columns})
        _RECORDS[columns] = statement
    parameters = {f"v_{name}": value for name, value in values.items()}
    result = connection.execute(statement, {"r_id": row_id, "r_token": token, **parameters})
    return bool(result.rowcount)


KEYS_CHUNK = 5000

# PostgreSQL: many rows in one statement, as arrays (one round trip and one plan for the
# chunk), answering the dedupe keys that were new. 2.3× faster than executemany plus a lookup
# of the known keys for a first alert scan's 136,000 rows (docs/benchmarks.md).
_PG_INSERT_ARRAYS = text(
    """
    INSERT INTO bot_outbox (channel, recipient, replies, kind, dedupe_key, account_id, status,
                            attempts, next_attempt_at, created_at)
    SELECT c, r, CAST(p AS json), k, d, a, :status, 0, n, :created_at
    FROM unnest(CAST(:channels AS text[]), CAST(:recipients AS text[]),
                CAST(:replies AS text[]), CAST(:kinds AS text[]), CAST(:keys AS text[]),
                CAST(:accounts AS integer[]), CAST(:not_before AS timestamptz[]))
         AS t(c, r, p, k, d, a, n)
    ON CONFLICT (dedupe_key) DO NOTHING
    RETURNING dedupe_key
    """
)


# SQLite: the same as one JSON array of rows, read by json_each (the SELECT needs its WHERE for
# SQLite to parse the ON CONFLICT). Datetimes go in as the column type writes them.
_SQLITE_INSERT_JSON = text(
    """
    INSERT INTO bot_outbox (channel, recipient, replies, kind, dedupe_key, account_id, status,
                            attempts, next_attempt_at, created_at)
    SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'),
           json_extract(value, '$[2]'), json_extract(value, '$[3]'),
           json_extract(value, '$[4]'), json_extract(value, '$[5]'), :status, 0,
           json_extract(value, '$[6]'), :created_at
    FROM json_each(:rows) WHERE true
    ON CONFLICT (dedupe_key) DO NOTHING
    RETURNING dedupe_key
    """
)


async def insert_new(session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> set[str]:
    """Insert the rows whose dedupe key is not stored yet, in one statement; the keys that
    were new."""
    if not rows:
        return set()
    connection = await session.connection()
    dialect = connection.dialect
    if dialect.name == "postgresql":
        result = await session.execute(_PG_INSERT_ARRAYS, _as_arrays(rows))
        return set(result.scalars().all())
    # SQLite: a conflict costs more than a lookup, and a re-scan's rows are mostly known.
    existing = await known_keys(session, [row["dedupe_key"] for row in rows])
    fresh = [row for row in rows if row["dedupe_key"] not in existing]
    if not fresh:
        return set()
    result = await session.execute(_SQLITE_INSERT_JSON, _as_json(fresh, dialect))
    return set(result.scalars().all())


def _as_json(rows: Sequence[Mapping[str, Any]], dialect: Dialect) -> dict[str, Any]:
    stamp = _stamp(dialect)
    table = [
        [
            row["channel"],
            row["recipient"],
            row["replies"],
            row["kind"],
            row["dedupe_key"],
            row["account_id"],
            stamp(row["next_attempt_at"]),
        ]
        for row in rows
    ]
    return {
        "rows": json.dumps(table),
        "status": QUEUED,
        "created_at": stamp(rows[0]["created_at"]),
    }


def _stamp(dialect: Dialect) -> Callable[[datetime], Any]:
    """A datetime as the outbox's DateTime column stores it on this database."""
    column_type = OutboxMessage.__table__.c.next_attempt_at.type
    processor = column_type.dialect_impl(dialect).bind_processor(dialect)
    return processor or (lambda moment: moment)


def _as_arrays(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    return {
        "channels": [row["channel"] for row in rows],
        "recipients": [row["recipient"] for row in rows],
        "replies": [json.dumps(row["replies"]) for row in rows],
        "kinds": [row["kind"] for row in rows],
        "keys": [row["dedupe_key"] for row in rows],
        "accounts": [row["account_id"] for row in rows],
        "not_before": [row["next_attempt_at"] for row in rows],
        "status": QUEUED,
        "created_at": rows[0]["created_at"],
    }


async def known_keys(session: AsyncSession, keys: Sequence[str]) -> set[str]:
    """Which of these dedupe keys are stored already (looked up in chunks)."""
    found: set[str] = set()
    for start in range(0, len(keys), KEYS_CHUNK):
        chunk = list(keys[start : start + KEYS_CHUNK])
        query = select(OutboxMessage.dedupe_key).where(OutboxMessage.dedupe_key.in_(chunk))
        found.update((await session.scalars(query)).all())
    return found


async def waiting_rows(session: AsyncSession, kinds: Sequence[str]) -> list[tuple[int, str]]:
    query = select(OutboxMessage.id, OutboxMessage.dedupe_key).where(
        OutboxMessage.kind.in_(list(kinds)), OutboxMessage.status.in_((QUEUED, RETRY))
    )
    return [(row.id, row.dedupe_key) for row in (await session.execute(query)).all()]


async def withdraw_rows(
    session: AsyncSession, ids: Sequence[int], *, reason: str, now: datetime
) -> None:
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(list(ids)), OutboxMessage.status.in_((QUEUED, RETRY)))
        .values(status=SUPPRESSED, last_error=reason, next_attempt_at=now)
    )


def withdraw_keys_on(
    connection: Connection, keys: Sequence[str], *, reason: str, now: datetime
) -> int:
    """`withdraw_rows` by dedupe key, in a transaction the caller runs on a plain `Connection`
    (a turn's). Rows already sent or being sent are left alone; how many were withdrawn."""
    if not keys:
        return 0
    result = connection.execute(
        update(OutboxMessage)
        .where(OutboxMessage.dedupe_key.in_(list(keys)))
        .where(OutboxMessage.status.in_((QUEUED, RETRY)))
        .values(status=SUPPRESSED, last_error=reason, next_attempt_at=now)
    )
    return max(int(result.rowcount or 0), 0)


async def newest(session: AsyncSession, *, limit: int) -> list[OutboxEntry]:
    query = select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)
    return [_entry(row) for row in (await session.scalars(query)).all()]


def utc(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; billbot stores UTC everywhere."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def replies_of(data: Sequence[Any] | None) -> tuple[Reply, ...]:
    """The stored replies (JSON) as Reply objects."""
    return tuple(Reply.from_dict(item) for item in data or [] if isinstance(item, dict))


def _claimed(row: Row[Any]) -> ClaimedRow:
    return ClaimedRow(
        id=row.id,
        channel=row.channel,
        recipient=row.recipient,
        replies=replies_of(row.replies),
        kind=row.kind,
        dedupe_key=row.dedupe_key,
        attempts=row.attempts + 1,
        account_id=row.account_id,
    )


def _entry(row: OutboxMessage) -> OutboxEntry:
    return OutboxEntry(
        id=row.id,
        channel=row.channel,
        recipient=row.recipient,
        kind=row.kind,
        replies=replies_of(row.replies),
        status=row.status,
        attempts=row.attempts,
        account_id=row.account_id,
        created_at=utc(row.created_at),
        next_attempt_at=utc(row.next_attempt_at),
        sent_at=utc(row.sent_at) if row.sent_at else None,
        last_error=row.last_error,
        provider_id=row.provider_id,
        provider_status=row.provider_status,
        provider_error=row.provider_error,
    )
