"""Monthly bill cycles: which days one cycle of an account covers."""

from __future__ import annotations

import calendar
from datetime import date, timedelta


def bill_cycle(day: date, cycle_day: int) -> tuple[date, date]:
    """The monthly cycle (start, inclusive end) holding `day` for an account billed on
    `cycle_day`; in shorter months the cycle starts on their last day (31 → 28 Feb)."""
    start = _day_of_month(day.year, day.month, cycle_day)
    if start > day:
        start = _day_of_month(*_month_step(day.year, day.month, -1), cycle_day)
    following = _day_of_month(*_month_step(start.year, start.month, 1), cycle_day)
    return start, following - timedelta(days=1)


def _day_of_month(year: int, month: int, day: int) -> date:
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


def _month_step(year: int, month: int, step: int) -> tuple[int, int]:
    index = year * 12 + month - 1 + step
    return index // 12, index % 12 + 1
