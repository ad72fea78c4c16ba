"""The shared domain toolkit (handlers.common): months, periods and Chinese dates."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

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


def test_a_moment_in_the_organisation_s_zone():
    shanghai = ZoneInfo("Asia/Shanghai")
    # 17:30 UTC on Monday is 01:30 on Tuesday in Shanghai: the day and weekday are the local ones.
    assert dates.fmt_when(datetime(2026, 11, 2, 17, 30, tzinfo=UTC), shanghai) == "11月3日（周二）01:30"
    assert dates.fmt_when(datetime(2026, 5, 8, 1, 0, tzinfo=UTC), shanghai) == "5月8日（周五）09:00"


@pytest.mark.parametrize(
    ("typed", "month"),
    [("2026-11", date(2026, 11, 1)), ("2026.1", date(2026, 1, 1)), ("2026/02", date(2026, 2, 1)),
     ("2026年02月", date(2026, 2, 1)), ("2026 年 2 月", date(2026, 2, 1)), ("２０２６－１１", date(2026, 11, 1)),
     ("3月", date(2026, 3, 1)), ("11月", date(2025, 11, 1)), ("11月份", date(2025, 11, 1))],
)  # fmt: skip
def test_a_month_as_typed(typed, month):
    # A bare month is the latest one not after today (15 March 2026): 11月 is last November.
    assert dates.parse_month(typed, date(2026, 3, 15)) == month


@pytest.mark.parametrize(
    "typed", ["2026-13", "13月", "2026-0", "0月", "上个月", "", "2026", "11", "2026-11-05"]
)
def test_not_a_month(typed):
    assert dates.parse_month(typed, date(2026, 3, 15)) is None


@pytest.mark.parametrize(
    "typed",
    ["2026-11-20", "2026.11.20", "2026/11/20", "2026年11月20日", "2026年11月20号", "2026 年 11 月 20 日",
     "２０２６－１１－２０"],
)  # fmt: skip
def test_a_full_day_as_typed_is_that_day_whatever_the_short_rule(typed):
    for short in ("past", "this_year", "next"):
        assert dates.parse_day(typed, date(2026, 3, 15), short=short) == date(2026, 11, 20)


@pytest.mark.parametrize(
    ("typed", "short", "day"),
    [("11-20", "past", date(2025, 11, 20)), ("11月20日", "this_year", date(2026, 11, 20)),
     ("11月20日", "next", date(2026, 11, 20)), ("3-1", "past", date(2026, 3, 1)),
     ("3-1", "this_year", date(2026, 3, 1)), ("3月1号", "next", date(2027, 3, 1)),
     ("3.15", "past", date(2026, 3, 15)), ("3/15", "next", date(2026, 3, 15))],
)  # fmt: skip
def test_a_short_day_takes_its_year_by_the_rule(typed, short, day):
    # Today is 15 March 2026: "past" never lands after it, "next" never before it.
    assert dates.parse_day(typed, date(2026, 3, 15), short=short) == day


@pytest.mark.parametrize(
    "typed",
    ["2026-02-30", "2-30", "13-01", "2026-13-01", "2026-11", "11月", "下周三", "", "今天", "20261120"],
)
def test_not_a_day_to_parse(typed):
    assert dates.parse_day(typed, date(2026, 3, 15), short="past") is None


def test_a_year_as_typed():
    """The rating pages' year (handlers.common.dates.parse_year): empty is this year; else four digits."""
    today = date(2026, 3, 15)
    assert [dates.parse_year(t, today) for t in ("", " 2025 ", "2000", "2100")] == [2026, 2025, 2000, 2100]
    assert [dates.parse_year(t, today) for t in ("1999", "2101", "26", "2026年", "abcd")] == [None] * 5


# --- roles: who holds which role where ---------------------------------------------------------


def test_role_lookups_name_the_unit_and_never_reach_neighbours(session):
    from handlers.common import roles
    from models.org import Role, UnitKind
    from tests import builders

    committee = builders.unit(session, "城关镇党委", UnitKind.COMMITTEE)
    branch = builders.unit(session, "第一党支部", UnitKind.BRANCH, committee)
    other = builders.unit(session, "第二党支部", UnitKind.BRANCH, committee)
    lonely = builders.unit(session, "无上级支部", UnitKind.BRANCH)
    secretary = builders.person(session, "王书记", branch)
    collector = builders.person(session, "李收缴", branch)
    neighbour = builders.person(session, "赵书记", other)
    org_member = builders.person(session, "周组织", other)
    builders.role(session, secretary, branch, Role.SECRETARY)
    builders.role(session, collector, branch, Role.FEE_COLLECTOR)
    builders.role(session, neighbour, other, Role.SECRETARY)
    builders.role(session, org_member, committee, Role.ORGANIZATION_MEMBER)
    builders.role(session, secretary, committee, Role.PROPAGANDA_MEMBER)
    session.commit()

    assert roles.roles_on(session, secretary.id, branch.id) == {Role.SECRETARY}
    assert roles.roles_on(session, secretary.id, other.id) == set()
    assert roles.units_where(session, secretary.id, {Role.SECRETARY, Role.PROPAGANDA_MEMBER}) == {
        branch.id,
        committee.id,
    }
    assert roles.units_where(
        session, secretary.id, {Role.SECRETARY, Role.PROPAGANDA_MEMBER}, UnitKind.BRANCH
    ) == {branch.id}
    both = {Role.SECRETARY, Role.FEE_COLLECTOR}
    assert roles.people_with_roles(session, branch.id, both) == sorted([secretary.id, collector.id])
    assert roles.people_with_roles_by_unit(session, [branch.id, other.id, lonely.id], {Role.SECRETARY}) == {
        branch.id: [secretary.id],
        other.id: [neighbour.id],
    }
    assert roles.people_by_role(session, branch.id, both) == {
        Role.SECRETARY: [secretary.id],
        Role.FEE_COLLECTOR: [collector.id],
    }
    assert roles.roles_by_unit(session, [branch.id, lonely.id]) == {
        branch.id: {Role.SECRETARY, Role.FEE_COLLECTOR},
        lonely.id: set(),
    }
    assert roles.roles_by_unit(session)[committee.id] == {Role.ORGANIZATION_MEMBER, Role.PROPAGANDA_MEMBER}
    assert roles.committee_people(session, branch.id, {Role.ORGANIZATION_MEMBER}) == [org_member.id]
    assert roles.committee_people(session, lonely.id, {Role.ORGANIZATION_MEMBER}) == []
    assert roles.committee_people(session, 10**9, {Role.ORGANIZATION_MEMBER}) == []

    staff = builders.person(session, "钱组织部", other)
    builders.role(session, staff, None, Role.ORG_STAFF)
    builders.role(session, staff, committee, Role.ORG_STAFF)
    session.commit()
    assert roles.roles_held(session, secretary.id) == [
        (branch.id, Role.SECRETARY),
        (committee.id, Role.PROPAGANDA_MEMBER),
    ]
    assert roles.roles_held(session, staff.id) == [(None, Role.ORG_STAFF), (committee.id, Role.ORG_STAFF)]
    assert roles.roles_held(session, 10**9) == []
    assert roles.role_holders(session, {Role.SECRETARY, Role.ORG_STAFF}) == {
        (branch.id, Role.SECRETARY): [secretary.id],
        (other.id, Role.SECRETARY): [neighbour.id],
        (None, Role.ORG_STAFF): [staff.id],
        (committee.id, Role.ORG_STAFF): [staff.id],
    }


# --- cells: one reader per kind of value for every import ----------------------------------------


def test_cell_text_keeps_names_as_typed():
    from handlers.common import cells

    assert cells.text(None) == "" and cells.text("  ") == "" and cells.is_blank(None)
    assert cells.text(13800000003.0) == "13800000003"
    assert (
        cells.text(datetime(2026, 11, 6, 9, 30)) == "2026-11-06"
        and cells.text(date(2026, 1, 2)) == "2026-01-02"
    )
    # A full-width bracket is part of a unit's name: matching the stored name needs it unchanged.
    assert cells.text(" 城关镇（一）党支部 ") == "城关镇（一）党支部"


@pytest.mark.parametrize(
    "typed",
    [date(2010, 7, 1), datetime(2010, 7, 1, 0, 0), "2010-07-01", "2010/7/1", "2010.7.1", "2010年7月1日",
     "2010 年 7 月 1 日", "2010年7月1", "20100701", 20100701.0, "２０１０-０７-０１"],
)  # fmt: skip
def test_a_day_in_every_spelling(typed):
    from handlers.common import cells

    assert cells.day(typed) == date(2010, 7, 1)


@pytest.mark.parametrize("typed", ["2010-13-01", "2010-02-30", "七月一日", "2010-07", "1.5"])
def test_not_a_day(typed):
    from handlers.common import cells

    with pytest.raises(cells.CellError):
        cells.day(typed)
    assert cells.day("") is None and cells.day(None) is None


def test_amounts_in_yuan_and_fen():
    from decimal import Decimal

    from handlers.common import cells

    assert cells.amount("4500") == Decimal("4500.00")
    assert cells.amount("4,500.50元") == Decimal("4500.50")
    assert cells.amount(40.5) == Decimal("40.50") and cells.amount("４０") == Decimal("40.00")
    assert cells.amount("0") == Decimal("0.00") and cells.amount("") is None
    for bad in ("-1", "12.345", "abc", "NaN", "Infinity", "1e40"):
        with pytest.raises(cells.CellError):
            cells.amount(bad)
    with pytest.raises(cells.CellError):
        cells.amount("0", positive=True)


def test_phones_read_as_the_roster_stores_them():
    from handlers.common import cells

    for typed in (
        "138-0000-0003",
        "+86 138 0000 0003",
        "0086 13800000003",
        13800000003.0,
        "１３８００００００03",
    ):
        assert cells.phone(typed) == "13800000003"
    assert cells.phone("") is None and cells.phone(None) is None
    for bad in ("1380000000", "23800000003", "电话"):
        with pytest.raises(cells.CellError):
            cells.phone(bad)
