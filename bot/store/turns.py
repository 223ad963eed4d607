"""A turn's two transactions: accept + lease, then save + release.

`claim()` stores the message (a secret as a placeholder: decided before anything is written),
leases it and its conversation and reads the conversation's state: one transaction on SQLite;
on PostgreSQL two statements that are each safe alone, without BEGIN/COMMIT round trips. The
turn then runs with no transaction open. `finish()` saves the state, the answer and the turn's
outbound messages and returns both leases, all or nothing: one transaction, or on PostgreSQL
one statement when there are no outbound messages (`bot.store.answer`).

Duplicates and crashes: a message already answered is a `Replay` of the stored replies; one
that another live worker is answering, or whose conversation is busy, is waited for (bounded,
polling) and then a `Busy` with a retry-after; one whose worker died (lease ran out) is taken
over and answered again. Leases run on real time (`lease_clock`), never on the business clock.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any, Protocol

from sqlalchemy import Connection

from bot.clock import Clock, SystemClock
from bot.locks import KeyedLocks
from bot.secret_text import PLACEHOLDER
from bot.store import answer, conversations, inbound, links, suppressions
from bot.store.claim import SecretSteps, claim_statement, run_claim
from bot.store.conversations import BusyConversation, ConversationState
from bot.store.sql import Transactions
from bot.types import InboundMessage, OutboundMessage, Reply

log = logging.getLogger(__name__)


class OutgoingStore(Protocol):
    """Where a turn's outbound messages go, inside the turn's own transaction (the outbox)."""

    def store(
        self, connection: Connection, messages: Sequence[OutboundMessage], *, now: datetime
    ) -> None: ...

    def row_values(self, message: OutboundMessage, *, now: datetime) -> dict[str, Any]:
        """The row `store` would write for `message` (ValueError when it cannot be stored)."""
        ...

    def withdraw_on(
        self, connection: Connection, keys: Sequence[str], *, reason: str, now: datetime
    ) -> None:
        """Never send the waiting messages with these dedupe keys."""
        ...


@dataclass(frozen=True, slots=True)
class Replay:
    """The message was answered before: these replies, nothing done again."""

    replies: tuple[Reply, ...]


@dataclass(frozen=True, slots=True)
class Busy:
    """Another worker is still answering this message (or its conversation); try later."""

    retry_after: float


@dataclass(slots=True)
class OpenTurn:
    """Leases held on the message and its conversation; the state to work on."""

    inbound_id: int
    token: str
    conversation: ConversationState
    stored_text: str
    finished: bool = False
    channel: str = ""
    sender: str = ""


@dataclass(slots=True)
class TurnResult:
    """What `finish()` records; `save_state=False` keeps the state as it was (retry later)."""

    replies: list[Reply]
    intent: str | None
    status: str  # inbound.HANDLED | inbound.FAILED | inbound.RETRY
    account_id: int | None
    save_state: bool = True
    outgoing: list[OutboundMessage] = field(default_factory=list)
    retry_after: float = 0.0  # for a refused (rate-limited) message
    reply_kind: str = "reply"  # the outbox kind of the answer, when a channel pushes it
    # The address's suppression after this message (compliance): set, lifted, or neither.
    suppress: str | None = None
    lift: tuple[str, ...] = ()
    # Dedupe keys of waiting messages the turn made stale (`TurnContext.withdraw`).
    withdrawn: list[str] = field(default_factory=list)


class _Waiting:
    """This round found the message or its conversation held by someone else."""


@dataclass(frozen=True, slots=True)
class _Attempt:
    """One try at claiming a message."""

    message: InboundMessage
    text: str
    secret: bool
    token: str
    lease_now: datetime
    lease_until: datetime
    now: datetime


class _LeaseLost(Exception):
    """Another worker took the message over: roll the answer back."""


Claim = Replay | Busy | OpenTurn
# The conversation as the claim found it, and the message's (id, stored text) or why not ours.
_Taken = tuple[ConversationState | BusyConversation, "tuple[int, str] | Replay | _Waiting"]


class TurnStore:
    LEASE = timedelta(seconds=15)  # the engine cuts a turn off well inside its lease
    POLL_SECONDS = (0.01, 0.25)  # first and longest pause between looks

    def __init__(
        self,
        db: Transactions,
        *,
        idle_timeout: timedelta,
        secret_steps: SecretSteps,
        outgoing: OutgoingStore,
        lease: timedelta = LEASE,
        lease_clock: Clock | None = None,
    ) -> None:
        self.lease = lease
        # How long a message waits for a busy conversation or its in-flight duplicate.
        self.wait_seconds = min(8.0, lease.total_seconds() / 2)
        self._db = db
        self._idle_timeout = idle_timeout
        self._secret_steps = frozenset(secret_steps)
        self._claim_statement = claim_statement(self._secret_steps)
        self._outgoing = outgoing
        self._lease_clock = lease_clock or SystemClock()
        self._locks = KeyedLocks()

    @asynccontextmanager
    async def claim(
        self, message: InboundMessage, *, text: str, secret: bool, now: datetime
    ) -> AsyncIterator[Claim]:
        """Accept and lease `message`; the caller `finish()`es an OpenTurn inside the block."""
        key = (message.channel, message.sender)
        async with self._locks.hold(key, wait=self.wait_seconds) as acquired, self._db.pinned():
            if not acquired:
                yield Busy(retry_after=1.0)
                return
            claim = await self._claim(message, text, secret, now)
            try:
                yield claim
            finally:
                if isinstance(claim, OpenTurn) and not claim.finished:
                    await self._abandon(claim, now)

    async def finish(self, turn: OpenTurn, result: TurnResult, *, now: datetime) -> bool:
        """Save state, answer and outbound messages, return the leases; False if they were lost."""
        turn.finished = True
        try:
            # With at most one outbound message (a channel's reply) the answer is one statement
            # where that saves round trips (`bot.store.answer`); else one transaction.
            run = self._db.steps if _one_statement(result) else self._db.write
            await run(partial(self._record, turn, result, now))
        except _LeaseLost:
            log.warning("a turn outlived its lease; another worker answers that message")
            return False
        return True

    async def orphans(self, *, limit: int = 100) -> list[InboundMessage]:
        """Accepted messages nobody is answering (their worker died); expired leases cleared."""
        lease_now = self._lease_clock.now()

        def sweep(connection: Connection) -> list[InboundMessage]:
            conversations.clear_expired_leases(connection, lease_now=lease_now)
            return inbound.orphans(connection, lease_now=lease_now, limit=limit)

        return await self._db.write(sweep)

    # --- accepting ----------------------------------------------------------------------------
    async def _claim(
        self, message: InboundMessage, text: str, secret: bool, now: datetime
    ) -> Claim:
        token = uuid.uuid4().hex
        give_up = time.monotonic() + self.wait_seconds
        pause = self.POLL_SECONDS[0]
        while True:
            outcome = await self._try_claim(message, text, secret, token, now)
            if not isinstance(outcome, _Waiting):
                return outcome
            if time.monotonic() + pause > give_up:
                return Busy(retry_after=1.0)
            await asyncio.sleep(pause)
            pause = min(pause * 2, self.POLL_SECONDS[1])

    async def _try_claim(
        self, message: InboundMessage, text: str, secret: bool, token: str, now: datetime
    ) -> Claim | _Waiting:
        """One round: lease the conversation, store (or find) the message, lease it."""
        lease_now = self._lease_clock.now()
        attempt = _Attempt(message, text, secret, token, lease_now, lease_now + self.lease, now)
        return await self._db.steps(partial(self._claim_once, attempt))

    def _claim_once(self, attempt: _Attempt, connection: Connection) -> Claim | _Waiting:
        """Lease the conversation, then store (or find) the message and lease it.

        Statements that are each safe alone (run without a transaction on PostgreSQL): a
        lease taken and never used runs out by itself, and one we cannot use is given back.
        """
        if connection.dialect.name == "postgresql":
            conversation, found = self._take_and_store_at_once(connection, attempt)
        else:
            conversation, found = self._take_then_store(connection, attempt)
        if not isinstance(found, tuple):
            _give_back(connection, conversation, attempt.token)
            return found
        row_id, stored = found
        if isinstance(conversation, BusyConversation):
            return _Waiting()  # the message stays stored and leased to us meanwhile
        if connection.dialect.name != "postgresql":  # PostgreSQL's claim read them already
            key = (attempt.message.channel, attempt.message.sender)
            conversation.suppressed = suppressions.reason_on(connection, *key)
            if attempt.message.as_phone is None:
                conversation.linked_phone = links.phone_of_on(connection, *key)
                conversation.linked_checked = True
        message = attempt.message
        return OpenTurn(
            row_id,
            attempt.token,
            conversation,
            stored,
            channel=message.channel,
            sender=message.sender,
        )

    def _take_then_store(self, connection: Connection, attempt: _Attempt) -> _Taken:
        """The conversation's lease, then the message: two statements."""
        message = attempt.message
        conversation = conversations.take(
            connection,
            (message.channel, message.sender),
            token=attempt.token,
            lease_until=attempt.lease_until,
            lease_now=attempt.lease_now,
            now=attempt.now,
            idle_timeout=self._idle_timeout,
        )
        try:
            return conversation, self._store_message(connection, attempt, conversation)
        except BaseException:
            _give_back(connection, conversation, attempt.token)
            raise

    def _take_and_store_at_once(self, connection: Connection, attempt: _Attempt) -> _Taken:
        """The same in one statement (`bot.store.claim`); the rare cases (a new or busy
        conversation, a message stored before) go on with the ordinary statements."""
        message, key = attempt.message, (attempt.message.channel, attempt.message.sender)
        values = {
            **conversations.take_values(
                key,
                token=attempt.token,
                lease_until=attempt.lease_until,
                lease_now=attempt.lease_now,
                inbound_at=attempt.now,
            ),
            **inbound.insert_values(message, token=attempt.token, lease_until=attempt.lease_until),
            "i_secret": attempt.secret,
            "i_text": attempt.text,
        }
        row = run_claim(connection, self._claim_statement, values)
        conversation: ConversationState | BusyConversation
        if row.id is not None:
            conversation = conversations.state_of(row, attempt.now, self._idle_timeout)
        else:
            conversation = conversations.create_or_wait(
                connection,
                key,
                token=attempt.token,
                lease_until=attempt.lease_until,
                now=attempt.now,
                idle_timeout=self._idle_timeout,
            )
        if isinstance(conversation, ConversationState):
            conversation.suppressed = row.suppressed
            conversation.linked_phone, conversation.linked_checked = row.linked_phone, True
        if row.message_id is not None:
            return conversation, (row.message_id, row.message_text)
        try:
            return conversation, _existing(connection, attempt)
        except BaseException:
            _give_back(connection, conversation, attempt.token)
            raise

    def _store_message(
        self,
        connection: Connection,
        attempt: _Attempt,
        conversation: ConversationState | BusyConversation,
    ) -> tuple[int, str] | Replay | _Waiting:
        """The message's row id and stored text (new, or ours already), or why not ours."""
        secret = attempt.secret or self._is_secret_step(conversation)
        stored = PLACEHOLDER if secret else attempt.text
        row_id = inbound.insert(
            connection,
            attempt.message,
            text=stored,
            token=attempt.token,
            lease_until=attempt.lease_until,
        )
        return (row_id, stored) if row_id is not None else _existing(connection, attempt)

    def _is_secret_step(self, conversation: ConversationState | BusyConversation) -> bool:
        if isinstance(conversation, BusyConversation):
            return (conversation.flow, conversation.step) in self._secret_steps
        state = conversation.state
        return (state.flow, state.step) in self._secret_steps

    # --- finishing ----------------------------------------------------------------------------
    def _record(
        self, turn: OpenTurn, result: TurnResult, now: datetime, connection: Connection
    ) -> None:
        """Save the state (or only release it), answer the message, queue its messages."""
        conversation, token = turn.conversation, turn.token
        if result.save_state:
            conversation_values = conversations.save_values(conversation, token, now)
        else:
            conversation_values = conversations.release_values(conversation.row_id, token)
        inbound_values = inbound.finish_values(
            turn.inbound_id,
            token=token,
            status=result.status,
            replies=result.replies,
            intent=result.intent,
            account_id=result.account_id,
            now=now,
        )
        if connection.dialect.name == "postgresql" and _one_statement(result):
            queued = [self._outgoing.row_values(m, now=now) for m in result.outgoing]
            answered = answer.record(
                connection,
                conversation_values,
                inbound_values,
                save_state=result.save_state,
                queued=queued[0] if queued else None,
            )
            if not answered:
                raise _LeaseLost
            return
        statement = conversations.SAVE if result.save_state else conversations.RELEASE
        answered = bool(connection.execute(statement, conversation_values).rowcount) and bool(
            connection.execute(inbound.FINISH, inbound_values).rowcount
        )
        if not answered:
            raise _LeaseLost  # rolls the whole transaction back
        self._outgoing.store(connection, result.outgoing, now=now)
        if result.withdrawn:
            reason = "withdrawn: the customer changed what it was about"
            self._outgoing.withdraw_on(connection, result.withdrawn, reason=reason, now=now)
        _suppression(connection, turn, result, now)

    async def _abandon(self, turn: OpenTurn, now: datetime) -> None:
        """The turn ended without an answer (cancelled, or a bug): let a retry have it."""
        try:
            await asyncio.shield(
                self.finish(
                    turn,
                    TurnResult([], None, inbound.RETRY, None, save_state=False),
                    now=now,
                )
            )
        except Exception:  # the leases run out on their own; never mask the original error
            log.exception("could not return the leases of an abandoned turn")


def _existing(connection: Connection, attempt: _Attempt) -> tuple[int, str] | Replay | _Waiting:
    """A message stored before: ours to go on with, answered, or someone else's."""
    row = inbound.find(connection, attempt.message)
    if row is None:
        return _Waiting()
    token, until = attempt.token, attempt.lease_until
    if row.lease_token == token:
        inbound.renew(connection, row.id, token=token, lease_until=until)
        return row.id, row.text
    if row.answered():
        return Replay(row.replies)
    if row.held(attempt.lease_now):
        return _Waiting()
    if not inbound.take_over(
        connection, row.id, token=token, lease_until=until, lease_now=attempt.lease_now
    ):
        return _Waiting()
    log.info("taking over message %s", attempt.message.external_id)
    return row.id, row.text


def _give_back(
    connection: Connection, conversation: ConversationState | BusyConversation, token: str
) -> None:
    """Return a conversation lease this attempt took but cannot use."""
    if isinstance(conversation, ConversationState):
        conversations.release(connection, conversation.row_id, token=token)


def _one_statement(result: TurnResult) -> bool:
    """Whether PostgreSQL can record `result` in one statement (`bot.store.answer`)."""
    return (
        len(result.outgoing) <= 1
        and result.suppress is None
        and not result.lift
        and not result.withdrawn
    )


def _suppression(
    connection: Connection, turn: OpenTurn, result: TurnResult, now: datetime
) -> None:
    """The address's suppression as compliance decided, in the answer's transaction."""
    key = (turn.channel, turn.sender)
    if result.lift:
        suppressions.lift_on(connection, *key, reasons=result.lift)  # type: ignore[arg-type]
    if result.suppress is not None:
        suppressions.suppress_on(connection, *key, reason=result.suppress, now=now)  # type: ignore[arg-type]
