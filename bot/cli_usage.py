"""`billbot usage import FILE.csv [--dry-run]`: load rated usage into the billing core.

Exit 0 when the file was imported (or, dry run, would be); 2 when it cannot be (no such file,
not a usage table, bad rows: each named with its line, up to `SHOWN_PROBLEMS`), and then
nothing was written; 1 when the database fails. The summary goes to stdout; problems and the
progress bar (only on a terminal) to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from decimal import Decimal
from pathlib import Path
from typing import TypeVar

from billing_client.usage_csv import (
    MB_PER_GB,
    UsageFile,
    UsageFileError,
    UsageImportReport,
    parse_usage_csv,
)
from bot.phones import normalize
from bot.settings import Settings, SettingsError

EXIT_OK, EXIT_USAGE = 0, 2
SHOWN_PROBLEMS = 20
PROG = "billbot usage import"
ParserT = TypeVar("ParserT", bound=argparse.ArgumentParser)


def register(subparsers: argparse._SubParsersAction[ParserT]) -> None:
    """Add the `usage` command group to the billbot command line."""
    usage = subparsers.add_parser("usage", help="load rated usage into the billing core")
    commands = usage.add_subparsers(
        dest="usage_command", metavar="COMMAND", required=True, parser_class=type(usage)
    )
    command = commands.add_parser(
        "import",
        help="import a CSV of rated usage: msisdn,at,kind,quantity,unit,charge",
        description="Columns msisdn,at,kind,quantity,unit,charge in any order; kind "
        "data|voice|sms|roaming_data, unit MB|GB|min|msg, charge in the account's currency "
        "or empty. A file with any bad row changes nothing.",
    )
    command.add_argument("file", metavar="FILE.csv", type=Path, help="the usage file")
    command.add_argument(
        "--dry-run", action="store_true", help="check the file and say what it would do"
    )
    command.set_defaults(func=run_import)


def run_import(args: argparse.Namespace) -> int:
    """Read, check and (unless --dry-run) apply the file; the exit code."""
    try:
        settings = Settings.from_env(checked=False)  # the database only, no secret needed
        usage = read_usage_file(args.file, region=settings.default_region)
    except (SettingsError, _Unreadable) as error:
        return _fail(str(error))
    report = asyncio.run(_import(settings, usage, dry_run=args.dry_run))
    if report.problems:
        _print_problems(args.file, report)
        return EXIT_USAGE
    print(summary(report))
    return EXIT_OK


class _Unreadable(Exception):
    """The file cannot be read as a usage table: one line, exit 2."""


def read_usage_file(path: Path, *, region: str) -> UsageFile:
    """The parsed file; _Unreadable (one line) when it is missing or not a usage table.

    Numbers may be written as the operator's systems write them ("(202) 555-0101"): they are
    normalised to E.164 like every number billbot reads, `region` for those with no country.
    """
    try:
        with path.open(encoding="utf-8-sig", newline="") as lines:
            return parse_usage_csv(lines, number=lambda raw: normalize(raw, default_region=region))
    except FileNotFoundError:
        raise _Unreadable(f"no such file: {path}") from None
    except IsADirectoryError:
        raise _Unreadable(f"{path} is a folder, not a CSV file") from None
    except UnicodeDecodeError:
        raise _Unreadable(f"{path} is not UTF-8 text") from None
    except OSError as error:
        raise _Unreadable(f"cannot read {path}: {error.strerror or error}") from None
    except UsageFileError as error:
        raise _Unreadable(f"{path}: {error}") from None


async def _import(settings: Settings, usage: UsageFile, *, dry_run: bool) -> UsageImportReport:
    from bot.bootstrap import import_usage, upgrade_database  # at use: a quick parser

    await upgrade_database(settings)
    return await import_usage(settings, usage, dry_run=dry_run, progress=sys.stderr.isatty())


def _print_problems(path: Path, report: UsageImportReport) -> None:
    problems = report.problems
    print(
        f"{PROG}: {path}: {_count(len(problems), 'bad row')}, nothing was imported:",
        file=sys.stderr,
    )
    for problem in problems[:SHOWN_PROBLEMS]:
        print(f"  {problem}", file=sys.stderr)
    if len(problems) > SHOWN_PROBLEMS:
        print(f"  … and {len(problems) - SHOWN_PROBLEMS:,} more", file=sys.stderr)


def summary(report: UsageImportReport) -> str:
    """One line, e.g. "Imported 12,000 rows for 3,100 lines: +412.5 GB data, 1,234 min,
    56 msg; charges $1,234.50; 0 already imported." (a dry run says what it would do)."""
    prefix = "Dry run, nothing written. " if report.dry_run else ""
    if not report.imported:
        return f"{prefix}Nothing to import: {_count(report.rows, 'row')} already imported."
    charges = ", ".join(money.format() for money in report.charges) or "none"
    done = (
        f"{_count(report.imported, 'row')} for {_count(report.lines, 'line')}: "
        f"{_usage(report)}; charges {charges}; {report.already_imported:,} already imported."
    )
    return f"{prefix}Would import {done}" if report.dry_run else f"Imported {done}"


def _usage(report: UsageImportReport) -> str:
    parts = []
    if report.data_mb:
        parts.append(f"+{_data(report.data_mb)} data")
    if report.voice_min:
        parts.append(f"{report.voice_min:,} min")
    if report.sms:
        parts.append(f"{report.sms:,} msg")
    return ", ".join(parts) or "no usage"


def _data(mb: int) -> str:
    """MB below a gigabyte ("250 MB"), else GB to one decimal ("412.5 GB"; 1 GB = 1024 MB)."""
    if mb < MB_PER_GB:
        return f"{mb:,} MB"
    return f"{Decimal(mb) / MB_PER_GB:,.1f} GB"


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


def _fail(message: str) -> int:
    print(f"{PROG}: {message}", file=sys.stderr)
    return EXIT_USAGE
