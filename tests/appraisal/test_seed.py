"""The demo's 民主评议 history: the current year part-way through, readable by the feature's own code."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import func, select

from handlers.appraisal import grades, service
from handlers.appraisal.config import DEFAULT as CFG
from models.appraisal import Appraisal, AppraisalBallot, AppraisalGrade, AppraisalMember, Grade
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
