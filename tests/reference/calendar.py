"""Date arithmetic for the reference evaluator, written from policies/README.md alone.

Nothing here comes from carepolicy: months are counted on the calendar and clamped to the
month's last day ("31 August + 6 months = 28/29 February"), working days skip weekends,
the bank holidays of the `holidays` package (read directly) and the pack's closures, and
the start day is not counted (unless the pack counts a working start day as day 1).
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from functools import lru_cache

import holidays

UNITS = {
    "day": "days", "days": "days", "calendar day": "days", "calendar days": "days",
    "week": "weeks", "weeks": "weeks",
    "month": "months", "months": "months",
    "year": "years", "years": "years",
    "working day": "working_days", "working days": "working_days",
    "business day": "working_days", "business days": "working_days",
}


def duration(text: str) -> tuple[int, str]:
    """``"10 working days"`` is ``(10, "working_days")``."""
    m = re.fullmatch(r"\s*(\d+)\s+([a-z ]+?)\s*", text.lower())
    assert m is not None, text
    return int(m.group(1)), UNITS[" ".join(m.group(2).split())]


def days_in_month(year: int, month: int) -> int:
    if month == 2:
        leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
        return 29 if leap else 28
    return 30 if month in (4, 6, 9, 11) else 31


def plus_months(day: date, n: int) -> date:
    """``n`` calendar months later (earlier when negative), on the same day or the month's last."""
    months = day.year * 12 + day.month - 1 + n
    year, month = months // 12, months % 12 + 1
    return date(year, month, min(day.day, days_in_month(year, month)))


@lru_cache(maxsize=None)
def _bank_holidays(region: str, year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("GB", subdiv=region, years=year))


class Calendar:
    """The pack's `calendar:` as the README describes it."""

    def __init__(self, spec: dict | None) -> None:
        spec = spec or {}
        self.region = spec.get("region", "ENG")
        self.closures = {date.fromisoformat(d) for d in spec.get("closures", [])}
        self.same_day = spec.get("count_from", "next_working_day") == "same_day"

    def working(self, day: date) -> bool:
        return day.weekday() < 5 and day not in _bank_holidays(self.region, day.year) and day not in self.closures

    def shift(self, day: date, text: str, sign: int) -> date:
        """``day`` moved a duration forward (``sign=1``) or back (``sign=-1``)."""
        n, unit = duration(text)
        if unit == "days":
            return day + timedelta(days=sign * n)
        if unit == "weeks":
            return day + timedelta(days=sign * 7 * n)
        if unit == "months":
            return plus_months(day, sign * n)
        if unit == "years":
            return plus_months(day, sign * 12 * n)
        if n and self.same_day and self.working(day):
            n -= 1  # the start day is day 1
        while n:
            day += timedelta(days=sign)
            if self.working(day):
                n -= 1
        return day
