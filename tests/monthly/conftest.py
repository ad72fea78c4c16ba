"""A small county for the 月积分 tests: two township committees, two branches each, and office holders."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from handlers.meetings.minutes import add_workdays
from handlers.meetings.types import DEFAULT_CONFIG
from handlers.monthly import observers_bridge
from handlers.monthly.observers_bridge import ObserverSummary
from models import startmonth
from models.meetings import (
    Attendance,
    AttendanceMethod,
    AttendanceStatus,
    Meeting,
    MeetingKind,
    MeetingType,
    Minutes,
    MonthlyPlan,
    PlanStatus,
)
from models.org import BranchCategory, OrgUnit, Person, Role, UnitKind
from models.outbox import OutboxMessage
from tests import builders

CORP = "dingzhibudemo0001"
CFG = DEFAULT_CONFIG
TZ = ZoneInfo("Asia/Shanghai")
SECRET = "test-secret-key-for-monthly"
BASE = "http://127.0.0.1:8000"


def local(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=TZ).astimezone(UTC)


def run_at(month: date) -> datetime:
    """09:00 local on the 1st of the month after `month` (when the job runs)."""
    nxt = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return local(nxt, 9)


@dataclass
class County:
    county: OrgUnit
    c1: OrgUnit
    c2: OrgUnit
    b1: OrgUnit  # community, c1
    b2: OrgUnit  # community, c1
    b3: OrgUnit  # rural, c2
    b4: OrgUnit  # rural, c2
    people: dict[str, Person]

    def members(self, branch: OrgUnit) -> list[Person]:
        return [p for p in self.people.values() if p.branch_id == branch.id]


_unit = builders.unit  # imported by monthly tests that add a unit of their own


# The county has used zhibu since 2024 (models.startmonth): every month the tests score runs.
IN_USE_SINCE = date(2024, 1, 1)


def build_county(session, *, start: date | None = IN_USE_SINCE) -> County:
    """The county; `start`: its start month (None: as a fresh install with none set)."""
    county = _unit(session, "宿松县委", UnitKind.COMMITTEE)
    c1 = _unit(session, "城关镇党委", UnitKind.COMMITTEE, county)
    c2 = _unit(session, "河西乡党委", UnitKind.COMMITTEE, county)
    b1 = _unit(session, "城关社区党支部", UnitKind.BRANCH, c1, BranchCategory.COMMUNITY)
    b2 = _unit(session, "东门社区党支部", UnitKind.BRANCH, c1, BranchCategory.COMMUNITY)
    b3 = _unit(session, "河西村党支部", UnitKind.BRANCH, c2, BranchCategory.RURAL)
    b4 = _unit(session, "河东村党支部", UnitKind.BRANCH, c2, BranchCategory.RURAL)
    people: dict[str, Person] = {}

    def person(key, name, branch, roles=()):
        p = builders.person(session, name, branch, account_id=key, corp=CORP)
        for unit, role in roles:
            builders.role(session, p, unit, role)
        people[key] = p

    for i, b in enumerate((b1, b2, b3, b4), start=1):
        person(f"sec{i}", f"书记{i}", b, [(b, Role.SECRETARY)])
        person(f"m{i}a", f"党员{i}甲", b)
        person(f"m{i}b", f"党员{i}乙", b)
    for i, c in enumerate((c1, c2), start=1):
        person(f"c{i}sec", f"党委书记{i}", None, [(c, Role.SECRETARY)])
        person(f"c{i}dep", f"党委副书记{i}", None, [(c, Role.DEPUTY_SECRETARY)])
        person(f"c{i}org", f"组织委员{i}", None, [(c, Role.ORGANIZATION_MEMBER)])
    person("staff", "组织部小刘", None, [(None, Role.ORG_STAFF)])
    if start is not None:
        startmonth.set_start_month(session, start)
    session.flush()
    return County(county, c1, c2, b1, b2, b3, b4, people)


@pytest.fixture
def county(session) -> County:
    c = build_county(session)
    session.commit()
    return c


def comply(
    session,
    county: County,
    branch: OrgUnit,
    month: date,
    types=(MeetingType.THEME_DAY,),
    *,
    absent: tuple[str, ...] = (),
    plan: bool = True,
    minutes_late: bool = False,
    day: int = 10,
) -> Meeting:
    """A month done right: plan on time, one meeting of `types`, minutes on time, everyone present."""
    if (
        plan
        and session.scalar(
            select(MonthlyPlan.id).where(MonthlyPlan.branch_id == branch.id, MonthlyPlan.month == month)
        )
        is None
    ):
        prev = date(month.year - (month.month == 1), (month.month - 2) % 12 + 1, 20)
        session.add(MonthlyPlan(branch_id=branch.id, month=month, status=PlanStatus.APPROVED,
                                submitted_at=local(prev), revision=1))  # fmt: skip
    starts = local(month.replace(day=day))
    m = Meeting(branch_id=branch.id, title="会议", topic="学习", place="活动室", starts_at=starts)
    m.kinds = [MeetingKind(type=t) for t in types]
    session.add(m)
    session.flush()
    due = add_workdays(month.replace(day=day), CFG.minutes_workdays)
    submitted = local(date(due.year, due.month, due.day) if not minutes_late else add_workdays(due, 5), 18)
    session.add(Minutes(meeting_id=m.id, chair="书记", recorder="委员", topics="学习", submitted_at=submitted,
                        due_on=due))  # fmt: skip
    for p in county.members(branch):
        status = AttendanceStatus.ABSENT if p.name in absent else AttendanceStatus.PRESENT
        session.add(
            Attendance(meeting_id=m.id, person_id=p.id, status=status, method=AttendanceMethod.QR, at=starts)
        )
    session.flush()
    return m


QUARTER = (MeetingType.THEME_DAY, MeetingType.PARTY_CONGRESS, MeetingType.PARTY_LECTURE)


@pytest.fixture
def observers(monkeypatch):
    """Observer figures per branch, set by the test (the observers feature's numbers)."""
    data: dict[int, ObserverSummary] = {}
    monkeypatch.setattr(observers_bridge, "month_summary", lambda session, month, cfg: dict(data))
    return data


def outbox(session, prefix: str = "") -> list[OutboxMessage]:
    stmt = select(OutboxMessage).order_by(OutboxMessage.id)
    if prefix:
        stmt = stmt.where(OutboxMessage.dedup_key.startswith(prefix))
    return list(session.scalars(stmt))
