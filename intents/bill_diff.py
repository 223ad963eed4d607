"""What changed between two invoices, item by item: pure, no wording (`intents.bill_explain`
says it in the customer's language).

Items are matched by kind, description and line. A description's quantity in brackets
("Calls to Mexico (30 min)") is left out of the match, so the same charge with another
quantity is one item whose amount changed, not one gone and one new.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Literal

from billing_client import InvoiceDetail, InvoiceItem, Money

ChangeKind = Literal["new", "gone", "up", "down"]
_COUNTED = re.compile(r"\s*\([^)]*\d[^)]*\)")  # "(30 min)", "(1.5 GB)"
RECURRING = "recurring"


@dataclass(frozen=True, slots=True)
class Change:
    """One charge that is new, gone, or a different amount on the latest bill."""

    kind: str  # the item's kind ("recurring", "usage", "roaming", …; "" when unknown)
    description: str  # as the latest bill words it (the earlier one's when gone)
    msisdn: str | None
    before: Money | None  # None: not on the earlier bill
    after: Money | None  # None: not on the latest bill

    @property
    def what(self) -> ChangeKind:
        if self.before is None:
            return "new"
        if self.after is None:
            return "gone"
        return "up" if self.after > self.before else "down"

    @property
    def delta(self) -> Money:
        """How much this item adds to the latest bill (negative: takes off)."""
        currency = (self.after or self.before or Money(0, "USD")).currency
        zero = Money(0, currency)
        return (self.after or zero) - (self.before or zero)


@dataclass(frozen=True, slots=True)
class BillDiff:
    latest: InvoiceDetail
    earlier: InvoiceDetail
    changes: tuple[Change, ...]  # the biggest difference first

    @property
    def total_delta(self) -> Money:
        return self.latest.summary.total - self.earlier.summary.total

    @property
    def tax_delta(self) -> Money:
        return self.latest.summary.tax - self.earlier.summary.tax

    @property
    def new_recurring(self) -> tuple[Change, ...]:
        """Monthly charges that appeared (an add-on), leaving out a plan swapped for another
        on the same line (a monthly charge gone there too)."""
        swapped = {c.msisdn for c in self.changes if c.what == "gone" and c.kind == RECURRING}
        return tuple(
            change
            for change in self.changes
            if change.what == "new" and change.kind == RECURRING and change.msisdn not in swapped
        )


def compare(latest: InvoiceDetail, earlier: InvoiceDetail) -> BillDiff:
    """The differences between two of an account's invoices."""
    before, after = _grouped(earlier.items), _grouped(latest.items)
    changes = [
        _change(key, before.get(key), after.get(key))
        for key in dict.fromkeys([*after, *before])
        if _amount(before.get(key)) != _amount(after.get(key))
    ]
    changes.sort(key=lambda change: abs(change.delta.minor), reverse=True)
    return BillDiff(latest, earlier, tuple(changes))


_Key = tuple[str, str, str | None]


def _grouped(items: tuple[InvoiceItem, ...]) -> dict[_Key, list[InvoiceItem]]:
    grouped: dict[_Key, list[InvoiceItem]] = defaultdict(list)
    for item in items:
        grouped[(item.kind or "", _COUNTED.sub("", item.description).lower(), item.msisdn)].append(
            item
        )
    return grouped


def _amount(items: list[InvoiceItem] | None) -> Money | None:
    if not items:
        return None
    total = items[0].amount
    for item in items[1:]:
        total += item.amount
    return total


def _change(
    key: _Key, before: list[InvoiceItem] | None, after: list[InvoiceItem] | None
) -> Change:
    named = (after or before or [])[0]
    return Change(key[0], named.description, key[2], _amount(before), _amount(after))
