"""Rated-usage CSV files (`billbot usage import`): parsing and checking, no database.

The columns are `msisdn,at,kind,quantity,unit,charge` in any order (DESIGN.md §4). A file that
is not such a table at all (empty, no header, missing or unknown columns) raises
`UsageFileError`; a bad row becomes a `Problem` with its line number, and parsing goes on so
that every bad row is reported at once. What needs the database (is the number a line of
ours? does the charge fit the account's currency?) is checked by the importer.

Each row's identity (`source_id`) is a hash of its canonical values, so the same record
imported twice, even respelt (`+01:00` vs `Z`, `1.50` vs `1.5`), is recognised.
"""

from __future__ import annotations

import csv
import hashlib
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_CEILING, Decimal, InvalidOperation
from typing import TYPE_CHECKING, Literal

from billing_client.types import Money

if TYPE_CHECKING:
    from _csv import Reader

UsageKind = Literal["data", "voice", "sms", "roaming_data"]
COLUMNS = ("msisdn", "at", "kind", "quantity", "unit", "charge")
MB_PER_GB = 1024
# Units each kind may be written in (data is counted in MB: 1 GB = 1024 MB).
UNITS: dict[str, tuple[str, ...]] = {
    "data": ("MB", "GB"),
    "roaming_data": ("MB", "GB"),
    "voice": ("min",),
    "sms": ("msg",),
}
_UNIT_SPELLING = {unit.lower(): unit for units in UNITS.values() for unit in units}
# Charge.quantity is NUMERIC(12, 3): a quantity must fit it as written.
QUANTITY_PLACES = 3
MAX_QUANTITY = Decimal("999999999")
MAX_CHARGE = Decimal("1000000000")  # in major units; a bigger usage charge is a typo
_E164 = re.compile(r"\+[1-9][0-9]{6,14}")

NumberCheck = Callable[[str], str]
"""Turns a number as written into E.164, or raises ValueError (e.g. bot.phones.normalize)."""


class UsageFileError(ValueError):
    """The file is not a usage table at all (empty, no header, wrong columns): one line."""


@dataclass(frozen=True, slots=True)
class Problem:
    """Why one row of the file cannot be imported."""

    line_number: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line_number}: {self.reason}"


@dataclass(frozen=True, slots=True)
class UsageRow:
    """One valid row. `amount` is the quantity in the counter's unit (MB, min, msg)."""

    line_number: int
    msisdn: str  # E.164
    at: datetime  # aware UTC
    kind: UsageKind
    quantity: Decimal  # as written, in `unit`
    unit: str  # MB | GB | min | msg
    charge: Decimal | None  # in the account's currency; None = no charge
    amount: int
    source_id: str

    @property
    def counter_kind(self) -> str:
        """The allowance it uses: roaming data counts as data."""
        return "data" if self.kind == "roaming_data" else self.kind


@dataclass(frozen=True, slots=True)
class UsageFile:
    """A parsed file: its valid rows and the problems of the others."""

    rows: tuple[UsageRow, ...]
    problems: tuple[Problem, ...]


@dataclass(frozen=True, slots=True)
class UsageImportReport:
    """What an import did, or (dry run) would do. With problems, nothing was written."""

    dry_run: bool
    rows: int  # valid rows in the file
    imported: int  # rows new to the billing core; the rest were imported before
    lines: int  # lines the imported rows touch
    data_mb: int
    voice_min: int
    sms: int
    charges: tuple[Money, ...]  # per currency, of the imported rows
    problems: tuple[Problem, ...] = ()
    accounts: frozenset[int] = frozenset()  # accounts of every valid row, new or not

    @property
    def already_imported(self) -> int:
        """Rows recorded before (or earlier in the same file)."""
        return self.rows - self.imported

    @classmethod
    def refused(cls, problems: Iterable[Problem], *, dry_run: bool) -> UsageImportReport:
        """The report of a file with bad rows: its problems in file order, nothing applied."""
        ordered = tuple(sorted(problems, key=lambda problem: problem.line_number))
        return cls(dry_run, 0, 0, 0, 0, 0, 0, (), ordered)


def parse_usage_csv(lines: Iterable[str], *, number: NumberCheck | None = None) -> UsageFile:
    """Parse a usage CSV (an open text file or its lines); UsageFileError if it has no table.

    `number` normalises phone numbers; without it they must be written in E.164 (`+…`).
    """
    reader = csv.reader(lines)
    try:
        columns = _columns(reader)
        return _parse_rows(reader, columns, number or _e164)
    except csv.Error as error:
        raise UsageFileError(f"line {reader.line_num}: not readable as CSV ({error})") from None


_EXPECTED = f"the columns are {','.join(COLUMNS)} in any order"


def _columns(reader: Reader) -> dict[str, int]:
    """Each contract column's position, from the header row."""
    header = next(reader, None)
    if header is None:
        raise UsageFileError("the file is empty")
    names = [name.strip().lstrip("\ufeff").lower() for name in header]  # Excel writes a BOM
    if set(names).isdisjoint(COLUMNS):
        raise UsageFileError(f"the first line must be the header: {','.join(COLUMNS)}")
    unknown = sorted({name for name in names if name not in COLUMNS})
    if unknown:
        raise UsageFileError(f"unknown column(s) {', '.join(map(repr, unknown))}; {_EXPECTED}")
    missing = [name for name in COLUMNS if name not in names]
    if missing:
        raise UsageFileError(f"missing column(s) {', '.join(missing)}; {_EXPECTED}")
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise UsageFileError(f"column(s) named twice: {', '.join(repeated)}")
    return {name: names.index(name) for name in COLUMNS}


def _parse_rows(reader: Reader, columns: dict[str, int], number: NumberCheck) -> UsageFile:
    rows: list[UsageRow] = []
    problems: list[Problem] = []
    for line_number, fields in _records(reader):
        try:
            rows.append(_row(line_number, fields, columns, number))
        except BadUsageRow as bad:
            problems.append(Problem(line_number, str(bad)))
    if not rows and not problems:
        raise UsageFileError("the file has a header but no rows")
    return UsageFile(tuple(rows), tuple(problems))


def _records(reader: Reader) -> Iterator[tuple[int, list[str]]]:
    """Each non-blank record with the line it starts on (a quoted field may span lines)."""
    while True:
        line_number = reader.line_num + 1
        fields = next(reader, None)
        if fields is None:
            return
        if any(field.strip() for field in fields):  # blank lines are spacing, not rows
            yield line_number, fields


class BadUsageRow(ValueError):
    """A row's problem, said in a few words."""


def _row(
    line_number: int, fields: list[str], columns: dict[str, int], number: NumberCheck
) -> UsageRow:
    if len(fields) != len(columns):
        raise BadUsageRow(f"expected {len(columns)} fields, found {len(fields)}")
    value = {name: fields[index].strip() for name, index in columns.items()}
    return usage_row(line_number, value, number)


def usage_row(
    line_number: int, value: Mapping[str, str], number: NumberCheck | None = None
) -> UsageRow:
    """One record of the contract's six fields (as text, stripped) checked into a UsageRow;
    BadUsageRow says why not. The one validator of CSV rows and `usage.recorded` events."""
    number = number or _e164
    msisdn = _msisdn(value["msisdn"], number)
    at = _at(value["at"])
    kind = _kind(value["kind"])
    unit = _unit(value["unit"], kind)
    quantity = _quantity(value["quantity"], unit)
    charge = _charge(value["charge"])
    return UsageRow(
        line_number=line_number,
        msisdn=msisdn,
        at=at,
        kind=kind,
        quantity=quantity,
        unit=unit,
        charge=charge,
        amount=counter_amount(quantity, unit),
        source_id=source_id(msisdn, at, kind, quantity, unit, charge),
    )


# --- one field each ---------------------------------------------------------------------------
def _e164(raw: str) -> str:
    if not _E164.fullmatch(raw):
        raise ValueError(raw)
    return raw


def _msisdn(raw: str, number: NumberCheck) -> str:
    if not raw:
        raise BadUsageRow("no number")
    try:
        return number(raw)
    except ValueError:
        raise BadUsageRow(f"not a valid phone number: {raw[:32]!r}") from None


def _at(raw: str) -> datetime:
    try:
        at = datetime.fromisoformat(raw)
    except ValueError:
        raise BadUsageRow(
            f"bad date {raw[:40]!r} (ISO 8601 with a time zone, e.g. 2025-03-01T14:05:00Z)"
        ) from None
    if at.tzinfo is None or at.utcoffset() is None:
        raise BadUsageRow(f"date {raw[:40]!r} has no time zone (add Z or +hh:mm)")
    return at.astimezone(UTC)


def _kind(raw: str) -> UsageKind:
    kind = raw.lower()
    if kind not in UNITS:
        raise BadUsageRow(f"bad kind {raw[:20]!r} (data, voice, sms or roaming_data)")
    return kind  # type: ignore[return-value]  # one of UNITS' keys, i.e. a UsageKind


def _unit(raw: str, kind: str) -> str:
    unit = _UNIT_SPELLING.get(raw.lower())
    if unit is None:
        raise BadUsageRow(f"bad unit {raw[:20]!r} (MB, GB, min or msg)")
    if unit not in UNITS[kind]:
        raise BadUsageRow(f"unit {unit} does not fit kind {kind} (use {' or '.join(UNITS[kind])})")
    return unit


def _decimal(raw: str, what: str) -> Decimal:
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise BadUsageRow(f"{what} {raw[:20]!r} is not a number") from None
    if not value.is_finite():
        raise BadUsageRow(f"{what} {raw[:20]!r} is not a number")
    return value


def _quantity(raw: str, unit: str) -> Decimal:
    if not raw:
        raise BadUsageRow("no quantity")
    quantity = _decimal(raw, "quantity")
    if quantity <= 0:
        raise BadUsageRow(f"quantity {raw[:20]} must be positive")
    if quantity > MAX_QUANTITY:
        raise BadUsageRow(f"quantity {raw[:20]} is too large")
    if _places(quantity) > QUANTITY_PLACES:
        raise BadUsageRow(f"quantity {raw[:20]} has more than {QUANTITY_PLACES} decimals")
    if unit == "msg" and quantity != quantity.to_integral_value():
        raise BadUsageRow(f"quantity {raw[:20]} msg is not a whole number of messages")
    return quantity


def _charge(raw: str) -> Decimal | None:
    if not raw:
        return None
    charge = _decimal(raw, "charge")
    if charge < 0:
        raise BadUsageRow(f"charge {raw[:20]} is negative")
    if charge >= MAX_CHARGE:
        raise BadUsageRow(f"charge {raw[:20]} is too large")
    return charge


def _places(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


# --- derived values ---------------------------------------------------------------------------
def counter_amount(quantity: Decimal, unit: str) -> int:
    """The quantity in the counter's unit, rounded up: GB → MB (1 GB = 1024 MB), whole min."""
    if unit == "GB":
        quantity *= MB_PER_GB
    return int(quantity.to_integral_value(rounding=ROUND_CEILING))


def source_id(
    msisdn: str,
    at: datetime,
    kind: str,
    quantity: Decimal,
    unit: str,
    charge: Decimal | None,
) -> str:
    """The row's stable identity: a SHA-256 of its canonical values (64 hex digits)."""
    parts = (
        msisdn,
        at.astimezone(UTC).isoformat(),
        kind,
        canonical(quantity),
        unit,
        "" if charge is None else canonical(charge),
    )
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def canonical(value: Decimal) -> str:
    """A decimal without its trailing zeros or exponent: 1.50 → "1.5", 1E+2 → "100"."""
    return f"{value.normalize():f}"
