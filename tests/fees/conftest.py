"""A small organisation for the fee tests: a committee with two branches and their office holders."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from models.org import FeeCategory, MemberStatus, OrgUnit, Person, Role, UnitKind
from tests import builders

CORP = "ding-corp"
# Fri 2026-11-06 is November's fee day; 09:30 Shanghai.
FEE_DAY = date(2026, 11, 6)
NOW = datetime(2026, 11, 6, 1, 30, tzinfo=UTC)
TZ = ZoneInfo("Asia/Shanghai")  # settings.timezone's default: the zone the use cases are given
LONG_AGO = datetime(2025, 1, 1, tzinfo=UTC)  # every roster row was entered then


@dataclass
class Org:
    committee: OrgUnit
    branch: OrgUnit
    other_branch: OrgUnit
    secretary: Person
    collector: Person
    alice: Person  # employed, base 4000 → 40.00
    bob: Person  # retired, base 6000 → 60.00
    probationary: Person  # admitted 2026-09 → owes from September
    org_member: Person  # the committee's 组织委员
    other_collector: Person
    other_member: Person

    @property
    def branch_people(self) -> list[Person]:
        return [self.secretary, self.collector, self.alice, self.bob, self.probationary]


def add_person(session, name, branch, *, base="4000", category=FeeCategory.EMPLOYED, account=None, **kw):
    """A member paying on `base` (None: no base, e.g. a committee officer), entered LONG_AGO, with a
    DingTalk account (u<id> unless `account` names it)."""
    person = builders.person(
        session,
        name,
        branch,
        fee_category=category,
        fee_base=Decimal(base) if base is not None else None,
        created_at=LONG_AGO,
        **kw,
    )
    builders.account(session, person, account or f"u{person.id}", corp=CORP)
    return person


@pytest.fixture
def org(session) -> Org:
    committee = builders.unit(session, "湖滨区直属机关党委", UnitKind.COMMITTEE)
    branch = builders.unit(session, "第一党支部", UnitKind.BRANCH, committee)
    other = builders.unit(session, "第二党支部", UnitKind.BRANCH, committee)
    secretary = add_person(session, "王书记", branch, base="8000", phone="13800000001")
    collector = add_person(session, "李收缴", branch, base="3000", phone="13800000002")
    alice = add_person(session, "张三", branch, base="4000", phone="13800000003", account="zhangsan")
    bob = add_person(session, "李四", branch, base="6000", category=FeeCategory.RETIRED, phone="13800000004")
    prob = add_person(
        session, "赵六", branch, base="2000", status=MemberStatus.PROBATIONARY, joined_on=date(2026, 9, 20)
    )
    org_member = add_person(session, "刘组织", None, base=None)
    other_collector = add_person(session, "周收缴", other, base="3000")
    other_member = add_person(session, "吴七", other, base="3000")
    for person, unit, role in (
        (secretary, branch, Role.SECRETARY),
        (collector, branch, Role.FEE_COLLECTOR),
        (org_member, committee, Role.ORGANIZATION_MEMBER),
        (other_collector, other, Role.FEE_COLLECTOR),
    ):
        builders.role(session, person, unit, role)
    session.commit()
    return Org(
        committee,
        branch,
        other,
        secretary,
        collector,
        alice,
        bob,
        prob,
        org_member,
        other_collector,
        other_member,
    )
