"""Usage CSV parsing and checking (billing_client.usage_csv): no database, no files."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from billing_client import Money
from billing_client.sql.cycles import bill_cycle
from billing_client.usage_csv import (
    COLUMNS,
    Problem,
    UsageFile,
    UsageFileError,
    UsageImportReport,
    counter_amount,
    parse_usage_csv,
)
from bot.cli_usage import summary
from bot.phones import normalize

HEADER = ",".join(COLUMNS)
GOOD = "+12025550101,2025-03-01T14:05:00Z,data,250,MB,"


def parse(*rows: str, header: str = HEADER) -> UsageFile:
    return parse_usage_csv([header, *rows])


def problems_of(*rows: str) -> list[str]:
    return [str(problem) for problem in parse(*rows).problems]


# --- good rows --------------------------------------------------------------------------------
def test_a_good_row_is_parsed_with_its_line_number_and_utc_time() -> None:
    (row,) = parse("+12025550101,2025-03-01T10:05:00-04:00,roaming_data,1.5,GB,12.50").rows

    assert row.line_number == 2
    assert row.msisdn == "+12025550101"
    assert row.at == datetime(2025, 3, 1, 14, 5, tzinfo=UTC)
    assert (row.kind, row.counter_kind) == ("roaming_data", "data")
    assert (row.quantity, row.unit, row.amount) == (Decimal("1.5"), "GB", 1536)
    assert row.charge == Decimal("12.50")
    assert len(row.source_id) == 64


def test_columns_may_come_in_any_order_and_any_case() -> None:
    usage = parse(
        "sms,3,msg,0.30,2025-03-01T14:05:00Z,+12025550104",
        header="KIND, quantity ,Unit,charge,at,msisdn",
    )
    (row,) = usage.rows
    assert (row.msisdn, row.kind, row.amount, row.charge) == (
        "+12025550104",
        "sms",
        3,
        Decimal("0.30"),
    )


def test_an_empty_charge_is_no_charge() -> None:
    (row,) = parse(GOOD).rows
    assert row.charge is None


def test_kinds_and_units_are_read_case_insensitively() -> None:
    (row,) = parse("+12025550101,2025-03-01T14:05:00Z,Voice,2,MIN,").rows
    assert (row.kind, row.unit) == ("voice", "min")


def test_excel_byte_order_mark_and_blank_lines_are_ignored() -> None:
    usage = parse_usage_csv(["\ufeff" + HEADER, "", GOOD, "  ,  ", GOOD.replace("250", "1")])
    assert [row.line_number for row in usage.rows] == [3, 5]
    assert usage.problems == ()


@pytest.mark.parametrize(
    ("quantity", "unit", "amount"),
    [
        ("250", "MB", 250),
        ("0.2", "MB", 1),  # whole MB, rounded up
        ("1", "GB", 1024),
        ("1.5", "GB", 1536),
        ("0.001", "GB", 2),  # 1.024 MB → 2 MB
        ("12.2", "min", 13),  # started minutes count
        ("12", "min", 12),
        ("3", "msg", 3),
    ],
)
def test_quantities_become_whole_counter_units_rounded_up(
    quantity: str, unit: str, amount: int
) -> None:
    assert counter_amount(Decimal(quantity), unit) == amount


def test_numbers_are_normalised_by_the_given_check() -> None:
    row = "(202) 555-0101,2025-03-01T14:05:00Z,data,1,MB,"
    usage = parse_usage_csv([HEADER, row], number=lambda raw: normalize(raw))
    assert usage.rows[0].msisdn == "+12025550101"
    assert usage.problems == ()


# --- identity ---------------------------------------------------------------------------------
def test_the_same_record_respelt_has_the_same_identity() -> None:
    a, b, c = parse(
        "+12025550101,2025-03-01T14:05:00Z,data,1.50,GB,2.50",
        "+12025550101,2025-03-01T15:05:00+01:00,DATA,1.5,gb,2.5",
        "+12025550101,2025-03-01T14:05:00.000+00:00,data,1.500,GB,2.500",
    ).rows
    assert a.source_id == b.source_id == c.source_id


@pytest.mark.parametrize(
    "other",
    [
        "+12025550102,2025-03-01T14:05:00Z,data,1,GB,2.50",
        "+12025550101,2025-03-01T14:05:01Z,data,1,GB,2.50",
        "+12025550101,2025-03-01T14:05:00Z,roaming_data,1,GB,2.50",
        "+12025550101,2025-03-01T14:05:00Z,data,2,GB,2.50",
        "+12025550101,2025-03-01T14:05:00Z,data,1024,MB,2.50",
        "+12025550101,2025-03-01T14:05:00Z,data,1,GB,2.51",
        "+12025550101,2025-03-01T14:05:00Z,data,1,GB,",
    ],
)
def test_a_record_differing_in_any_field_is_another_record(other: str) -> None:
    first, second = parse("+12025550101,2025-03-01T14:05:00Z,data,1,GB,2.50", other).rows
    assert first.source_id != second.source_id


# --- bad rows ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ("12345,2025-03-01T14:05:00Z,data,1,MB,", "not a valid phone number: '12345'"),
        ("12025550101,2025-03-01T14:05:00Z,data,1,MB,", "not a valid phone number"),
        (",2025-03-01T14:05:00Z,data,1,MB,", "no number"),
        ("+12025550101,2025-03-01T14:05:00,data,1,MB,", "has no time zone"),
        ("+12025550101,2025-03-01,data,1,MB,", "has no time zone"),
        ("+12025550101,yesterday,data,1,MB,", "bad date 'yesterday'"),
        ("+12025550101,2025-02-30T10:00:00Z,data,1,MB,", "bad date"),
        ("+12025550101,2025-03-01T14:05:00Z,video,1,MB,", "bad kind 'video'"),
        ("+12025550101,2025-03-01T14:05:00Z,data,1,KB,", "bad unit 'KB'"),
        ("+12025550101,2025-03-01T14:05:00Z,data,1,min,", "unit min does not fit kind data"),
        ("+12025550101,2025-03-01T14:05:00Z,voice,1,MB,", "unit MB does not fit kind voice"),
        ("+12025550101,2025-03-01T14:05:00Z,sms,1,min,", "does not fit kind sms (use msg)"),
        ("+12025550101,2025-03-01T14:05:00Z,data,-3,MB,", "quantity -3 must be positive"),
        ("+12025550101,2025-03-01T14:05:00Z,data,0,MB,", "quantity 0 must be positive"),
        ("+12025550101,2025-03-01T14:05:00Z,data,,MB,", "no quantity"),
        ("+12025550101,2025-03-01T14:05:00Z,data,abc,MB,", "quantity 'abc' is not a number"),
        ("+12025550101,2025-03-01T14:05:00Z,data,NaN,MB,", "is not a number"),
        ("+12025550101,2025-03-01T14:05:00Z,data,1.2345,MB,", "more than 3 decimals"),
        ("+12025550101,2025-03-01T14:05:00Z,data,1e10,MB,", "is too large"),
        ("+12025550101,2025-03-01T14:05:00Z,sms,1.5,msg,", "not a whole number of messages"),
        ("+12025550101,2025-03-01T14:05:00Z,data,1,MB,-1.00", "charge -1.00 is negative"),
        ("+12025550101,2025-03-01T14:05:00Z,data,1,MB,$1", "charge '$1' is not a number"),
        ("+12025550101,2025-03-01T14:05:00Z,data,1,MB,1e12", "charge 1e12 is too large"),
        ("+12025550101,2025-03-01T14:05:00Z,data,1,MB", "expected 6 fields, found 5"),
        ("+12025550101,2025-03-01T14:05:00Z,data,1,MB,,x", "expected 6 fields, found 7"),
    ],
)
def test_a_bad_row_is_reported_with_its_line_and_reason(row: str, reason: str) -> None:
    usage = parse(GOOD, row)

    assert len(usage.rows) == 1
    (problem,) = usage.problems
    assert problem.line_number == 3
    assert reason in problem.reason


def test_every_bad_row_is_reported_not_only_the_first() -> None:
    assert problems_of(
        "+12025550101,2025-03-01T14:05:00,data,1,MB,",
        GOOD,
        "+12025550101,2025-03-01T14:05:00Z,data,-1,MB,",
        "+12025550101,2025-03-01T14:05:00Z,data,1,KB,",
    ) == [
        "line 2: date '2025-03-01T14:05:00' has no time zone (add Z or +hh:mm)",
        "line 4: quantity -1 must be positive",
        "line 5: bad unit 'KB' (MB, GB, min or msg)",
    ]


def test_line_numbers_count_the_lines_of_a_quoted_multi_line_field() -> None:
    text = f'{HEADER}\n"+12025550101",2025-03-01T14:05:00Z,"da\nta",1,MB,\n{GOOD}\nbad\n'
    usage = parse_usage_csv(text.splitlines(keepends=True))
    assert [str(problem) for problem in usage.problems] == [
        "line 2: bad kind 'da\\nta' (data, voice, sms or roaming_data)",
        "line 5: expected 6 fields, found 1",
    ]


# --- files that are not usage tables ----------------------------------------------------------
@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ([], "the file is empty"),
        ([HEADER], "the file has a header but no rows"),
        ([HEADER, "", ""], "the file has a header but no rows"),
        ([GOOD], "the first line must be the header: msisdn,at,kind,quantity,unit,charge"),
        (["msisdn,at,kind,quantity,unit", GOOD], "missing column(s) charge"),
        ([HEADER + ",zone", GOOD + ",EU"], "unknown column(s) 'zone'"),
        ([HEADER + ",kind", GOOD + ",data"], "column(s) named twice: kind"),
        ([HEADER, '"' + "x" * 200_000 + '"'], "line 2: not readable as CSV"),
    ],
)
def test_a_file_that_is_not_a_usage_table_is_one_error(lines: list[str], message: str) -> None:
    with pytest.raises(UsageFileError) as raised:
        parse_usage_csv(lines)
    assert message in str(raised.value)
    assert "\n" not in str(raised.value)


# --- the report -------------------------------------------------------------------------------
def test_a_refused_report_lists_problems_in_file_order() -> None:
    report = UsageImportReport.refused(
        [Problem(9, "unknown number +12025550199"), Problem(2, "bad kind 'x'")], dry_run=False
    )
    assert [problem.line_number for problem in report.problems] == [2, 9]
    assert (report.rows, report.imported) == (0, 0)


def _report(**fields: object) -> UsageImportReport:
    base: dict[str, object] = {
        "dry_run": False,
        "rows": 12_000,
        "imported": 12_000,
        "lines": 3_100,
        "data_mb": 422_400,
        "voice_min": 1_234,
        "sms": 56,
        "charges": (Money(123_450, "USD"),),
    }
    return UsageImportReport(**{**base, **fields})  # type: ignore[arg-type]


def test_the_summary_is_one_line_with_usage_charges_and_repeats() -> None:
    assert summary(_report()) == (
        "Imported 12,000 rows for 3,100 lines: +412.5 GB data, 1,234 min, 56 msg; "
        "charges $1,234.50; 0 already imported."
    )


def test_the_summary_shows_small_data_in_mb_and_omits_kinds_not_used() -> None:
    report = _report(rows=3, imported=1, lines=1, data_mb=250, voice_min=0, sms=0, charges=())
    assert summary(report) == (
        "Imported 1 row for 1 line: +250 MB data; charges none; 2 already imported."
    )


def test_the_summary_of_a_dry_run_says_nothing_was_written() -> None:
    assert summary(_report(dry_run=True)).startswith(
        "Dry run, nothing written. Would import 12,000 rows for 3,100 lines:"
    )


def test_the_summary_of_a_file_imported_before_says_so() -> None:
    report = _report(imported=0, lines=0, data_mb=0, voice_min=0, sms=0, charges=())
    assert summary(report) == "Nothing to import: 12,000 rows already imported."


# --- bill cycles ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("day", "cycle_day", "start", "end"),
    [
        (date(2025, 3, 14), 3, date(2025, 3, 3), date(2025, 4, 2)),
        (date(2025, 3, 2), 3, date(2025, 2, 3), date(2025, 3, 2)),
        (date(2025, 3, 3), 3, date(2025, 3, 3), date(2025, 4, 2)),
        (date(2025, 1, 5), 10, date(2024, 12, 10), date(2025, 1, 9)),
        (date(2025, 2, 28), 31, date(2025, 2, 28), date(2025, 3, 30)),  # 31 → 28 Feb
        (date(2025, 2, 27), 31, date(2025, 1, 31), date(2025, 2, 27)),
        (date(2025, 3, 31), 31, date(2025, 3, 31), date(2025, 4, 29)),
        (date(2024, 2, 29), 30, date(2024, 2, 29), date(2024, 3, 29)),  # leap year
    ],
)
def test_a_bill_cycle_runs_from_the_cycle_day_to_the_day_before_the_next(
    day: date, cycle_day: int, start: date, end: date
) -> None:
    assert bill_cycle(day, cycle_day) == (start, end)
