"""The observers' calendar: local days in the configured zone, months and coverage periods
(half-years for 太湖县, months for 湖滨区), and their names and claim keys."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

from handlers.common.dates import fmt_period, half_of, period_bounds
from handlers.observers import strings
from handlers.observers.forms import CoveragePeriod, ObserversConfig


def local_day(moment: datetime, cfg: ObserversConfig) -> date:
    return moment.astimezone(cfg.tz).date()


def day_start_utc(day: date, cfg: ObserversConfig) -> datetime:
    return datetime.combine(day, time(0), tzinfo=cfg.tz).astimezone(UTC)


def _months(cfg: ObserversConfig) -> int:
    return 1 if cfg.coverage_period == CoveragePeriod.MONTH else 6


def coverage_bounds(day: date, cfg: ObserversConfig) -> tuple[date, date]:
    """[first day, first day of the next period) of the coverage period holding `day`."""
    return period_bounds(day, _months(cfg))


def period_label(cfg: ObserversConfig) -> str:
    return strings.PERIOD_MONTH if cfg.coverage_period == CoveragePeriod.MONTH else strings.PERIOD_HALF_YEAR


def period_key(day: date, cfg: ObserversConfig) -> str:
    """The coverage period holding `day`, as job runs are claimed: 2026-H1, or 2026-05 when monthly."""
    start, _ = coverage_bounds(day, cfg)
    if cfg.coverage_period == CoveragePeriod.MONTH:
        return f"{start:%Y-%m}"
    return f"{start.year}-H{half_of(start)}"


def period_name(day: date, cfg: ObserversConfig) -> str:
    """The coverage period holding `day` in words: 2026年上半年, or 2026年5月."""
    return fmt_period(day, _months(cfg))


_PERIOD_KEY = re.compile(r"^(\d{4})-(?:H([12])|(\d{2}))$")


def period_day(period: str, today: date, cfg: ObserversConfig) -> date:
    """The day a report is made as of: today, or the last day of an ended period named by `period`
    (a run asked for by hand: zhibu run-job observers.coverage_gaps --period 2026-H1)."""
    m = _PERIOD_KEY.match(period or "")
    if not m:
        return today
    try:
        first = date(int(m[1]), 1 if m[2] == "1" else 7 if m[2] else int(m[3]), 1)
    except ValueError:
        return today
    if period_key(first, cfg) != period or first > today:
        return today
    _, end = coverage_bounds(first, cfg)
    return min(today, end - timedelta(days=1))


def periods_in_year(year: int, as_of: date, cfg: ObserversConfig) -> list[tuple[date, date]]:
    """Coverage periods of the year that have ended by `as_of` (or hold it)."""
    out = []
    day = date(year, 1, 1)
    while day.year == year and day <= as_of:
        start, end = coverage_bounds(day, cfg)
        out.append((start, end))
        day = end
    return out
