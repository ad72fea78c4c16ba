"""The period a ledger covers: a month, a quarter, a half year or a year, as a query value and in words.

Written in a URL as 2026-10 (a month; 2026年10月 too), 2026-Q4, 2026-H2 or 2026. The months are the
calendar's (handlers.common.dates.period_bounds), and a period may not start after the current month.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from handlers.common.dates import add_months, fmt_period, parse_month, period_bounds

_QUARTER = re.compile(r"(\d{4})-?Q([1-4])", re.I)
_HALF = re.compile(r"(\d{4})-?H([12])", re.I)
_YEAR = re.compile(r"(\d{4})年?")

BAD_PERIOD = "期间格式应为 2026（全年）、2026-H1（上半年）、2026-Q4（第四季度）或 2026-10（月份）。"
FUTURE_PERIOD = "这个期间还没有开始，没有可看的数据。"


@dataclass(frozen=True)
class LedgerPeriod:
    start: date  # the first month
    months: int  # 1, 3, 6 or 12

    @property
    def end(self) -> date:
        """The first month after the period."""
        return add_months(self.start, self.months)

    def month_list(self, until: date | None = None) -> list[date]:
        """The period's months, up to and including `until` when given."""
        out = [add_months(self.start, i) for i in range(self.months)]
        return [m for m in out if until is None or m <= until]

    @property
    def key(self) -> str:
        y = self.start.year
        if self.months == 12:
            return str(y)
        if self.months == 6:
            return f"{y}-H{1 if self.start.month <= 6 else 2}"
        if self.months == 3:
            return f"{y}-Q{(self.start.month - 1) // 3 + 1}"
        return f"{y}-{self.start.month:02d}"

    @property
    def label(self) -> str:
        return fmt_period(self.start, self.months)


def parse_period(text: str | None, current_month: date) -> LedgerPeriod:
    """The period named by `text` (empty: the current year). ValueError with a Chinese reason for a
    malformed period or one that starts after `current_month`."""
    text = unicodedata.normalize("NFKC", text or "").strip()
    if not text:
        start, months = date(current_month.year, 1, 1), 12
    elif m := _QUARTER.fullmatch(text):
        start, months = date(int(m[1]), (int(m[2]) - 1) * 3 + 1, 1), 3
    elif m := _HALF.fullmatch(text):
        start, months = date(int(m[1]), 1 if m[2] == "1" else 7, 1), 6
    elif m := _YEAR.fullmatch(text):
        start, months = date(int(m[1]), 1, 1), 12
    elif (month := parse_month(text, current_month)) is not None:
        start, months = month, 1
    else:
        raise ValueError(BAD_PERIOD)
    if not 2000 <= start.year <= 2100:
        raise ValueError(BAD_PERIOD)
    start, _ = period_bounds(start, months)
    if start > current_month:
        raise ValueError(FUTURE_PERIOD)
    return LedgerPeriod(start, months)


def period_choices(current_month: date, years: int = 2) -> list[LedgerPeriod]:
    """What the period switch offers: this year and the last, their halves and quarters, and the
    last twelve months."""
    out: list[LedgerPeriod] = []
    for y in range(current_month.year, current_month.year - years, -1):
        out.append(LedgerPeriod(date(y, 1, 1), 12))
        for h in (7, 1):
            out.append(LedgerPeriod(date(y, h, 1), 6))
        for q in (10, 7, 4, 1):
            out.append(LedgerPeriod(date(y, q, 1), 3))
    out = [p for p in out if p.start <= current_month]
    out.extend(LedgerPeriod(add_months(current_month, -i), 1) for i in range(12))
    return out
