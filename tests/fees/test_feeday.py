"""Fee days against domain.md §3.3's table, the edge cases, and the fallback for uncovered years."""

from __future__ import annotations

import logging
from datetime import date

import pytest
from sqlalchemy import func, select

from handlers.fees.feeday import WorkCalendar, fee_day, first_friday, package_covers
from handlers.fees.policy import fee_days_of_year
from models.fees import FeeCalendarWarning, FeeDayOverride, FeeDayRule, FeePolicy, LocalHoliday
from models.org import UnitKind
from tests import builders

C = FeeDayRule.FIRST_WORKING_FRIDAY
D = FeeDayRule.FIRST_FRIDAY_POSTPONE
ADV = FeeDayRule.FIRST_FRIDAY_ADVANCE

# domain.md §3.3: the months where the readings differ (C and D columns); every other month of
# 2025 and 2026 is the first calendar Friday under every reading.
TABLE = {
    (2025, 4): (date(2025, 4, 11), date(2025, 4, 7)),
    (2025, 5): (date(2025, 5, 9), date(2025, 5, 6)),
    (2025, 10): (date(2025, 10, 10), date(2025, 10, 9)),
    (2026, 1): (date(2026, 1, 9), date(2026, 1, 4)),
    (2026, 5): (date(2026, 5, 8), date(2026, 5, 6)),
    (2026, 10): (date(2026, 10, 9), date(2026, 10, 8)),
}


@pytest.mark.parametrize("year", [2025, 2026])
@pytest.mark.parametrize("month", range(1, 13))
def test_every_month_of_2025_and_2026_matches_the_table(year, month):
    expected_c, expected_d = TABLE.get((year, month), (first_friday(year, month),) * 2)
    c = fee_day(year, month, rule=C)
    d = fee_day(year, month, rule=D)
    assert c.day == expected_c
    assert d.day == expected_d
    assert c.day.weekday() == 4 and c.day.month == month
    assert c.moved == ((year, month) in TABLE)
    assert not c.fallback


def test_moved_months_say_why_in_chinese():
    assert fee_day(2025, 4).reason == "4月4日为清明假期，改为当月第一个工作日的周五 4月11日"
    assert "国庆节假期" in fee_day(2025, 10).reason
    # 顺延 can land on a 调休 Sunday: January 2026 → Sunday 01-04 (a make-up workday).
    jan = fee_day(2026, 1, rule=D)
    assert jan.day == date(2026, 1, 4) and "周日" in jan.reason


def test_advance_can_cross_into_the_previous_month():
    fd = fee_day(2025, 10, rule=ADV)
    assert fd.day == date(2025, 9, 30)
    assert "上个月" in fd.reason


@pytest.mark.parametrize(
    ("year", "month", "expected"),
    [
        (2025, 11, date(2025, 11, 7)),  # starts on a Saturday
        (2026, 2, date(2026, 2, 6)),  # starts on a Sunday; 春节 is later in the month
        (2026, 3, date(2026, 3, 6)),  # starts on a Sunday
        (2026, 8, date(2026, 8, 7)),  # starts on a Saturday
    ],
)
def test_month_starting_on_a_weekend(year, month, expected):
    assert date(year, month, 1).weekday() in (5, 6)
    for rule in (C, D, ADV):
        assert fee_day(year, month, rule=rule).day == expected


def test_fixed_day_is_clamped_and_postponed_off_rest_days():
    # clamped to Feb 28, a Saturday that is a 调休 make-up workday, so it stays
    feb = fee_day(2026, 2, rule=FeeDayRule.FIXED_DAY, fixed_day=31)
    assert feb.day == date(2026, 2, 28) and not feb.moved
    # April has 30 days
    assert fee_day(2026, 4, rule=FeeDayRule.FIXED_DAY, fixed_day=31).day == date(2026, 4, 30)
    fd = fee_day(2025, 10, rule=FeeDayRule.FIXED_DAY, fixed_day=1)
    assert fd.day == date(2025, 10, 9) and fd.moved
    assert not fee_day(2026, 11, rule=FeeDayRule.FIXED_DAY, fixed_day=10).moved


def test_local_holiday_moves_the_day_and_a_local_workday_counts():
    cal = WorkCalendar(local_days_off={date(2026, 11, 6): "自治州成立纪念日"})
    fd = fee_day(2026, 11, cal=cal)
    assert fd.day == date(2026, 11, 13)
    assert "自治州成立纪念日" in fd.reason
    # a local make-up workday on the national holiday Friday keeps the first Friday
    cal = WorkCalendar(local_workdays=frozenset({date(2025, 10, 3)}))
    assert fee_day(2025, 10, cal=cal).day == date(2025, 10, 3)


def test_uncovered_year_falls_back_to_weekdays():
    assert package_covers(2026) and not package_covers(2027)
    fd = fee_day(2027, 1)
    # 2027-01-01 is a Friday and surely 元旦, but without data the fallback can only see a weekday:
    assert fd.day == date(2027, 1, 1) and fd.fallback


def test_uncovered_year_override_and_warning_once(session, caplog):
    committee = builders.unit(session, "湖滨区委", UnitKind.COMMITTEE)
    branch = builders.unit(session, "第一党支部", UnitKind.BRANCH, committee)
    session.add(
        FeeDayOverride(
            org_unit_id=committee.id, month=date(2027, 1, 1), fee_day=date(2027, 1, 8), reason="元旦放假"
        )
    )
    session.commit()
    with caplog.at_level(logging.WARNING, logger="handlers.fees.policy"):
        days = fee_days_of_year(session, 2027, branch)
        session.commit()
        again = fee_days_of_year(session, 2027, branch)
        session.commit()
    assert days[0].day == date(2027, 1, 8) and days[0].overridden and "元旦放假" in days[0].reason
    assert days[1].day == date(2027, 2, 5) and days[1].fallback
    assert again == days
    # The fee feature's own warning, once (models.workcalendar also logs the gap, once per process).
    warnings = [r for r in caplog.records if r.name == "handlers.fees.policy" and "2027" in r.getMessage()]
    assert len(warnings) == 1
    assert session.scalar(select(func.count()).select_from(FeeCalendarWarning)) == 1
    # a covered year leaves no warning behind
    fee_days_of_year(session, 2026, branch)
    assert session.scalar(select(func.count()).select_from(FeeCalendarWarning)) == 1


def test_policy_is_inherited_from_the_nearest_ancestor(session):
    committee = builders.unit(session, "县委", UnitKind.COMMITTEE)
    general = builders.unit(session, "机关党总支", UnitKind.GENERAL_BRANCH, committee)
    branch = builders.unit(session, "财政局党支部", UnitKind.BRANCH, general)
    other = builders.unit(session, "教育局党支部", UnitKind.BRANCH, committee)
    session.add(FeePolicy(org_unit_id=committee.id, fee_day_rule=FeeDayRule.FIXED_DAY, fixed_day=15))
    session.add(FeePolicy(org_unit_id=general.id, fee_day_rule=FeeDayRule.FIRST_FRIDAY_POSTPONE))
    session.add(LocalHoliday(org_unit_id=committee.id, day=date(2026, 6, 15), name="县庆"))
    session.commit()
    near = fee_days_of_year(session, 2026, branch)
    far = fee_days_of_year(session, 2026, other)
    assert near[0].day == date(2026, 1, 4)  # postpone (general branch's policy)
    assert far[0].day == date(2026, 1, 15)  # fixed 15th (committee's policy)
    assert far[5].day == date(2026, 6, 16) and "县庆" in far[5].reason  # inherited local holiday
    assert fee_days_of_year(session, 2026, None)[0].day == date(2026, 1, 9)  # no unit: the default
