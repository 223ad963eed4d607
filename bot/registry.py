"""The one registry of intents: the engine routes to these, the NLU learns their labels and the
menu lists them. The composition root builds it (`intents.registry.default_registry`)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from bot.features import Feature
from bot.flow import Intent
from bot.i18n import Messages

FALLBACK = "out_of_scope"


class Registry:
    """Intent handlers by canonical name (DESIGN.md §3), in menu order."""

    def __init__(self, intents: Iterable[Intent]) -> None:
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
        """Every intent name: the NLU's labels."""
        return list(self._by_name)

    @property
    def menu_entries(self) -> list[tuple[str, Messages]]:
        """(name, label) of the intents the menu lists, in registry order."""
        return [(i.name, i.menu_label) for i in self._by_name.values() if i.menu_label]

    def billing_types_of(self, name: str) -> frozenset[str] | None:
        """The account types the menu lists intent `name` for (None: everyone)."""
        intent = self._by_name.get(name)
        return None if intent is None else intent.billing_types

    def feature_of(self, name: str) -> Feature | None:
        """The operator feature intent `name` needs (None: always available, or unknown)."""
        intent = self._by_name.get(name)
        return None if intent is None else intent.feature

    @property
    def secret_steps(self) -> frozenset[tuple[str, str]]:
        """(intent, step) of every step whose answer is a secret (see `Intent.secret_steps`)."""
        return frozenset(
            (intent.name, step)
            for intent in self._by_name.values()
            for step in intent.secret_steps
        )

    @property
    def training_files(self) -> list[Path]:
        """Each intent's Rasa-format training file."""
        return [i.training_file for i in self._by_name.values() if i.training_file is not None]
