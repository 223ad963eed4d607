"""What an intent handler is, and the per-turn context it receives."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time

from billing_client import Account, BillingClient, Money
from bot import i18n
from bot.addresses import AddressBook
from bot.alerts.preferences import AlertSettingsStore
from bot.features import Feature, enabled
from bot.i18n import Messages, PluralMessages
from bot.links import LinkSigner
from bot.operator import OperatorConfig
from bot.otp import OneTimeCodes
from bot.settings import Settings
from bot.store.pay_origins import PayOrigins
from bot.types import InboundMessage, Option, OutboundMessage, Reply

if TYPE_CHECKING:
    from bot.nlu import ParseResult


@dataclass(slots=True)
class FlowState:
    """Where a conversation is inside a multi-step flow; persisted between messages.

    `history` holds the steps whose questions the customer was asked before the current one
    (the engine's router keeps it, so "back" never shows a question nobody asked).

    A flow may call a shared sub-flow (step-up verification) like a function: `call` enters
    it, `leave` returns to the caller's step. The sub-flow runs inside the caller's flow, at
    steps named "<sub>.<step>" (so secret steps, "back" and the idle timeout stay per flow),
    with its own slots in `slots[<sub>]` while it runs.
    """

    flow: str | None = None
    step: str | None = None
    slots: dict[str, Any] = field(default_factory=dict)
    history: list[str] = field(default_factory=list)
    begun: bool = False  # the flow was (re)started during this turn; not persisted

    @property
    def active(self) -> bool:
        return self.flow is not None

    def begin(self, flow: str, step: str, **slots: Any) -> None:
        self.flow, self.step, self.slots, self.history = flow, step, dict(slots), []
        self.begun = True

    def goto(self, step: str) -> None:
        """Move to `step` (the question the handler is about to ask)."""
        self.step = step

    def back(self) -> bool:
        """Return to the previous question; False when there is none.

        Questions of a sub-flow that has returned are skipped: its work is done (a
        verification is not asked again by going back)."""
        while self.history:
            step = self.history.pop()
            sub, dot, _ = step.partition(".")
            if not dot or isinstance(self.slots.get(sub), dict):
                self.step = step
                return True
        return False

    def call(self, sub: str, step: str, *, then: str, **slots: Any) -> None:
        """Enter sub-flow `sub` at its `step`; `leave` comes back to this flow's `then`."""
        self.slots[sub] = {**slots, "then": then}
        self.goto(f"{sub}.{step}")

    def called(self, sub: str) -> str | None:
        """The step of sub-flow `sub` the conversation is at, or None when not inside it."""
        name, dot, step = (self.step or "").partition(".")
        if dot and name == sub and isinstance(self.slots.get(sub), dict):
            return step
        return None

    def leave(self, sub: str) -> str:
        """Return from sub-flow `sub` to the caller's step (which is returned)."""
        frame = self.slots.pop(sub)
        self.goto(str(frame["then"]))
        return str(frame["then"])

    def finish(self) -> None:
        self.flow, self.step, self.slots, self.history = None, None, {}, []


class Catalog(Protocol):
    """What a turn may ask of the intent registry (`bot.registry.Registry`): the menu, and the
    handler of a flow (a sub-flow returns to its caller's)."""

    @property
    def menu_entries(self) -> list[tuple[str, Messages]]: ...

    def get(self, name: str | None) -> Intent:
        """The handler for `name`; the fallback for unknown names."""
        ...

    def billing_types_of(self, name: str) -> frozenset[str] | None:
        """The account types the menu lists the intent for (None: everyone)."""
        ...

    def feature_of(self, name: str) -> Feature | None:
        """The operator feature the intent needs (None: always available)."""
        ...


@dataclass(slots=True)
class TurnContext:
    """Everything a handler may use for one customer message."""

    message: InboundMessage
    text: str  # cleaned, redacted; an option's value when the customer picked one
    parse: ParseResult
    account: Account | None
    state: FlowState
    billing: BillingClient
    links: LinkSigner
    registry: Catalog
    settings: Settings
    now: datetime
    picked_option: bool = False
    # Messages to send outside this reply; the engine stores them with the turn's result.
    outgoing: list[OutboundMessage] = field(default_factory=list)
    addresses: AddressBook | None = None  # channel addresses linked to phone numbers
    codes: OneTimeCodes | None = None  # one-time codes, derived and never stored
    alert_settings: AlertSettingsStore | None = None  # the customer's alert choices
    # Who runs billbot and what they let customers do (BILLBOT_OPERATOR_CONFIG).
    operator: OperatorConfig = field(default_factory=OperatorConfig)
    pay_origins: PayOrigins | None = None  # where each pay link was sent (payment confirmed)
    # Dedupe keys of queued messages this turn made stale (a moved visit's reminder).
    withdrawn: list[str] = field(default_factory=list)

    @property
    def locale(self) -> str:
        if self.account is not None:
            return self.account.locale
        return str(self.state.slots.get("locale", "en_US"))

    @property
    def lang(self) -> str:
        return self.locale.split("_")[0]

    @property
    def today(self) -> date:
        """Today's date where the customer lives."""
        zone = self.account.timezone if self.account is not None else "UTC"
        return self.now.astimezone(ZoneInfo(zone)).date()

    def say(self, messages: Messages, **values: Any) -> str:
        """The message in the customer's language (English when there is no translation)."""
        return i18n.say(messages, self.locale, **values)

    def plural(self, messages: PluralMessages, count: int, **values: Any) -> str:
        """The right plural form for `count` in the customer's language ("1 day", "5 days")."""
        return i18n.plural(messages, self.locale, count, **values)

    def money(self, amount: Money) -> str:
        return amount.format(self.locale)

    def date(self, day: date) -> str:
        return format_date(day, format="long", locale=self.locale)

    def datetime(self, moment: datetime) -> str:
        """A moment in the customer's time zone, e.g. "November 22, 2026 3:04 PM"."""
        zone = ZoneInfo(self.account.timezone if self.account is not None else "UTC")
        local = moment.astimezone(zone)
        day = format_date(local.date(), format="long", locale=self.locale)
        return f"{day} {format_time(local, format='short', locale=self.locale)}"

    def reply(self, text: str, *options: Option, link: str | None = None) -> Reply:
        return Reply(text=text, options=options, link=link)

    def allows(self, feature: Feature | None) -> bool:
        """Whether the operator lets customers do `feature` here (None: always)."""
        return enabled(self.operator.features, feature)

    def notify(self, message: OutboundMessage) -> None:
        """Queue `message` for the outbox; stored in the same transaction as the turn's state."""
        self.outgoing.append(message)

    def withdraw(self, dedupe_key: str) -> None:
        """Never send the queued message with this dedupe key if it has not gone yet (a
        reminder of a visit the customer just cancelled); in the turn's transaction too."""
        self.withdrawn.append(dedupe_key)


class Intent:
    """An intent handler: one-shot answers override `start`; flows also override `resume`.

    Each intent declares what the rest of billbot derives from it: its canonical name (the NLU
    label), its menu label (None keeps it off the menu), whether strangers may use it, the
    operator feature it needs, and its Rasa-format training file.
    """

    name: ClassVar[str] = ""
    menu_label: ClassVar[Messages | None] = None
    # Whether someone the bot cannot identify may use it (barring a lost phone's SIM).
    allows_anonymous: ClassVar[bool] = False
    training_file: ClassVar[Path | None] = None
    # The operator feature it needs: when the operator turns that off, chat neither lists nor
    # runs it (`bot.features`).
    feature: ClassVar[Feature | None] = None
    # The account types the menu lists it for (None: every customer): a prepaid customer is
    # not offered a spending limit, a postpaid one not a top-up. Asked for in words, it still
    # answers (and says why it does not apply).
    billing_types: ClassVar[frozenset[str] | None] = None
    # Steps whose answer is a secret (a PIN): decided before the message is stored, which
    # then keeps a placeholder instead of the text.
    secret_steps: ClassVar[frozenset[str]] = frozenset()

    async def start(self, ctx: TurnContext) -> list[Reply]:
        raise NotImplementedError

    async def resume(self, ctx: TurnContext) -> list[Reply]:
        """Continue the active flow at `ctx.state.step`."""
        return await self.start(ctx)

    async def prompt(self, ctx: TurnContext) -> list[Reply]:
        """Ask the question of the current step again (after "back")."""
        return await self.start(ctx)

    def is_secret_step(self, step: str | None) -> bool:
        """True when the answer to the step is a secret (a PIN) that must not be stored."""
        return step in self.secret_steps

    def expects_free_text(self, step: str | None) -> bool:
        """True when the step takes any text (a description), so NLU must not hijack it."""
        return False
