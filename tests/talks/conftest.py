"""A branch for the 谈心谈话 tests, with known people, and the monthly county for the digest.

东门社区党支部: 支委 王书记 (书记), 李委员 (组织委员), 赵委员 (宣传委员); members 张三, 张三丰, 王小明,
陈红, 刘芳. 河西村党支部: 孙书记 (书记), 周杰. The organisation started using zhibu in 2026-03.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from models import startmonth
from models.org import BranchCategory, OrgUnit, Person, Role, UnitKind
from tests import builders, harness
from tests.monthly.conftest import county, observers  # noqa: F401  (the digest tests' fixtures)

TZ = ZoneInfo("Asia/Shanghai")
START = date(2026, 3, 1)


def local(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=TZ).astimezone(UTC)


@dataclass
class Branches:
    east: OrgUnit
    west: OrgUnit
    people: dict[str, Person]  # by account id

    def by_name(self, name: str) -> Person:
        return next(p for p in self.people.values() if p.name == name)


@pytest.fixture
def branches(session) -> Branches:
    committee = builders.unit(session, "城关镇党委", UnitKind.COMMITTEE)
    east = builders.unit(session, "东门社区党支部", UnitKind.BRANCH, committee, BranchCategory.COMMUNITY)
    west = builders.unit(session, "河西村党支部", UnitKind.BRANCH, committee, BranchCategory.RURAL)
    people: dict[str, Person] = {}

    def person(account, name, branch, *roles, **fields):
        p = builders.person(session, name, branch, account_id=account, corp=harness.DT, **fields)
        for role in roles:
            builders.role(session, p, branch, role)
        people[account] = p

    person("wang", "王书记", east, Role.SECRETARY)
    person("li", "李委员", east, Role.ORGANIZATION_MEMBER)
    person("zhao", "赵委员", east, Role.PROPAGANDA_MEMBER)
    person("zs", "张三", east, phone="13800000001")
    person("zsf", "张三丰", east, phone="13800000002")
    person("xm", "王小明", east)
    person("ch", "陈红", east)
    person("lf", "刘芳", east)
    person("sun", "孙书记", west, Role.SECRETARY)
    person("zj", "周杰", west)
    startmonth.set_start_month(session, START)
    session.commit()
    return Branches(east, west, people)
