"""`zhibu seed --months N` writes meetings history that the use cases can read."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime

from sqlalchemy import func, select

from handlers.meetings.makeup import absence_counts
from handlers.meetings.minutes import held_meeting_kinds
from models.meetings import (
    Attendance,
    Invitee,
    Meeting,
    MeetingType,
    Minutes,
    MonthlyPlan,
    PlanItem,
    PlanStatus,
)
from models.meetings_seed import meetings_history
from models.org import OrgUnit, UnitKind
from models.seed import HISTORY_GENERATORS, seed
from tests.meetings.conftest import CFG

NOW = datetime(2026, 5, 18, 2, tzinfo=UTC)


def test_history_looks_like_a_county(session):
    assert meetings_history in HISTORY_GENERATORS
    result = seed(
        session, "demo", dingtalk_corp_id="d", wecom_corp_id="w", months=4, today=NOW.date(), now=NOW
    )
    session.commit()
    assert result.rows["meeting"] > 20 and result.rows["attendance"] > 100
    branches = session.scalar(
        select(func.count()).select_from(OrgUnit).where(OrgUnit.kind == UnitKind.BRANCH)
    )
    plans = session.scalars(select(MonthlyPlan)).all()
    assert all(p.status == PlanStatus.APPROVED for p in plans)
    assert len({p.branch_id for p in plans}) >= branches - 1  # nearly every branch files plans
    # Past meetings have one attendance row per invitee; future ones none.
    past = session.scalars(select(Meeting).where(Meeting.closed_at.is_not(None))).all()
    invited = dict(
        session.execute(select(Invitee.meeting_id, func.count()).group_by(Invitee.meeting_id)).all()
    )
    marked = dict(
        session.execute(select(Attendance.meeting_id, func.count()).group_by(Attendance.meeting_id)).all()
    )
    assert past and all(marked[m.id] == invited[m.id] for m in past)
    statuses = Counter(session.scalars(select(Attendance.status)))
    rate = (statuses["present"] + statuses["late"]) / sum(statuses.values())
    assert 0.7 < rate < 0.97 and statuses["absent"] > 0 and statuses["leave"] > 0
    held = held_meeting_kinds(session, date(2026, 2, 1), date(2026, 5, 1), CFG)
    assert held and len(held) < sum(1 for _ in past) * 2
    # JSON columns read back as Python values on both databases (COPY on PostgreSQL).
    item = session.scalars(select(PlanItem)).first()
    assert isinstance(item.types, list) and item.types[0] in {t.value for t in MeetingType}
    with_absentees = [m for m in session.scalars(select(Minutes)) if m.absentees]
    assert with_absentees and isinstance(with_absentees[0].absentees[0]["name"], str)
    counts = absence_counts(session, date(2026, 4, 1), CFG)
    assert counts and max(c.consecutive for c in counts.values()) >= 1
