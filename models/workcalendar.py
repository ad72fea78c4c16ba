"""The one working-day calendar every deadline uses: the 党费交纳日, the minutes deadline, 补学 and plan
deadlines (issue #14 point 6; domain.md §3.3, §3.4, rules D12, F19, G21).

A day is a working day by, in this order:
1. the organisation's local table (`LocalHoliday`, kept by the fee feature: local days off such as an
   autonomous prefecture's founding day, and local make-up working days), inherited down the tree,
   a nearer unit's entry for the same day winning;
2. the State Council calendar with its 调休 make-up working days (the `chinesecalendar` package);
3. for years the package does not cover (it raises NotImplementedError), Monday to Friday.

Pure date arithmetic on `WorkCalendar`; the loaders read the local table for a unit's path. Dates are
local (Asia/Shanghai) calendar days: callers turn instants into days first.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache

import chinese_calendar
from sqlalchemy import select
from sqlalchemy.orm import Session

from models.fees import LocalHoliday
from models.org import OrgUnit

log = logging.getLogger(__name__)

# No stretch of a year without a working day exists; past this the tables are wrong, so say so.
_SEARCH_LIMIT = 366


@lru_cache(maxsize=256)
def package_covers(year: int) -> bool:
    """Whether the installed holiday package has data for `year`."""
    try:
        chinese_calendar.is_workday(date(year, 1, 1))
    except NotImplementedError:
        return False
    return True


@lru_cache(maxsize=64)
def _note_uncovered(year: int) -> None:
    # Once per process and year; the fee feature also records it in fee_calendar_warning for the admins.
    log.warning(
        "chinesecalendar has no data for %s: working days are Monday to Friday plus the local table", year
    )


def national_holiday_name(day: date) -> str:
    """The Chinese name of the national holiday `day` is off for (国庆节 …), or ""."""
    if not package_covers(day.year):
        return ""
    is_off, name = chinese_calendar.get_holiday_detail(day)
    if not is_off or not name:
        return ""
    try:
        return chinese_calendar.Holiday(name).chinese
    except ValueError:
        return name


def _nationally_working(day: date) -> bool:
    if package_covers(day.year):
        return chinese_calendar.is_workday(day)
    _note_uncovered(day.year)
    return day.weekday() < 5


@dataclass(frozen=True)
class WorkCalendar:
    """The national calendar plus one organisation's local days off and local make-up working days."""

    local_days_off: Mapping[date, str] = field(default_factory=dict)  # date -> name ("" if unnamed)
    local_workdays: frozenset[date] = frozenset()

    def __hash__(self) -> int:  # a dict field: identity is all a cache key ever needs
        return id(self)

    def is_working_day(self, day: date) -> bool:
        if day in self.local_days_off:
            return False
        if day in self.local_workdays:
            return True
        return _nationally_working(day)

    def covers(self, year: int) -> bool:
        """Whether the national part of the calendar is known for `year` (else weekdays are assumed)."""
        return package_covers(year)

    def local_day_off(self, day: date) -> str | None:
        """The local table's name for a local day off ("" if unnamed); None when it is not one."""
        return self.local_days_off.get(day)

    def next_working_day(self, day: date, *, include: bool = True) -> date:
        """`day` itself when it is a working day (include=True), else the first working day after it."""
        d = day if include else day + timedelta(days=1)
        for _ in range(_SEARCH_LIMIT):
            if self.is_working_day(d):
                return d
            d += timedelta(days=1)
        raise ValueError(f"no working day within a year after {day}")

    def previous_working_day(self, day: date, *, include: bool = True) -> date:
        d = day if include else day - timedelta(days=1)
        for _ in range(_SEARCH_LIMIT):
            if self.is_working_day(d):
                return d
            d -= timedelta(days=1)
        raise ValueError(f"no working day within a year before {day}")

    def add_working_days(self, day: date, n: int) -> date:
        """The n-th working day after `day`, `day` not counted ("within 3 working days of the meeting":
        a meeting on Wed 2026-09-30 gives Sat 10-10, a 调休 working day after 国庆)."""
        for _ in range(n):
            day = self.next_working_day(day, include=False)
        return day


NATIONAL = WorkCalendar()


def is_working_day(day: date, cal: WorkCalendar = NATIONAL) -> bool:
    return cal.is_working_day(day)


def add_working_days(day: date, n: int, cal: WorkCalendar = NATIONAL) -> date:
    return cal.add_working_days(day, n)


def next_working_day(day: date, cal: WorkCalendar = NATIONAL, *, include: bool = True) -> date:
    return cal.next_working_day(day, include=include)


def previous_working_day(day: date, cal: WorkCalendar = NATIONAL, *, include: bool = True) -> date:
    return cal.previous_working_day(day, include=include)


def merge_local_days(path_ids: Iterable[int], by_unit: Mapping[int, Iterable[LocalHoliday]]) -> WorkCalendar:
    """The calendar of the unit at the end of `path_ids` (root first): every ancestor's local days,
    a nearer unit's entry for the same day replacing a farther one's."""
    off: dict[date, str] = {}
    on: set[date] = set()
    for uid in path_ids:
        for h in by_unit.get(uid, ()):
            off.pop(h.day, None)
            on.discard(h.day)
            if h.is_workday:
                on.add(h.day)
            else:
                off[h.day] = h.name or ""
    if not off and not on:
        return NATIONAL
    return WorkCalendar(local_days_off=off, local_workdays=frozenset(on))


class CalendarBook:
    """Calendars for many units from one read of the local table (a reminder job over a county)."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._by_unit: dict[int, list[LocalHoliday]] = defaultdict(list)
        for h in session.scalars(select(LocalHoliday)):
            self._by_unit[h.org_unit_id].append(h)
        self._paths: dict[int, list[int]] = {}
        self._cache: dict[tuple[int, ...], WorkCalendar] = {}

    def for_path(self, path_ids: Iterable[int]) -> WorkCalendar:
        key = tuple(uid for uid in path_ids if uid in self._by_unit)
        if not key:
            return NATIONAL
        if key not in self._cache:
            self._cache[key] = merge_local_days(key, self._by_unit)
        return self._cache[key]

    def for_unit(self, unit: OrgUnit | int | None) -> WorkCalendar:
        if unit is None or not self._by_unit:
            return NATIONAL
        if isinstance(unit, int):
            if unit not in self._paths:
                found = self._session.get(OrgUnit, unit)
                self._paths[unit] = found.ancestor_ids() if found is not None else []
            return self.for_path(self._paths[unit])
        return self.for_path(unit.ancestor_ids())


def calendar_for_unit(session: Session, unit: OrgUnit | int | None) -> WorkCalendar:
    """The working-day calendar of one unit (a branch: its own, its committee's, the county's local days)."""
    if unit is None:
        return NATIONAL
    if isinstance(unit, int):
        unit = session.get(OrgUnit, unit)
        if unit is None:
            return NATIONAL
    ids = unit.ancestor_ids()
    rows: dict[int, list[LocalHoliday]] = defaultdict(list)
    for h in session.scalars(select(LocalHoliday).where(LocalHoliday.org_unit_id.in_(ids))):
        rows[h.org_unit_id].append(h)
    return merge_local_days(ids, rows) if rows else NATIONAL
