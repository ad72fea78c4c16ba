"""The 党费交纳日 of a month: pure calendar logic, no database (domain.md §3.3, rule F19).

Working days come from the calendar every deadline shares (models/workcalendar.py): the State
Council holidays and 调休 make-up workdays of the `chinesecalendar` package plus the organisation's
local days. The package covers a fixed range of years (2004–2026 in 1.11.0); for other years the
calendar falls back to "Monday to Friday are workdays" plus the local table, and the fee day says so
(`FeeDay.fallback`), so the caller can warn the administrators.
"""

from __future__ import annotations

import calendar as _calendar
from dataclasses import dataclass
from datetime import date, timedelta

from handlers.common import dates
from handlers.fees import strings
from models.fees import FeeDayRule

# The working-day calendar is the one every deadline uses (models/workcalendar.py); WorkCalendar and
# package_covers stay importable from here for the fee code, the CLI and their tests.
from models.workcalendar import NATIONAL, WorkCalendar, national_holiday_name, package_covers  # noqa: F401

FRIDAY = 4


def rest_reason(cal: WorkCalendar, day: date) -> str:
    """Why a day is not a working day, in Chinese (本地假日 by name, 节日名假期, or 周末休息日)."""
    local = cal.local_day_off(day)
    if local is not None:
        return local or strings.LOCAL_HOLIDAY
    name = national_holiday_name(day)
    if name:
        return strings.HOLIDAY_OF.format(name=name)
    return strings.WEEKEND


@dataclass(frozen=True)
class FeeDay:
    month: date  # first day of the month the fee day belongs to
    day: date
    rule: FeeDayRule
    reason: str = ""  # Chinese; empty when the day is the plain first Friday (or the fixed date)
    overridden: bool = False
    fallback: bool = False  # the holiday package does not cover this year: weekdays only

    @property
    def moved(self) -> bool:
        return bool(self.reason)


def first_friday(year: int, month: int) -> date:
    d = date(year, month, 1)
    return d + timedelta(days=(FRIDAY - d.weekday()) % 7)


def fee_day(
    year: int,
    month: int,
    *,
    rule: FeeDayRule = FeeDayRule.FIRST_WORKING_FRIDAY,
    fixed_day: int | None = None,
    cal: WorkCalendar = NATIONAL,
    override: tuple[date, str] | None = None,
) -> FeeDay:
    """The fee day of (year, month) under `rule`, with the reason in Chinese when it moved."""
    first = date(year, month, 1)
    fallback = not cal.covers(year)
    if override is not None:
        day, why = override
        return FeeDay(
            first,
            day,
            rule,
            strings.REASON_OVERRIDE.format(reason=why or strings.NO_REASON_GIVEN),
            overridden=True,
            fallback=fallback,
        )

    if rule == FeeDayRule.FIXED_DAY:
        wanted = date(year, month, min(fixed_day or 1, _calendar.monthrange(year, month)[1]))
        if cal.is_working_day(wanted):
            return FeeDay(first, wanted, rule, fallback=fallback)
        moved = cal.next_working_day(wanted)
        reason = strings.REASON_POSTPONED.format(
            day=dates.fmt_day(wanted), why=rest_reason(cal, wanted), to=dates.fmt_day_weekday(moved)
        )
        return FeeDay(first, moved, rule, reason, fallback=fallback)

    plain = first_friday(year, month)
    if cal.is_working_day(plain):
        return FeeDay(first, plain, rule, fallback=fallback)
    why = rest_reason(cal, plain)

    if rule == FeeDayRule.FIRST_WORKING_FRIDAY:
        d = plain + timedelta(days=7)
        last = date(year, month, _calendar.monthrange(year, month)[1])
        while d <= last and not cal.is_working_day(d):
            d += timedelta(days=7)
        if d > last:
            # Not one working Friday in the month (only possible with a local table): the month's
            # first workday keeps the fee day inside the month it is for.
            d = cal.next_working_day(first)
            reason = strings.REASON_NO_WORKING_FRIDAY.format(to=dates.fmt_day_weekday(d))
            return FeeDay(first, d, rule, reason, fallback=fallback)
        reason = strings.REASON_NEXT_FRIDAY.format(day=dates.fmt_day(plain), why=why, to=dates.fmt_day(d))
        return FeeDay(first, d, rule, reason, fallback=fallback)

    if rule == FeeDayRule.FIRST_FRIDAY_POSTPONE:
        d = cal.next_working_day(plain)
        reason = strings.REASON_POSTPONED.format(
            day=dates.fmt_day(plain), why=why, to=dates.fmt_day_weekday(d)
        )
        return FeeDay(first, d, rule, reason, fallback=fallback)

    d = cal.previous_working_day(plain)
    reason = strings.REASON_ADVANCED.format(day=dates.fmt_day(plain), why=why, to=dates.fmt_day_weekday(d))
    if d.month != month:
        reason += strings.REASON_PREVIOUS_MONTH
    return FeeDay(first, d, rule, reason, fallback=fallback)
