"""Months, periods and dates the way the branches write them: one set of helpers for every feature.

A month is a date on its first day. Periods are the calendar's: a month, a quarter (第N季度), a half
year (上半年/下半年) or a year. The Chinese forms are the ones a secretary writes: 2026年11月,
11月3日, 11月3日（周二）, 11月3日（周二）09:00, 2026年第4季度, 2026年上半年.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, tzinfo
from typing import Literal

WEEKDAYS = "一二三四五六日"
_FULL_MONTH = re.compile(r"(\d{4})\s*[-./年]\s*(\d{1,2})\s*月?")
_SHORT_MONTH = re.compile(r"(\d{1,2})\s*月份?")
_FULL_DAY = re.compile(r"(\d{4})\s*[-./年]\s*(\d{1,2})\s*[-./月]\s*(\d{1,2})\s*[日号]?")
_SHORT_DAY = re.compile(r"(\d{1,2})\s*[-./月]\s*(\d{1,2})\s*[日号]?")


# --- months --------------------------------------------------------------------------------------


def month_start(day: date) -> date:
    return day.replace(day=1)


def add_months(month: date, n: int) -> date:
    """The first day of the month `n` months after the one holding `month` (n may be negative)."""
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def months_between(a: date, b: date) -> int:
    """b - a in whole months (both taken as months)."""
    return (b.year - a.year) * 12 + (b.month - a.month)


def parse_month(text: str, today: date) -> date | None:
    """A month as a secretary types it: 2026-11, 2026.11, 2026/11, 2026年11月 → that month; 11月 or
    11月份 → the latest November not after `today`; None for anything else (full-width digits too)."""
    text = unicodedata.normalize("NFKC", text or "").strip()
    if m := _FULL_MONTH.fullmatch(text):
        year, month = int(m[1]), int(m[2])
    elif m := _SHORT_MONTH.fullmatch(text):
        month = int(m[1])
        year = today.year - (1 <= month <= 12 and date(today.year, month, 1) > today)
    else:
        return None
    return date(year, month, 1) if 1 <= month <= 12 else None


def parse_year(text: str, today: date) -> int | None:
    """A year as typed on a page of the year's work: empty → `today`'s year; a four-digit year from 2000 to
    2100 → that year; None for anything else."""
    text = (text or "").strip()
    if not text:
        return today.year
    if not (text.isdigit() and len(text) == 4 and 2000 <= int(text) <= 2100):
        return None
    return int(text)


# --- days --------------------------------------------------------------------------------------


def parse_day(text: str, today: date, *, short: Literal["past", "this_year", "next"]) -> date | None:
    """A day as a secretary types it: 2026-11-20, 2026.11.20, 2026/11/20, 2026年11月20日 (or 号) → that day;
    a short 11-20 or 11月20日 takes its year by `short`: "past" the latest such day not after `today` (as
    parse_month reads 11月: 12-28 typed on 2 January is last December's), "this_year" `today`'s year,
    "next" the first such day from `today` on. Full-width digits and signs too; None for anything else,
    an impossible day (2026-02-30) included."""
    text = unicodedata.normalize("NFKC", text or "").strip()
    if m := _FULL_DAY.fullmatch(text):
        year, month, day = int(m[1]), int(m[2]), int(m[3])
    elif m := _SHORT_DAY.fullmatch(text):
        month, day = int(m[1]), int(m[2])
        year = today.year
        if short == "past":
            year -= (month, day) > (today.month, today.day)
        elif short == "next":
            year += (month, day) < (today.month, today.day)
    else:
        return None
    try:
        return date(year, month, day)
    except ValueError:
        return None


# --- periods -------------------------------------------------------------------------------------


def period_bounds(day: date, months: int) -> tuple[date, date]:
    """[first day, first day of the next period) of the `months`-long calendar period holding `day`:
    1 a month, 3 a quarter, 6 a half year, 12 a year."""
    if months not in (1, 3, 6, 12):
        raise ValueError(f"no calendar period of {months} months")
    start = date(day.year, (day.month - 1) // months * months + 1, 1)
    return start, add_months(start, months)


def quarter_of(day: date) -> int:
    return (day.month - 1) // 3 + 1


def half_of(day: date) -> int:
    """1 for January to June, 2 for July to December."""
    return 1 if day.month <= 6 else 2


# --- Chinese forms -------------------------------------------------------------------------------


def weekday(day: date) -> str:
    return f"周{WEEKDAYS[day.weekday()]}"


def fmt_month(month: date) -> str:
    """2026年11月"""
    return f"{month.year}年{month.month}月"


def fmt_months(months: list[date]) -> str:
    """2026年1月、3月、4月、2027年1月: the year once, again only where it changes."""
    out, year = [], None
    for m in sorted(months):
        out.append(fmt_month(m) if m.year != year else f"{m.month}月")
        year = m.year
    return "、".join(out)


def fmt_day(day: date) -> str:
    """11月3日"""
    return f"{day.month}月{day.day}日"


def fmt_day_weekday(day: date) -> str:
    """11月3日（周二）"""
    return f"{fmt_day(day)}（{weekday(day)}）"


def fmt_when(moment: datetime, tz: tzinfo) -> str:
    """11月3日（周二）09:00, the moment read in the organisation's zone."""
    local = moment.astimezone(tz)
    return f"{fmt_day_weekday(local.date())}{local:%H:%M}"


def fmt_full_day(day: date) -> str:
    """2026年11月3日"""
    return f"{day.year}年{fmt_day(day)}"


def fmt_quarter(day: date) -> str:
    """2026年第4季度"""
    return f"{day.year}年第{quarter_of(day)}季度"


def fmt_half(day: date) -> str:
    """2026年上半年 / 2026年下半年"""
    return f"{day.year}年{'上' if half_of(day) == 1 else '下'}半年"


def fmt_period(day: date, months: int) -> str:
    """The calendar period of `months` months holding `day`, in words."""
    period_bounds(day, months)  # refuses a length that is no calendar period
    return {1: fmt_month, 3: fmt_quarter, 6: fmt_half, 12: lambda d: f"{d.year}年"}[months](day)
