"""Tests for calendar durations and England working days."""

from __future__ import annotations

import pickle
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import FrozenInstanceError
from datetime import date, datetime, timedelta

import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carepolicy._time import (
    DEFAULT_CALENDAR,
    Calendar,
    Duration,
    add,
    parse_duration,
    subtract,
    window_start,
)

ENG = DEFAULT_CALENDAR


def count_working_days(cal: Calendar, after: date, until: date) -> int:
    """Working days in the half-open range (after, until], counted the slow obvious way."""
    n, d = 0, after
    while d < until:
        d += timedelta(days=1)
        n += cal.is_working_day(d)
    return n


# --- England working days -------------------------------------------------------------------


def test_ten_working_days_over_christmas_2025() -> None:
    # Christmas Thu 25, Boxing Day Fri 26, New Year's Day Thu 1 Jan are skipped.
    assert ENG.add_working_days(date(2025, 12, 19), 10) == date(2026, 1, 7)
    assert add(date(2025, 12, 19), parse_duration("10 working days")) == date(2026, 1, 7)


def test_ten_working_days_over_easter_2026() -> None:
    assert ENG.holiday_name(date(2026, 4, 3)) == "Good Friday"
    assert ENG.holiday_name(date(2026, 4, 6)) == "Easter Monday"
    assert ENG.add_working_days(date(2026, 4, 2), 10) == date(2026, 4, 20)


def test_boxing_day_2026_is_observed_on_monday_28th() -> None:
    assert date(2026, 12, 26).weekday() == 5
    assert not ENG.is_working_day(date(2026, 12, 28))
    assert ENG.holiday_name(date(2026, 12, 28)) == "Boxing Day (observed)"
    assert ENG.is_working_day(date(2026, 12, 29))


@pytest.mark.parametrize(
    ("day", "name_part"),
    [
        (date(2022, 6, 3), "Platinum Jubilee"),
        (date(2022, 9, 19), "State Funeral"),
        (date(2023, 5, 8), "Coronation"),
    ],
)
def test_one_off_bank_holidays_are_not_working_days(day: date, name_part: str) -> None:
    assert day.weekday() < 5
    assert not ENG.is_working_day(day)
    name = ENG.holiday_name(day)
    assert name is not None and name_part in name


def test_weekends_and_ordinary_days() -> None:
    assert ENG.is_working_day(date(2026, 3, 31))  # Tuesday
    assert not ENG.is_working_day(date(2026, 3, 28))  # Saturday
    assert ENG.holiday_name(date(2026, 3, 28)) is None
    assert ENG.holiday_name(date(2026, 3, 31)) is None


def test_working_days_backward() -> None:
    assert ENG.add_working_days(date(2026, 1, 7), -10) == date(2025, 12, 19)
    assert ENG.add_working_days(date(2026, 4, 20), -10) == date(2026, 4, 2)
    assert subtract(date(2026, 4, 7), Duration(1, "working_days")) == date(2026, 4, 2)
    # From a Monday, one working day back is the Friday.
    assert ENG.add_working_days(date(2026, 3, 30), -1) == date(2026, 3, 27)


def test_start_day_is_never_counted_by_default() -> None:
    assert ENG.add_working_days(date(2026, 3, 27), 1) == date(2026, 3, 30)  # Fri -> Mon
    assert ENG.add_working_days(date(2026, 3, 28), 1) == date(2026, 3, 30)  # Sat -> Mon
    assert ENG.add_working_days(date(2026, 3, 28), 0) == date(2026, 3, 28)


def test_count_from_same_day_counts_a_working_start_day() -> None:
    cal = Calendar(count_from="same_day")
    assert cal.add_working_days(date(2026, 3, 30), 1) == date(2026, 3, 30)  # Mon is day 1
    assert cal.add_working_days(date(2026, 3, 30), 5) == date(2026, 4, 7)  # skips Good Fri
    assert cal.add_working_days(date(2026, 3, 28), 1) == date(2026, 3, 30)  # Sat is not a working day
    assert cal.add_working_days(date(2026, 3, 30), -1) == date(2026, 3, 30)
    assert cal.add_working_days(date(2026, 3, 30), -2) == date(2026, 3, 27)
    with pytest.raises(ValueError, match="count_from"):
        Calendar(count_from="tomorrow")  # type: ignore[arg-type]


def test_council_closures() -> None:
    closures = (date(2025, 12, 29), date(2025, 12, 30), date(2025, 12, 31))
    cal = Calendar(closures=closures)
    assert not cal.is_working_day(date(2025, 12, 30))
    assert cal.holiday_name(date(2025, 12, 30)) == "Council closure"
    assert ENG.is_working_day(date(2025, 12, 30))
    assert cal.add_working_days(date(2025, 12, 19), 10) == date(2026, 1, 12)
    assert add(date(2025, 12, 19), Duration(10, "working_days"), cal) == date(2026, 1, 12)
    assert cal.description == f"England bank holidays plus 3 council closure days (holidays {holidays.__version__})"


def test_closures_are_normalised_so_equal_calendars_hash_equal() -> None:
    a = Calendar(closures=(date(2025, 12, 31), date(2025, 12, 29), date(2025, 12, 31)))
    b = Calendar(closures=[date(2025, 12, 29), date(2025, 12, 31)])  # type: ignore[arg-type]
    assert a == b and hash(a) == hash(b)
    assert a.closures == (date(2025, 12, 29), date(2025, 12, 31))
    assert pickle.loads(pickle.dumps(a)) == a
    with pytest.raises(TypeError, match="closure"):
        Calendar(closures=(datetime(2025, 12, 29, 9, 0),))


def test_regions_and_description() -> None:
    assert ENG.description == f"England bank holidays (holidays {holidays.__version__})"
    assert Calendar(region="England") == ENG
    assert Calendar(region="eng") == ENG
    scotland = Calendar(region="SCT")
    assert not scotland.is_working_day(date(2026, 1, 2))  # 2 January is a Scottish bank holiday
    assert ENG.is_working_day(date(2026, 1, 2))
    assert scotland.description.startswith("Scotland bank holidays")
    with pytest.raises(ValueError, match="ENG"):
        Calendar(region="FR")


def test_datetimes_are_rejected_rather_than_silently_missing_holidays() -> None:
    with pytest.raises(TypeError, match=r"\.date\(\)"):
        ENG.is_working_day(datetime(2025, 12, 25, 9, 0))
    with pytest.raises(TypeError):
        add(datetime(2025, 12, 25), Duration(1, "days"))


def test_calendar_and_duration_are_frozen_and_hashable() -> None:
    with pytest.raises(FrozenInstanceError):
        ENG.region = "WLS"  # type: ignore[misc]
    with pytest.raises(FrozenInstanceError):
        Duration(6, "weeks").amount = 7  # type: ignore[misc]
    assert len({Duration(6, "weeks"), parse_duration("6 Weeks"), Duration(42, "days")}) == 2
    assert len({ENG, Calendar(), Calendar(region="WLS")}) == 2


def _lines_run(fn, *args):  # type: ignore[no-untyped-def]
    """How many lines of ``fn``'s own body run for one call (a cost measure that does not depend on the machine)."""
    code, count = fn.__code__, 0

    def tracer(frame, event, arg):  # type: ignore[no-untyped-def]
        nonlocal count
        if frame.f_code is code:
            if event == "line":
                count += 1
            return tracer
        return None

    before = sys.gettrace()
    sys.settrace(tracer)
    try:
        fn(*args)
    finally:
        sys.settrace(before)
    return count


def test_working_day_addition_skips_whole_weeks() -> None:
    """Adding n working days costs a few steps per year of holidays, not one per day: the whole-week
    jump must hold (a day-by-day walk over 26,000 working days runs over 100,000 lines)."""
    short = _lines_run(ENG.add_working_days.__func__, ENG, date(2025, 6, 1), 300)  # type: ignore[attr-defined]
    long = _lines_run(ENG.add_working_days.__func__, ENG, date(2025, 6, 1), 26_000)  # type: ignore[attr-defined]
    assert short < 400 and long < 1_000, (short, long)
    assert ENG.add_working_days(date(2025, 6, 1), 26_000) == _day_by_day(ENG, date(2025, 6, 1), 26_000)


def test_thread_safe() -> None:
    starts = [date(2020, 1, 1) + timedelta(days=i) for i in range(400)]
    expected = [ENG.add_working_days(s, 60) for s in starts]
    with ThreadPoolExecutor(max_workers=8) as pool:
        got = list(pool.map(lambda s: Calendar().add_working_days(s, 60), starts))
    assert got == expected


# --- calendar arithmetic --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "text", "expected"),
    [
        (date(2025, 1, 31), "1 month", date(2025, 2, 28)),
        (date(2024, 1, 31), "1 month", date(2024, 2, 29)),
        (date(2024, 2, 29), "1 year", date(2025, 2, 28)),
        (date(2024, 2, 29), "4 years", date(2028, 2, 29)),
        (date(2025, 8, 31), "6 months", date(2026, 2, 28)),
        (date(2027, 8, 31), "6 months", date(2028, 2, 29)),
        (date(2025, 10, 31), "1 month", date(2025, 11, 30)),
        (date(2025, 11, 15), "3 months", date(2026, 2, 15)),
        (date(2025, 12, 19), "28 days", date(2026, 1, 16)),
        (date(2025, 12, 19), "6 weeks", date(2026, 1, 30)),
        (date(2024, 2, 28), "1 day", date(2024, 2, 29)),
        (date(2025, 2, 28), "1 day", date(2025, 3, 1)),
        (date(2025, 3, 15), "0 months", date(2025, 3, 15)),
    ],
)
def test_add(start: date, text: str, expected: date) -> None:
    assert add(start, parse_duration(text)) == expected


@pytest.mark.parametrize(
    ("start", "text", "expected"),
    [
        (date(2026, 3, 31), "1 month", date(2026, 2, 28)),
        (date(2024, 3, 31), "1 month", date(2024, 2, 29)),
        (date(2026, 3, 31), "3 months", date(2025, 12, 31)),
        (date(2028, 2, 29), "1 year", date(2027, 2, 28)),
        (date(2026, 1, 16), "28 days", date(2025, 12, 19)),
        (date(2026, 1, 10), "2 weeks", date(2025, 12, 27)),
    ],
)
def test_subtract(start: date, text: str, expected: date) -> None:
    assert subtract(start, parse_duration(text)) == expected


def test_window_start_convention() -> None:
    as_of = date(2026, 3, 31)
    three_months = Duration(3, "months")
    assert window_start(as_of, three_months) == date(2026, 1, 1)
    # An event dated exactly subtract(as_of, duration) is outside; the next day is inside.
    assert subtract(as_of, three_months) == date(2025, 12, 31)
    assert window_start(as_of, Duration(28, "days")) == date(2026, 3, 4)
    assert window_start(as_of, Duration(1, "months")) == date(2026, 3, 1)
    # A zero window is empty: it starts the day after as_of.
    assert window_start(as_of, Duration(0, "days")) == date(2026, 4, 1)


def test_window_start_working_days_holds_exactly_n_working_days() -> None:
    as_of = date(2026, 1, 7)
    start = window_start(as_of, Duration(10, "working_days"))
    assert start == date(2025, 12, 20)  # the day after Fri 19 Dec
    assert count_working_days(ENG, start - timedelta(days=1), as_of) == 10


def test_out_of_range_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="outside the dates"):
        add(date(9999, 6, 1), Duration(1, "years"))
    with pytest.raises(ValueError, match="outside the dates"):
        add(date(9999, 12, 1), Duration(10, "weeks"))
    with pytest.raises(ValueError, match="outside the dates"):
        subtract(date(1, 1, 3), Duration(5, "working_days"))


# --- parsing and printing -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("6 weeks", Duration(6, "weeks")),
        ("1 week", Duration(1, "weeks")),
        ("6 months", Duration(6, "months")),
        ("1 month", Duration(1, "months")),
        ("28 days", Duration(28, "days")),
        ("1 day", Duration(1, "days")),
        ("2 years", Duration(2, "years")),
        ("1 year", Duration(1, "years")),
        ("10 working days", Duration(10, "working_days")),
        ("1 working day", Duration(1, "working_days")),
        ("5 business days", Duration(5, "working_days")),
        ("1 Business Day", Duration(1, "working_days")),
        ("  10   WORKING   Days ", Duration(10, "working_days")),
        ("10 working-days", Duration(10, "working_days")),
        ("28 calendar days", Duration(28, "days")),
        ("0 days", Duration(0, "days")),
        ("6weeks", Duration(6, "weeks")),
        ("007 days", Duration(7, "days")),
    ],
)
def test_parse_duration(text: str, expected: Duration) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        (
            "6 wekks",
            [
                "`6 wekks` is not a duration",
                "days, weeks, months, years or working days",
                "(e.g. `6 weeks`, `10 working days`)",
                "did you mean `6 weeks`?",
            ],
        ),
        ("3 mnths", ["did you mean `3 months`?"]),
        ("6 wek", ["did you mean `6 weeks`?"]),
        ("1 wekk", ["did you mean `1 week`?"]),
        ("5 buisness days", ["did you mean `5 working days`?"]),
        ("10 wrking days", ["did you mean `10 working days`?"]),
        ("1.5 weeks", ["whole number", "smaller unit"]),
        ("-3 weeks", ["cannot be negative"]),
        ("six weeks", ["in digits"]),
        ("6", ["write a whole number and a unit"]),
        ("weeks", ["write a whole number and a unit"]),
        ("", ["is not a duration"]),
        ("6 fortnights", ["write a whole number and a unit"]),
        ("\u0666 weeks", ["is not a duration"]),  # Arabic-Indic six: digits must be ASCII
    ],
)
def test_parse_duration_errors_teach(text: str, fragments: list[str]) -> None:
    with pytest.raises(ValueError) as info:
        parse_duration(text)
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message
    assert "(e.g. `6 weeks`, `10 working days`)" in message or "whole number" in message or "negative" in message


def test_parse_duration_no_suggestion_when_nothing_is_close() -> None:
    with pytest.raises(ValueError) as info:
        parse_duration("6 hours")
    assert "did you mean" not in str(info.value)


def test_parse_duration_rejects_non_text() -> None:
    with pytest.raises(TypeError):
        parse_duration(6)  # type: ignore[arg-type]


def test_duration_validates() -> None:
    with pytest.raises(ValueError, match="subtract"):
        Duration(-1, "days")
    with pytest.raises(ValueError, match="unit"):
        Duration(1, "fortnights")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Duration(1.5, "days")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Duration(True, "days")


@pytest.mark.parametrize(
    ("duration", "text"),
    [
        (Duration(6, "weeks"), "6 weeks"),
        (Duration(1, "weeks"), "1 week"),
        (Duration(1, "months"), "1 month"),
        (Duration(6, "months"), "6 months"),
        (Duration(1, "days"), "1 day"),
        (Duration(0, "days"), "0 days"),
        (Duration(2, "years"), "2 years"),
        (Duration(1, "years"), "1 year"),
        (Duration(10, "working_days"), "10 working days"),
        (Duration(1, "working_days"), "1 working day"),
    ],
)
def test_str_is_canonical_and_round_trips(duration: Duration, text: str) -> None:
    assert str(duration) == text
    assert parse_duration(text) == duration
    assert str(parse_duration("5 Business Days")) == "5 working days"


# --- properties -----------------------------------------------------------------------------

dates = st.dates(min_value=date(1990, 1, 1), max_value=date(2060, 12, 31))
calendar_durations = st.builds(
    Duration, st.integers(min_value=0, max_value=400), st.sampled_from(["days", "weeks", "months", "years"])
)


@settings(max_examples=300, deadline=None)
@given(d=dates, duration=calendar_durations)
def test_subtract_undoes_add_at_most_back_to_start(d: date, duration: Duration) -> None:
    assert subtract(add(d, duration), duration) <= d
    assert add(subtract(d, duration), duration) <= d


@settings(max_examples=300, deadline=None)
@given(d1=dates, d2=dates, duration=calendar_durations)
def test_add_is_monotone(d1: date, d2: date, duration: Duration) -> None:
    d1, d2 = min(d1, d2), max(d1, d2)
    assert add(d1, duration) <= add(d2, duration)
    assert subtract(d1, duration) <= subtract(d2, duration)


@settings(max_examples=200, deadline=None)
@given(d=dates, n=st.integers(min_value=1, max_value=300))
def test_working_days_forward_counts_exactly_n(d: date, n: int) -> None:
    result = ENG.add_working_days(d, n)
    assert ENG.is_working_day(result)
    assert count_working_days(ENG, d, result) == n


@settings(max_examples=200, deadline=None)
@given(d=dates, n=st.integers(min_value=1, max_value=300))
def test_working_days_backward_counts_exactly_n(d: date, n: int) -> None:
    result = ENG.add_working_days(d, -n)
    assert ENG.is_working_day(result)
    # The n working days strictly before d are result and the n-1 between it and d.
    assert count_working_days(ENG, result - timedelta(days=1), d - timedelta(days=1)) == n


@settings(max_examples=200, deadline=None)
@given(d=dates, n=st.integers(min_value=1, max_value=60))
def test_working_days_back_and_forth_from_a_working_day(d: date, n: int) -> None:
    if ENG.is_working_day(d):
        assert ENG.add_working_days(ENG.add_working_days(d, n), -n) == d


def _day_by_day(cal: Calendar, start: date, n: int) -> date:
    """The plain reading of `n working days`: step one day at a time."""
    step = 1 if n > 0 else -1
    remaining, d = abs(n), start
    if cal.count_from == "same_day" and cal.is_working_day(start):
        remaining -= 1
    while remaining:
        d += timedelta(days=step)
        if cal.is_working_day(d):
            remaining -= 1
    return d


def test_working_days_by_whole_weeks_agree_with_stepping_day_by_day() -> None:
    import random

    rng = random.Random(7)
    calendars = [Calendar(), Calendar(region="SCT"), Calendar(count_from="same_day"),
                 Calendar(closures=(date(2026, 12, 29), date(2026, 12, 30), date(2026, 12, 25), date(2027, 12, 29)))]
    for _ in range(1500):
        cal = rng.choice(calendars)
        start = date(2020, 1, 1) + timedelta(days=rng.randint(0, 4000))
        n = rng.choice([rng.randint(-15, 15), rng.randint(-400, 400), rng.randint(-3000, 3000)]) or 1
        assert cal.add_working_days(start, n) == _day_by_day(cal, start, n), (cal, start, n)
