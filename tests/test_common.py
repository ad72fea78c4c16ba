"""The shared domain toolkit (handlers.common): months, periods and Chinese dates."""

from __future__ import annotations

from datetime import date

import pytest

from handlers.common import dates


def test_months_cross_years_both_ways():
    assert dates.add_months(date(2026, 11, 17), 2) == date(2027, 1, 1)
    assert dates.add_months(date(2026, 1, 31), -1) == date(2025, 12, 1)
    assert dates.add_months(date(2026, 3, 1), -27) == date(2023, 12, 1)
    assert dates.months_between(date(2025, 12, 1), date(2026, 2, 28)) == 2
    assert dates.months_between(date(2026, 2, 1), date(2025, 12, 1)) == -2


@pytest.mark.parametrize(
    ("day", "months", "bounds", "name"),
    [
        (date(2026, 11, 3), 1, (date(2026, 11, 1), date(2026, 12, 1)), "2026年11月"),
        (date(2026, 11, 3), 3, (date(2026, 10, 1), date(2027, 1, 1)), "2026年第4季度"),
        (date(2026, 3, 31), 3, (date(2026, 1, 1), date(2026, 4, 1)), "2026年第1季度"),
        (date(2026, 6, 30), 6, (date(2026, 1, 1), date(2026, 7, 1)), "2026年上半年"),
        (date(2026, 7, 1), 6, (date(2026, 7, 1), date(2027, 1, 1)), "2026年下半年"),
        (date(2026, 12, 31), 12, (date(2026, 1, 1), date(2027, 1, 1)), "2026年"),
    ],
)
def test_periods_and_their_names(day, months, bounds, name):
    assert dates.period_bounds(day, months) == bounds
    assert dates.fmt_period(day, months) == name


def test_a_length_that_is_no_calendar_period_is_refused():
    with pytest.raises(ValueError):
        dates.period_bounds(date(2026, 1, 1), 4)
    with pytest.raises(ValueError):
        dates.fmt_period(date(2026, 1, 1), 2)


def test_chinese_forms():
    day = date(2026, 11, 3)  # a Tuesday
    assert dates.fmt_month(day) == "2026年11月"
    assert dates.fmt_day(day) == "11月3日"
    assert dates.fmt_day_weekday(day) == "11月3日（周二）"
    assert dates.fmt_day_weekday(date(2026, 11, 8)) == "11月8日（周日）"
    assert dates.fmt_full_day(day) == "2026年11月3日"
    assert (
        dates.fmt_months([date(2027, 1, 1), date(2026, 3, 1), date(2026, 1, 1)])
        == "2026年1月、3月、2027年1月"
    )
