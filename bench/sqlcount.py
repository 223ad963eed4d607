"""Count what a message costs the database: statements, transactions, connection checkouts.

Listens to SQLAlchemy's engine events in-process (`before_cursor_execute`, `begin`, `commit`,
`rollback`, pool `checkout`), and to the statements billbot sends past SQLAlchemy straight to
asyncpg (`DirectStatements.observers`, PostgreSQL outside transactions). The BEGIN that
billbot's SQLite hook sends through a cursor is counted as a transaction, not as a statement,
so both databases count alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.ext.asyncio import AsyncEngine

TRACE_CHARS = 96


@dataclass(slots=True)
class SqlCounts:
    """Totals since the last reset, and the trace of what was sent, in order."""

    statements: int = 0
    transactions: int = 0
    commits: int = 0
    rollbacks: int = 0
    checkouts: int = 0
    trace: list[str] = field(default_factory=list)

    @property
    def round_trips(self) -> int:
        """Statements plus BEGIN and COMMIT/ROLLBACK: each is a wait on the database."""
        return self.statements + self.transactions + self.commits + self.rollbacks

    def per(self, messages: int) -> dict[str, float]:
        """Each count divided by `messages`."""
        n = max(1, messages)
        return {
            "statements": self.statements / n,
            "transactions": self.transactions / n,
            "commits": self.commits / n,
            "rollbacks": self.rollbacks / n,
            "checkouts": self.checkouts / n,
            "round trips": self.round_trips / n,
        }


class SqlCounter:
    """Attach to engines with `with SqlCounter(engine, …) as counter:`; read `counter.counts`.

    Pass every engine billbot talks through: the async engine of the ORM and, on SQLite, the
    plain engines the turn's transactions run on (`Transactions.engines`).
    """

    def __init__(self, *engines: AsyncEngine | Engine, direct: Any = None) -> None:
        self._engines = [e.sync_engine if isinstance(e, AsyncEngine) else e for e in engines]
        self._direct = direct  # a DirectStatements, or None
        self.counts = SqlCounts()

    def __enter__(self) -> SqlCounter:
        for engine in self._engines:
            event.listen(engine, "before_cursor_execute", self._statement)
            event.listen(engine, "begin", self._begin)
            event.listen(engine, "commit", self._commit)
            event.listen(engine, "rollback", self._rollback)
            event.listen(engine.pool, "checkout", self._checkout)
        if self._direct is not None:
            self._direct.observers.append(self._direct_statement)
        return self

    def __exit__(self, *_exc: object) -> None:
        for engine in self._engines:
            event.remove(engine, "before_cursor_execute", self._statement)
            event.remove(engine, "begin", self._begin)
            event.remove(engine, "commit", self._commit)
            event.remove(engine, "rollback", self._rollback)
            event.remove(engine.pool, "checkout", self._checkout)
        if self._direct is not None:
            self._direct.observers.remove(self._direct_statement)

    def reset(self) -> SqlCounts:
        """The counts so far; starts new ones."""
        counts, self.counts = self.counts, SqlCounts()
        return counts

    def _statement(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("BEGIN"):
            return  # billbot's SQLite BEGIN / BEGIN IMMEDIATE: the begin event counts it
        self.counts.statements += 1
        self.counts.trace.append(one_line(statement))

    def _direct_statement(self, statement: str) -> None:
        self.counts.statements += 1
        self.counts.trace.append(one_line(statement))

    def _begin(self, conn: Any) -> None:
        if _autocommit(conn):
            return  # SQLAlchemy's bookkeeping only: no BEGIN reaches the server
        self.counts.transactions += 1
        self.counts.trace.append("BEGIN")

    def _commit(self, conn: Any) -> None:
        if _autocommit(conn):
            return
        self.counts.commits += 1
        self.counts.trace.append("COMMIT")

    def _rollback(self, conn: Any) -> None:
        if _autocommit(conn):
            return
        self.counts.rollbacks += 1
        self.counts.trace.append("ROLLBACK")

    def _checkout(self, *_args: Any) -> None:
        self.counts.checkouts += 1


def _autocommit(conn: Any) -> bool:
    """Each statement commits by itself (billbot's PostgreSQL reads and claims, its SQLite
    reads): no BEGIN or COMMIT reaches the database."""
    options = conn.get_execution_options()
    return bool(
        options.get("isolation_level") == "AUTOCOMMIT" or options.get("sqlite_begin") == "NONE"
    )


def one_line(statement: str) -> str:
    """The statement on one line, cut to TRACE_CHARS."""
    text = " ".join(statement.split())
    return text if len(text) <= TRACE_CHARS else text[: TRACE_CHARS - 1] + "…"
