"""The 党费交纳日 of a month: pure calendar logic, no database (domain.md §3.3, rule F19).

The national calendar (State Council holidays and 调休 make-up workdays) comes from the
`chinesecalendar` package, which covers a fixed range of years (2004–2026 in 1.11.0) and raises
NotImplementedError outside it. For such a year the calendar falls back to "Monday to Friday are
workdays" plus the organisation's own tables, and says so (`FeeDay.fallback`), so the caller can
warn the administrators.
"""

from __future__ import annotations

import calendar as _calendar
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache

import chinese_calendar

from handlers.fees import strings
from models.fees import FeeDayRule

FRIDAY = 4


@lru_cache(maxsize=64)
def package_covers(year: int) -> bool:
    """Whether the installed holiday package has data for `year`."""
    try:
        chinese_calendar.is_workday(date(year, 1, 1))
    except NotImplementedError:
        return False
    return True


def _national_holiday_name(day: date) -> str:
    if not package_covers(day.year):
        return ""
    is_off, name = chinese_calendar.get_holiday_detail(day)
    if not is_off or not name:
        return ""
    try:
        return chinese_calendar.Holiday(name).chinese
    except ValueError:
        return name


@dataclass(frozen=True)
class WorkCalendar:
    """The national calendar plus one organisation's local days off and local make-up workdays."""

    local_days_off: dict[date, str] = field(default_factory=dict)  # date -> name
    local_workdays: frozenset[date] = frozenset()

    def __hash__(self) -> int:  # dict fields: hash by identity is enough for lru-free use
        return id(self)

    def is_workday(self, day: date) -> bool:
        if day in self.local_days_off:
            return False
        if day in self.local_workdays:
            return True
        if package_covers(day.year):
            return chinese_calendar.is_workday(day)
        return day.weekday() < 5

    def covers(self, year: int) -> bool:
        return package_covers(year)

    def rest_reason(self, day: date) -> str:
        """Why a day is not a workday, in Chinese (节日名, 本地假日, or 周末)."""
        if day in self.local_days_off:
            return self.local_days_off[day] or strings.LOCAL_HOLIDAY
        name = _national_holiday_name(day)
        if name:
            return strings.HOLIDAY_OF.format(name=name)
        return strings.WEEKEND

    def next_workday(self, day: date, *, include: bool = True) -> date:
        d = day if include else day + timedelta(days=1)
        for _ in range(366):
            if self.is_workday(d):
                return d
            d += timedelta(days=1)
        raise ValueError(f"no workday within a year after {day}")

    def previous_workday(self, day: date) -> date:
        d = day
        for _ in range(366):
            if self.is_workday(d):
                return d
            d -= timedelta(days=1)
        raise ValueError(f"no workday within a year before {day}")


NATIONAL = WorkCalendar()


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


def month_start(day: date) -> date:
    return day.replace(day=1)


def add_months(month: date, n: int) -> date:
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def months_between(a: date, b: date) -> int:
    """b - a in whole months (both taken as months)."""
    return (b.year - a.year) * 12 + (b.month - a.month)


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
        if cal.is_workday(wanted):
            return FeeDay(first, wanted, rule, fallback=fallback)
        moved = cal.next_workday(wanted)
        reason = strings.REASON_POSTPONED.format(
            day=strings.md(wanted), why=cal.rest_reason(wanted), to=strings.md_w(moved)
        )
        return FeeDay(first, moved, rule, reason, fallback=fallback)

    plain = first_friday(year, month)
    if cal.is_workday(plain):
        return FeeDay(first, plain, rule, fallback=fallback)
    why = cal.rest_reason(plain)

    if rule == FeeDayRule.FIRST_WORKING_FRIDAY:
        d = plain + timedelta(days=7)
        last = date(year, month, _calendar.monthrange(year, month)[1])
        while d <= last and not cal.is_workday(d):
            d += timedelta(days=7)
        if d > last:
            # Not one working Friday in the month (only possible with a local table): the month's
            # first workday keeps the fee day inside the month it is for.
            d = cal.next_workday(first)
            reason = strings.REASON_NO_WORKING_FRIDAY.format(to=strings.md_w(d))
            return FeeDay(first, d, rule, reason, fallback=fallback)
        reason = strings.REASON_NEXT_FRIDAY.format(day=strings.md(plain), why=why, to=strings.md(d))
        return FeeDay(first, d, rule, reason, fallback=fallback)

    if rule == FeeDayRule.FIRST_FRIDAY_POSTPONE:
        d = cal.next_workday(plain)
        reason = strings.REASON_POSTPONED.format(day=strings.md(plain), why=why, to=strings.md_w(d))
        return FeeDay(first, d, rule, reason, fallback=fallback)

    d = cal.previous_workday(plain)
    reason = strings.REASON_ADVANCED.format(day=strings.md(plain), why=why, to=strings.md_w(d))
    if d.month != month:
        reason += strings.REASON_PREVIOUS_MONTH
    return FeeDay(first, d, rule, reason, fallback=fallback)
