"""Reading the month a payment is for, the way people write it ("11月", "2026年11月", "2026-11")."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime

from bot.core.errors import Refused
from handlers.common.dates import add_months, months_between
from handlers.fees import strings

_MONTH = re.compile(r"(?:(\d{4})\s*[年\-/.]\s*)?(\d{1,2})\s*(?:月份|月)?")
_SEPARATORS = re.compile(r"[\s、,，;；和及与]+")


def nearest(month_no: int, current: date) -> date:
    """The `month_no` nearest to `current`; on a tie (six months either way) the past one."""
    candidates = [date(current.year + dy, month_no, 1) for dy in (-1, 0, 1)]
    return min(candidates, key=lambda m: (abs(months_between(current, m)), m > current))


def parse_months(text: str, current: date) -> list[date]:
    """Every month named in `text` (first days), in order, without repeats; [] for empty text."""
    text = unicodedata.normalize("NFKC", text or "").strip()
    if not text:
        return []
    found: list[date] = []
    pos = 0
    for m in _MONTH.finditer(text):
        gap = text[pos : m.start()]
        if _SEPARATORS.sub("", gap):
            raise Refused(strings.BAD_MONTH.format(text=text))
        pos = m.end()
        year, month_no = m.group(1), int(m.group(2))
        if not 1 <= month_no <= 12:
            raise Refused(strings.BAD_MONTH.format(text=m.group(0)))
        month = date(int(year), month_no, 1) if year else nearest(month_no, current)
        if month not in found:
            found.append(month)
    if _SEPARATORS.sub("", text[pos:]) or not found:
        raise Refused(strings.BAD_MONTH.format(text=text))
    return found


def parse_month_cell(value, current: date) -> date:
    """An .xlsx 所属月份 cell: a date, or text with a year (a bare "11月" is read as nearest)."""
    if isinstance(value, datetime | date):
        return date(value.year, value.month, 1)
    if isinstance(value, int | float) and not isinstance(value, bool):
        # 202611 typed as a number
        n = int(value)
        if 190001 <= n <= 220012 and 1 <= n % 100 <= 12:
            return date(n // 100, n % 100, 1)
        raise Refused(strings.BAD_MONTH.format(text=value))
    months = parse_months(str(value or ""), current)
    if len(months) != 1:
        raise Refused(strings.BAD_MONTH.format(text=value))
    return months[0]


__all__ = ["add_months", "nearest", "parse_month_cell", "parse_months"]
