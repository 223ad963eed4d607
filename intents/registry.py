"""The one explicit list of intents. The engine routes to these and nothing else."""

from __future__ import annotations

from bot.flow import Intent
from intents.balance import BalanceIntent
from intents.bar_sim import BarSimIntent
from intents.invoice import InvoiceIntent
from intents.open_ticket import OpenTicketIntent
from intents.out_of_scope import OutOfScopeIntent
from intents.pay_bill import PayBillIntent
from intents.usage import UsageIntent

FALLBACK = "out_of_scope"


class Registry:
    """Intent handlers by canonical name (DESIGN.md §3)."""

    def __init__(self, intents: list[Intent]) -> None:
        self._by_name = {intent.name: intent for intent in intents}
        if FALLBACK not in self._by_name:
            raise ValueError(f"the registry needs a {FALLBACK!r} intent")

    def get(self, name: str | None) -> Intent:
        """The handler for `name`; the fallback for unknown names."""
        return self._by_name.get(name or FALLBACK) or self._by_name[FALLBACK]

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    @property
    def names(self) -> list[str]:
        return list(self._by_name)


def default_registry() -> Registry:
    return Registry(
        [
            BalanceIntent(),
            PayBillIntent(),
            BarSimIntent(),
            OpenTicketIntent(),
            UsageIntent(),
            InvoiceIntent(),
            OutOfScopeIntent(),
        ]
    )
