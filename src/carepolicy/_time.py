"""Calendar durations and England working days for the deadlines and look-back windows in policy packs."""

from __future__ import annotations

import calendar as _calendar
import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from types import MappingProxyType
from typing import Literal, get_args

import holidays

__all__ = [
    "Unit",
    "Duration",
    "parse_duration",
    "Calendar",
    "DEFAULT_CALENDAR",
    "add",
    "subtract",
    "window_start",
]

Unit = Literal["days", "weeks", "months", "years", "working_days"]
_UNITS: tuple[str, ...] = get_args(Unit)

CountFrom = Literal["next_working_day", "same_day"]
_COUNT_FROM: tuple[str, ...] = get_args(CountFrom)

# Every spelling parse_duration accepts, mapped to its unit; also the vocabulary for "did you mean".
_UNIT_WORDS: Mapping[str, Unit] = MappingProxyType(
    {
        "day": "days",
        "days": "days",
        "calendar day": "days",
        "calendar days": "days",
        "week": "weeks",
        "weeks": "weeks",
        "month": "months",
        "months": "months",
        "year": "years",
        "years": "years",
        "working day": "working_days",
        "working days": "working_days",
        "business day": "working_days",
        "business days": "working_days",
    }
)

_REGION_NAMES: Mapping[str, str] = MappingProxyType(
    {"ENG": "England", "WLS": "Wales", "SCT": "Scotland", "NIR": "Northern Ireland"}
)

# Amounts spelt out in words get a "write it in digits" hint rather than a unit suggestion.
_NUMBER_WORDS = frozenset("zero one two three four five six seven eight nine ten eleven twelve a an".split())

_HOW_TO_WRITE = (
    "write a whole number and a unit: days, weeks, months, years or working days "
    "(e.g. `6 weeks`, `10 working days`)"
)


@dataclass(frozen=True, slots=True)
class Duration:
    """A whole number of one unit, as written in a pack (``6 weeks``); never negative, use :func:`subtract`."""

    amount: int
    unit: Unit

    def __post_init__(self) -> None:
        # bool is an int subclass; `True weeks` is always a bug.
        if not isinstance(self.amount, int) or isinstance(self.amount, bool):
            raise TypeError(f"duration amount must be an int, not {type(self.amount).__name__}")
        if self.amount < 0:
            raise ValueError(f"duration amount must be 0 or more, not {self.amount}; use subtract() to go back")
        if self.unit not in _UNITS:
            raise ValueError(f"unknown duration unit {self.unit!r}; expected one of {', '.join(_UNITS)}")

    def __str__(self) -> str:
        word = self.unit.replace("_", " ")
        if self.amount == 1:
            word = word[:-1]
        return f"{self.amount} {word}"


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_date(text: str) -> date:
    """A date written ``YYYY-MM-DD`` (only that form: ``20240102`` and week dates are refused)."""
    if not isinstance(text, str) or not _ISO_DATE.fullmatch(text):
        raise ValueError(f"`{text}` is not a date; write it as YYYY-MM-DD, e.g. `2026-01-05`")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"`{text}` is not a date; write it as YYYY-MM-DD, e.g. `2026-01-05`") from None


def parse_duration(text: str) -> Duration:
    """Parse ``"<whole number> <unit>"`` as policy authors write it; errors say how to fix the text."""
    if not isinstance(text, str):
        raise TypeError(f"parse_duration expects text such as `6 weeks`, not {type(text).__name__}")
    shown = " ".join(text.split())
    norm = shown.lower()
    # ASCII digits only: int() would otherwise accept e.g. Arabic-Indic digits.
    m = re.fullmatch(r"(\S*?)\s*([a-z][a-z _-]*)", norm, flags=re.ASCII)
    if m is None or not m.group(1):
        hint = ""
        if m is not None and m.group(2).split()[0] in _NUMBER_WORDS:
            hint = "; write the number in digits"
        raise ValueError(f"`{shown}` is not a duration; {_HOW_TO_WRITE}{hint}")
    number, unit_text = m.group(1), re.sub(r"[\s_-]+", " ", m.group(2)).strip()
    unit = _UNIT_WORDS.get(unit_text)

    if not re.fullmatch(r"[0-9]+", number, flags=re.ASCII):
        if re.fullmatch(r"-[0-9.]+", number):
            why = (
                "the amount cannot be negative "
                "(a deadline counts forward; a look-back window is still written `3 months`)"
            )
        elif re.fullmatch(r"[0-9]*[./][0-9./]*", number):
            why = (
                "the amount must be a whole number; "
                "use a smaller unit instead of a fraction (e.g. `10 days` rather than `1.5 weeks`)"
            )
        else:
            why = _HOW_TO_WRITE
        raise ValueError(f"`{shown}` is not a duration; {why}")

    if unit is None:
        message = f"`{shown}` is not a duration; {_HOW_TO_WRITE}"
        close = difflib.get_close_matches(unit_text, list(_UNIT_WORDS), n=1, cutoff=0.6)
        if close:
            # Suggest the canonical spelling, so `6 wek` gets `6 weeks`, not `6 week`.
            message += f"; did you mean `{Duration(int(number), _UNIT_WORDS[close[0]])}`?"
        raise ValueError(message)
    amount = int(number) if len(number) <= 9 else _MAX_AMOUNT[unit] + 1
    if amount > _MAX_AMOUNT[unit]:
        raise ValueError(f"`{shown}` is too long for a deadline or window; the longest is "
                         f"{Duration(_MAX_AMOUNT[unit], unit)} (100 years)")
    return Duration(amount, unit)


# A century is far beyond any framework's deadline, and keeps every date arithmetic in range.
_MAX_AMOUNT = {"days": 36_525, "weeks": 5_218, "months": 1_200, "years": 100, "working_days": 26_000}


@lru_cache(maxsize=512)
def _bank_holidays(region: str, year: int) -> Mapping[date, str]:
    """Bank holidays of one region and year, read-only so the cached value can be shared by threads."""
    found = holidays.UnitedKingdom(subdiv=region, years=year, observed=True)
    return MappingProxyType(dict(found.items()))


def _check_date(d: object, name: str = "date") -> date:
    # datetime is a date subclass but hashes differently, so it would silently miss every holiday.
    if isinstance(d, datetime) or not isinstance(d, date):
        raise TypeError(f"{name} must be a datetime.date, not {type(d).__name__} (use .date() on a datetime)")
    return d


def _out_of_range(start: date, what: str) -> ValueError:
    return ValueError(f"{what} from {start.isoformat()} falls outside the dates Python can represent (years 1-9999)")


@dataclass(frozen=True)
class Calendar:
    """Which days count as working days; frozen and hashable so results are reproducible and cacheable."""

    region: str = "ENG"
    """A ``holidays.UnitedKingdom`` subdivision: ``ENG``, ``WLS``, ``SCT`` or ``NIR`` (full names are accepted)."""
    closures: tuple[date, ...] = ()
    """Extra days the council is closed (e.g. between Christmas and New Year); stored sorted and de-duplicated."""
    count_from: CountFrom = "next_working_day"
    """``next_working_day``: the start day is never counted (day 1 is the next working day).
    ``same_day``: a start day that is itself a working day counts as day 1."""
    _closure_set: frozenset[date] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        region = self.region
        if isinstance(region, str):
            aliases = {k.lower(): v for k, v in holidays.UnitedKingdom.subdivisions_aliases.items()}
            region = aliases.get(region.lower(), region.upper())
        if region not in holidays.UnitedKingdom.subdivisions:
            raise ValueError(
                f"unknown calendar region {self.region!r}; expected one of "
                f"{', '.join(holidays.UnitedKingdom.subdivisions)}"
            )
        if self.count_from not in _COUNT_FROM:
            raise ValueError(f"count_from must be one of {', '.join(_COUNT_FROM)}, not {self.count_from!r}")
        if isinstance(self.closures, (str, bytes)) or not isinstance(self.closures, Iterable):
            raise TypeError("closures must be a tuple of datetime.date")
        closures = tuple(sorted({_check_date(d, "closure") for d in self.closures}))
        object.__setattr__(self, "region", region)
        object.__setattr__(self, "closures", closures)
        object.__setattr__(self, "_closure_set", frozenset(closures))

    def is_working_day(self, d: date) -> bool:
        """Monday to Friday, not a bank holiday (substitute days included) and not a council closure."""
        _check_date(d)
        return d.weekday() < 5 and d not in _bank_holidays(self.region, d.year) and d not in self._closure_set

    def holiday_name(self, d: date) -> str | None:
        """Why a weekday is not a working day, for explaining a deadline; ``None`` if it is not a holiday."""
        _check_date(d)
        name = _bank_holidays(self.region, d.year).get(d)
        if name is not None:
            return name
        return "Council closure" if d in self._closure_set else None

    def add_working_days(self, start: date, n: int) -> date:
        """The date ``n`` working days after (``n < 0``: before) ``start``; ``n == 0`` returns ``start``."""
        _check_date(start, "start")
        if not isinstance(n, int) or isinstance(n, bool):
            raise TypeError(f"n must be an int, not {type(n).__name__}")
        if n == 0:
            return start
        step = timedelta(days=1 if n > 0 else -1)
        remaining = abs(n)
        if self.count_from == "same_day" and self.is_working_day(start):
            remaining -= 1
        closures, region = self._closure_set, self.region
        d, year = start, -1
        hols: Mapping[date, str] = MappingProxyType({})
        try:
            # Whole weeks first: any 7 days in a row hold exactly 5 weekdays, less the bank holidays
            # and closures among them; so 26,000 working days cost a few steps, not 36,000.
            forward = n > 0
            while remaining > 10:
                weeks = (remaining - 5) // 5
                if weeks <= 0:
                    break
                end = d + step * 7 * weeks
                lo, hi = (d, end) if forward else (end, d)
                # the days passed are (d, end] going forward, [end, d) going back
                inside = (lambda x: lo < x <= hi) if forward else (lambda x: lo <= x < hi)
                days_off = {h for y in range(lo.year, hi.year + 1) for h in _bank_holidays(region, y)}
                days_off |= closures
                blocked = sum(1 for h in days_off if inside(h) and h.weekday() < 5)
                remaining -= 5 * weeks - blocked
                d = end
            while remaining:
                d += step
                if d.weekday() >= 5:
                    continue
                if d.year != year:
                    year, hols = d.year, _bank_holidays(region, d.year)
                if d in hols or d in closures:
                    continue
                remaining -= 1
        except OverflowError:
            raise _out_of_range(start, f"{n} working days") from None
        return d

    @property
    def description(self) -> str:
        """How working days were decided, with the ``holidays`` version, for audit trails and reports."""
        text = f"{_REGION_NAMES.get(self.region, self.region)} bank holidays"
        if self.closures:
            k = len(self.closures)
            text += f" plus {k} council closure day{'s' if k != 1 else ''}"
        if self.count_from == "same_day":
            text += ", counting a working start day as day 1"
        return f"{text} (holidays {holidays.__version__})"


DEFAULT_CALENDAR = Calendar()


def _add_months(d: date, months: int) -> date:
    # Clamp to the month's last day: 31 Jan + 1 month is 28/29 Feb, as people and courts read it.
    index = d.year * 12 + (d.month - 1) + months
    year, month0 = divmod(index, 12)
    if not 1 <= year <= 9999:
        raise _out_of_range(d, f"{months:+d} months")
    month = month0 + 1
    return date(year, month, min(d.day, _calendar.monthrange(year, month)[1]))


@lru_cache(maxsize=8192)
def _shift(d: date, duration: Duration, sign: int, cal: Calendar) -> date:
    """One date arithmetic, cached: a pack that counts 4,000 working-day windows from one as-of date
    walks the calendar once (inputs are all frozen and hashable; lru_cache is thread-safe)."""
    return _shift_uncached(d, duration, sign, cal)


def _shift_uncached(d: date, duration: Duration, sign: int, cal: Calendar) -> date:
    _check_date(d)
    if not isinstance(duration, Duration):
        raise TypeError(f"duration must be a Duration (see parse_duration), not {type(duration).__name__}")
    if not isinstance(cal, Calendar):
        raise TypeError(f"calendar must be a Calendar, not {type(cal).__name__}")
    k = sign * duration.amount
    unit = duration.unit
    if unit == "working_days":
        return cal.add_working_days(d, k)
    if unit == "months":
        return _add_months(d, k)
    if unit == "years":
        return _add_months(d, 12 * k)
    days = k * 7 if unit == "weeks" else k
    try:
        return d + timedelta(days=days)
    except OverflowError:
        raise _out_of_range(d, f"{'' if sign > 0 else '-'}{duration}") from None


def add(d: date, duration: Duration, calendar: Calendar = DEFAULT_CALENDAR) -> date:
    """The deadline ``duration`` after ``d``; ``calendar`` matters only for working days."""
    return _shift(d, duration, 1, calendar)


def subtract(d: date, duration: Duration, calendar: Calendar = DEFAULT_CALENDAR) -> date:
    """The date ``duration`` before ``d``; months and years clamp to month end (31 Mar - 1 month = 28 Feb)."""
    return _shift(d, duration, -1, calendar)


def window_start(as_of: date, duration: Duration, calendar: Calendar = DEFAULT_CALENDAR) -> date:
    """First day inside the look-back window ``duration`` ending on ``as_of`` (inclusive at both ends).

    The window is ``(subtract(as_of, duration), as_of]``: an event dated exactly
    ``subtract(as_of, duration)`` is outside, the day after is the first day inside. So
    "3 months" as of 2026-03-31 is 2026-01-01..2026-03-31, and "10 working days" holds
    exactly 10 working days ending on ``as_of`` (when ``as_of`` is itself a working day).
    A zero duration gives an empty window: the start is the day after ``as_of``.
    """
    start = subtract(as_of, duration, calendar)
    return start + timedelta(days=1)
