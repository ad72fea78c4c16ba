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


def test_history_theme_days_on_the_activity_day_with_their_menu(session):
    from handlers.meetings import activity
    from handlers.meetings.activity import DayRule
    from models.meetings import MeetingKind
    from models.meetings_seed import ACTIVITY_DAY

    seed(session, "demo", dingtalk_corp_id="d", wecom_corp_id="w", months=4, today=NOW.date(), now=NOW)
    session.commit()
    acfg = CFG.activity.__class__(rule=DayRule.DAY_OF_MONTH, day=ACTIVITY_DAY)
    theme = session.scalars(
        select(Meeting).join(MeetingKind).where(MeetingKind.type == MeetingType.THEME_DAY)
    ).all()
    past = [m for m in theme if m.starts_at.astimezone(CFG.tz).date() < NOW.date().replace(day=1)]
    assert past and all(
        m.starts_at.astimezone(CFG.tz).date()
        == activity.activity_day(m.starts_at.date().replace(day=1), acfg).day
        for m in past
    )
    menus = [m.minutes.menu_done for m in theme if m.minutes is not None]
    assert menus and all(isinstance(done, list) for done in menus)
    assert any(len(done) == 6 for done in menus) and any(len(done) == 7 for done in menus)
    assert any(m.minutes.menu_extra for m in theme if m.minutes is not None)
    others = session.scalars(
        select(Minutes)
        .join(MeetingKind, MeetingKind.meeting_id == Minutes.meeting_id)
        .where(MeetingKind.type != MeetingType.THEME_DAY)
    ).all()
    assert others and all(m.menu_done is None for m in others)
