"""The demo's 民主评议 history: the current year part-way through, readable by the feature's own code."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import delete, func, select

from handlers.appraisal import grades, service
from handlers.appraisal.config import DEFAULT as CFG
from handlers.meetings.types import DEFAULT_CONFIG as MEETINGS
from handlers.monthly.config import MonthlyConfig
from handlers.monthly.scoring import compute_month
from models.appraisal import Appraisal, AppraisalBallot, AppraisalGrade, AppraisalMember, Grade
from models.meetings import Attendance, Meeting, MeetingKind, MeetingType, Minutes
from models.org import ChatAccount, OrgUnit
from models.seed import seed
from models.seed.demo import DEMO_PEOPLE
from tests.appraisal.conftest import TZ

TODAY = date(2026, 12, 3)
NOW = datetime(2026, 12, 3, 2, 0, tzinfo=UTC)


def test_the_demo_year_is_part_way_through(session):
    result = seed(session, "demo", dingtalk_corp_id="d", wecom_corp_id="w", months=3, today=TODAY, now=NOW)
    session.commit()
    assert result.rows["appraisal"] == 4 and result.rows["appraisal_ballot"] > 0
    appraisals = session.scalars(select(Appraisal).order_by(Appraisal.branch_id)).all()
    states = [service.state_text(a, NOW, TZ) for a in appraisals]
    assert states[0].startswith("进行中") and states[1].startswith("支部大会已决定")
    assert states[2].startswith("支部大会已决定") and states[3] == "支委会已提出建议，待支部大会决定"
    assert session.get(OrgUnit, appraisals[0].branch_id).name == "东风村党支部"

    # Voting now: some in; the README's secretary and member can still vote.
    open_one = appraisals[0]
    t = service.turnout(session, [open_one.id])[open_one.id]
    assert 0 < t.voted < t.voters
    demo_ids = set(
        session.scalars(
            select(ChatAccount.person_id).where(ChatAccount.account_id.in_(list(DEMO_PEOPLE.values())))
        )
    )
    free = session.scalars(
        select(AppraisalMember).where(
            AppraisalMember.appraisal_id == open_one.id, AppraisalMember.person_id.in_(demo_ids)
        )
    ).all()
    assert free and not any(m.has_voted for m in free)

    # The decided ones: every member graded, 优秀 within a third, the ballots counted as the page counts them.
    for a in appraisals[1:3]:
        rows = session.scalars(select(AppraisalGrade).where(AppraisalGrade.appraisal_id == a.id)).all()
        assert rows and all(r.decided_grade is not None for r in rows)
        assert sum(r.decided_grade == Grade.EXCELLENT for r in rows) <= len(rows) // 3
        c = grades.count(session, a, CFG)
        marks = session.scalar(
            select(func.count()).select_from(AppraisalBallot).where(AppraisalBallot.appraisal_id == a.id)
        )
        assert sum(m.ballots for m in c.members) == marks and c.voted == c.voters


def test_a_decided_appraisals_congress_is_a_meeting_the_month_credits_for_both_types(session):
    """The walker's 年终通报 said 民主评议党员 计入完成0次: the demo decided at a 支部大会 that was no meeting. Now
    each decision day has that meeting (支部党员大会 and 民主评议党员, with sign-ins and minutes), and the
    month's points credit both types for it."""
    seed(session, "demo", dingtalk_corp_id="d", wecom_corp_id="w", months=3, today=TODAY, now=NOW)
    session.commit()
    decided = session.scalars(
        select(Appraisal).where(Appraisal.decided_on.is_not(None)).order_by(Appraisal.branch_id)
    ).all()
    assert len(decided) == 2
    wanted = {MeetingType.PARTY_CONGRESS, MeetingType.DEMOCRATIC_REVIEW}

    def credited(branch_id: int) -> dict[str, int]:
        scores = compute_month(
            session, date(2026, 12, 1), now=NOW, mcfg=MonthlyConfig(), meetings_cfg=MEETINGS
        )
        items = scores.branches[branch_id].explanation["meetings"]
        return {i["type"]: i["held"] for i in items if i["type"] in {t.value for t in wanted}}

    for a in decided:
        (meeting,) = [
            m
            for m in session.scalars(select(Meeting).where(Meeting.branch_id == a.branch_id))
            if m.starts_at.astimezone(TZ).date() == a.decided_on
        ]
        assert {k.type for k in meeting.kinds} == wanted
        minutes = session.scalar(select(Minutes).where(Minutes.meeting_id == meeting.id))
        signed = session.scalar(
            select(func.count()).select_from(Attendance).where(Attendance.meeting_id == meeting.id)
        )
        assert minutes is not None and minutes.expected_count == signed > 0 and minutes.quorum_met is not None
        before = credited(a.branch_id)
        assert before["party_congress"] >= 1 and before["democratic_review"] >= 1
        session.execute(delete(MeetingKind).where(MeetingKind.meeting_id == meeting.id))  # no longer counts
        after = credited(a.branch_id)
        assert after == {t: n - 1 for t, n in before.items()}  # it was that meeting that counted
        session.rollback()
