"""The start month: the organisation's first month of use (`zhibu golive`, issue #18 item 3).

No score, digest, ladder step or fee arrears is computed or sent for a month before it, and the
自行脱党 and arrears runs start counting at it. It is one row of org_setting (key "start_month",
value "YYYY-MM"); by default the first roster import sets it to the month after the import (the
month of the import is partial: people were being added while it ran).

With no start month at all, nothing monthly runs: the scheduler's catch-up on a fresh install must
not score a month in which nobody used the system. Plain functions over a Session; none commits.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from models.jobs import PeriodNotOpen
from models.monthly import MonthlyScore
from models.org import OrgSetting, Person

KEY = "start_month"


def _fmt(month: date) -> str:
    return f"{month.year}年{month.month}月"


class BeforeStartMonth(PeriodNotOpen):
    """A monthly run asked for a month before the start month (or with none set). The message is
    the reason in Chinese, for the operator; the scheduler skips the period without claiming it."""

    def __init__(self, month: date, start: date | None, *, has_people: bool) -> None:
        self.month, self.start = month, start
        if start is not None:
            text = (
                f"{_fmt(month)}早于支部助手的启用月份{_fmt(start)}：启用前的月份不计算月积分，"
                "不发月度通报、落后约谈提醒和欠缴党费提示。"
                f"如果确实从{_fmt(month)}起就在使用，请先运行 zhibu golive {month:%Y-%m} --force 把启用月份改早。"
            )
        elif has_people:
            text = (
                "还没有设置支部助手的启用月份（花名册是在有这项设置之前导入的），所以不计算任何月份的月积分，"
                "不发月度通报、落后约谈提醒和欠缴党费提示。请运行 zhibu golive YYYY-MM 指定第一个完整使用的月份。"
            )
        else:
            text = (
                "还没有导入花名册，也没有设置启用月份，所以不计算任何月份的月积分，不发月度通报、"
                "落后约谈提醒和欠缴党费提示。导入花名册后会自动把下个月设为启用月份；"
                "也可以运行 zhibu golive YYYY-MM 指定。"
            )
        super().__init__(text)


def month_after(day: date) -> date:
    """The default start month for a roster first imported on `day` (local): the next month."""
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def parse(value: str) -> date:
    """ "2027-01" → 2027-01-01; ValueError (Chinese) otherwise."""
    try:
        year, month = (int(p) for p in value.strip().split("-"))
        return date(year, month, 1)
    except (ValueError, TypeError):
        raise ValueError(f"启用月份应写成 2027-01 这样的年-月，收到的是“{value}”。") from None


def start_month(session: Session) -> date | None:
    value = session.scalar(select(OrgSetting.value).where(OrgSetting.key == KEY))
    return parse(value) if value else None


def set_start_month(session: Session, month: date) -> None:
    """Store `month` (its first day) as the start month, replacing any other."""
    row = session.get(OrgSetting, KEY)
    value = f"{month:%Y-%m}"
    if row is None:
        session.add(OrgSetting(key=KEY, value=value))
    elif row.value != value:
        row.value = value
    session.flush()


def set_default_on_import(session: Session, today: date) -> date | None:
    """The first roster import's default: when no start month is set, the month after `today` (the
    import's local date) becomes it. Returns the month set, or None when one was set already."""
    if start_month(session) is not None:
        return None
    month = month_after(today)
    set_start_month(session, month)
    return month


def require_started(session: Session, month: date) -> date:
    """The start month, when `month` is at or after it; raises BeforeStartMonth otherwise (also when
    no start month is set: then nothing monthly runs)."""
    start = start_month(session)
    if start is None or month < start:
        has_people = session.scalar(select(exists().where(Person.id.is_not(None))))
        raise BeforeStartMonth(month, start, has_people=bool(has_people))
    return start


def scored_months(session: Session) -> bool:
    """Whether any month has been scored (a start month moved earlier then needs --force)."""
    return bool(session.scalar(select(exists().where(MonthlyScore.id.is_not(None)))))
