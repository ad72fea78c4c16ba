"""Monthly plans: submit by the 25th, review (备案 / 退回), resubmit, meetings from approved items, reminders."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from handlers.meetings import plans as uc
from handlers.meetings.types import Refused
from models.meetings import Meeting, MonthlyPlan, PlanStatus
from tests.meetings.conftest import CFG, recipients, sent

# Wed 2026-05-20 10:00 Shanghai; the plan is for June.
NOW = datetime(2026, 5, 20, 2, 0, tzinfo=UTC)
JUNE = date(2026, 6, 1)


def items(org):
    return [
        # June ends the quarter and nothing earlier in it held a 党员大会: the plan must have one.
        uc.PlanItemInput(
            ["主题党日", "党课", "党员大会"],
            datetime(2026, 6, 5, 1, 0, tzinfo=UTC),
            "党员活动室",
            "学习二十大精神",
        ),
        uc.PlanItemInput(["支委会"], datetime(2026, 6, 10, 7, 0, tzinfo=UTC), "书记办公室", "研究发展党员"),
        uc.PlanItemInput(
            ["党小组会"], datetime(2026, 6, 12, 7, 0, tzinfo=UTC), "村委会", "谈心谈话", org.group.id
        ),
    ]


def test_submit_review_approve_creates_meetings_and_notices(session, org):
    plan = uc.save_plan(session, org.secretary, month=JUNE, items=items(org), now=NOW, cfg=CFG)
    session.commit()
    assert plan.status == PlanStatus.SUBMITTED and uc.plan_on_time(plan, CFG)
    assert recipients(session, f"plan:{plan.id}:r1") == {org.reviewer.id}
    card = sent(session, f"plan:{plan.id}:r1")[0].payload
    assert [b["label"] for b in card["buttons"]] == ["备案", "退回"]
    # Only the committee's 组织委员 reviews; the branch's own secretary cannot.
    for actor in (org.secretary, org.org_member, org.other_secretary):
        with pytest.raises(Refused):
            uc.review_plan(session, actor, plan.id, approve=True, now=NOW, cfg=CFG)
    assert session.scalar(select(func.count()).select_from(Meeting)) == 0
    uc.review_plan(session, org.reviewer, plan.id, approve=True, now=NOW + timedelta(hours=1), cfg=CFG)
    session.commit()
    meetings = session.scalars(select(Meeting).order_by(Meeting.starts_at)).all()
    assert len(meetings) == 3 and all(i.meeting_id for i in plan.items)
    assert recipients(session, f"meeting:{meetings[0].id}:notice") == {p.id for p in org.branch_members}
    assert recipients(session, f"meeting:{meetings[1].id}:notice") == {
        org.secretary.id,
        org.deputy.id,
        org.org_member.id,
    }
    assert recipients(session, f"meeting:{meetings[2].id}:notice") == {org.alice.id, org.bob.id}
    assert org.secretary.id in recipients(session, f"plan:{plan.id}:r1:decided")
    assert sent(session, f"plan:{plan.id}:r1:card")[0].payload["kind"] == "card_update"
    with pytest.raises(Refused, match="已经备案"):
        uc.save_plan(session, org.secretary, month=JUNE, items=items(org), now=NOW, cfg=CFG)


def test_return_with_reason_then_resubmit(session, org):
    plan = uc.save_plan(session, org.secretary, month=JUNE, items=items(org), now=NOW, cfg=CFG)
    with pytest.raises(Refused, match="原因"):
        uc.review_plan(session, org.reviewer, plan.id, approve=False, now=NOW, cfg=CFG)
    uc.review_plan(session, org.reviewer, plan.id, approve=False, reason="缺少党员大会", now=NOW, cfg=CFG)
    assert plan.status == PlanStatus.RETURNED
    told = sent(session, f"plan:{plan.id}:r1:decided")[0].payload["text"]
    assert "缺少党员大会" in told
    later = NOW + timedelta(days=6)  # 26th: resubmitted late
    # Without the 党小组会 the month requires: refused until the secretary confirms, and then the
    # reviewer is told what is missing.
    with pytest.raises(uc.PlanMissesRequired, match="没有安排党小组会1次"):
        uc.save_plan(session, org.secretary, month=JUNE, items=items(org)[:2], now=later, cfg=CFG)
    assert plan.revision == 1 and plan.status == PlanStatus.RETURNED and len(plan.items) == 3
    plan = uc.save_plan(
        session, org.secretary, month=JUNE, items=items(org)[:2], now=later, cfg=CFG, confirm_missing=True
    )
    assert plan.status == PlanStatus.SUBMITTED and plan.revision == 2 and not uc.plan_on_time(plan, CFG)
    review = sent(session, f"plan:{plan.id}:r2")[0].payload["text"]
    assert "超过25日" in review and "计划未安排应开的党小组会1次" in review
    assert f"计划 #{plan.id}" in review
    assert session.scalar(select(func.count()).select_from(MonthlyPlan)) == 1


def test_plan_input_checks(session, org):
    bad_day = [uc.PlanItemInput(["党课"], datetime(2026, 7, 2, 1, tzinfo=UTC), "x", "y")]
    with pytest.raises(Refused, match="不在计划月份"):
        uc.save_plan(session, org.secretary, month=JUNE, items=bad_day, now=NOW, cfg=CFG)
    with pytest.raises(Refused, match="还没有任何活动"):
        uc.save_plan(session, org.secretary, month=JUNE, items=[], now=NOW, cfg=CFG)
    with pytest.raises(Refused):
        uc.save_plan(session, org.alice, month=JUNE, items=items(org), now=NOW, cfg=CFG)
    with pytest.raises(Refused, match="不能再修改"):
        uc.save_plan(session, org.secretary, month=date(2026, 5, 1), items=items(org), now=NOW, cfg=CFG)
    assert session.scalar(select(func.count()).select_from(MonthlyPlan)) == 0


def test_deadline_is_inclusive_end_of_the_25th():
    deadline = uc.plan_deadline(JUNE, CFG)
    assert deadline.isoformat() == "2026-05-25T23:59:59+08:00"
    assert uc.plan_deadline(date(2027, 1, 1), CFG).date() == date(2026, 12, 25)


def test_reminders_to_missing_branches_and_overdue_list(session, org):
    uc.save_plan(session, org.other_secretary, month=JUNE, items=[
        uc.PlanItemInput(["党课"], datetime(2026, 6, 5, 1, tzinfo=UTC), "x", "y")], now=NOW, cfg=CFG,
        confirm_missing=True)  # fmt: skip
    assert uc.remind_missing_plans(session, now=NOW, cfg=CFG) == 2  # 城关's secretary and deputy
    assert uc.remind_missing_plans(session, now=NOW + timedelta(minutes=1), cfg=CFG) == 0
    assert recipients(session, f"plan:{org.branch.id}:2026-06:remind") == {org.secretary.id, org.deputy.id}
    on_26th = datetime(2026, 5, 26, 1, tzinfo=UTC)
    assert uc.report_missing_plans(session, now=on_26th, cfg=CFG) == 1
    report = sent(session, f"plan:committee:{org.committee.id}")[0]
    assert report.person_id == org.reviewer.id
    assert "城关社区党支部" in report.payload["text"] and "河西村" not in report.payload["text"]


def test_approval_refused_without_writes_when_a_group_is_gone(session, org):
    plan = uc.save_plan(session, org.secretary, month=JUNE, items=items(org), now=NOW, cfg=CFG)
    session.commit()
    org.group.kind = org.group.kind.BRANCH  # the 党小组 was turned into something else meanwhile
    session.flush()
    with pytest.raises(Refused, match="党小组"):
        uc.review_plan(session, org.reviewer, plan.id, approve=True, now=NOW, cfg=CFG)
    assert plan.status == PlanStatus.SUBMITTED and plan.reviewed_at is None
    assert session.scalar(select(func.count()).select_from(Meeting)) == 0
