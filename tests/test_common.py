"""The shared domain toolkit (handlers.common): months, periods and Chinese dates."""

from __future__ import annotations

from datetime import date

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
