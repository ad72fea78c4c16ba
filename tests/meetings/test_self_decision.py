"""Nobody decides their own case: a secretary's leave and 补学 go to someone else, and pressing
批准 / 确认 on one's own request is refused with the reason and changes nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import delete, select

from handlers.meetings import leave as leave_uc
from handlers.meetings import makeup as makeup_uc
from handlers.meetings import meetings as meetings_uc
from handlers.meetings import signin as signin_uc
from handlers.meetings.chat import router
from handlers.meetings.types import Refused
from models.meetings import LeaveStatus, MakeupStatus, MakeupTask
from models.org import Role, RoleAssignment
from tests.harness import Chat
from tests.meetings.conftest import CFG, NOW, recipients, sent

START = NOW + timedelta(days=1)


def _meeting(session, org, by=None):
    return meetings_uc.schedule_meeting(
        session, by or org.secretary, types=["党员大会"], starts_at=START, place="会议室", topic="学习党章",
        now=NOW, cfg=CFG,
    )  # fmt: skip


def _drop_role(session, person, role):
    session.execute(
        delete(RoleAssignment).where(RoleAssignment.person_id == person.id, RoleAssignment.role == role)
    )
    session.flush()


def test_secretary_leave_goes_to_the_deputy_and_he_cannot_approve_it(session, org):
    m = _meeting(session, org)
    leave = leave_uc.request_leave(session, org.secretary, m.id, reason="到县里开会", now=NOW, cfg=CFG)
    assert recipients(session, f"leave:{leave.id}:ask") == {org.deputy.id}
    reply = leave_uc.submitted_reply(session, leave, CFG)
    assert "不能审批自己的请假" in reply and "李副书记" in reply and "等待书记审批" not in reply
    for approve in (True, False):
        with pytest.raises(Refused, match="不能审批自己的请假申请") as own:
            leave_uc.decide_leave(session, org.secretary, leave.id, approve=approve, now=NOW, cfg=CFG)
        assert own.value.status == 403  # not his to do, as require_role says it
    assert leave.status == LeaveStatus.PENDING and leave.decided_by_id is None
    assert not sent(session, f"leave:{leave.id}:card") and not sent(session, f"leave:{leave.id}:told")
    leave_uc.decide_leave(session, org.deputy, leave.id, approve=True, now=NOW, cfg=CFG)
    assert leave.status == LeaveStatus.APPROVED and leave.decided_by_id == org.deputy.id
    assert recipients(session, f"leave:{leave.id}:card") == {org.deputy.id}
    assert recipients(session, f"leave:{leave.id}:told") == {org.secretary.id}


def test_deputy_leave_goes_to_the_secretary(session, org):
    m = _meeting(session, org)
    leave = leave_uc.request_leave(session, org.deputy, m.id, reason="出差在外", now=NOW, cfg=CFG)
    assert recipients(session, f"leave:{leave.id}:ask") == {org.secretary.id}
    with pytest.raises(Refused, match="不能审批自己"):
        leave_uc.decide_leave(session, org.deputy, leave.id, approve=True, now=NOW, cfg=CFG)
    leave_uc.decide_leave(session, org.secretary, leave.id, approve=True, now=NOW, cfg=CFG)
    assert leave.status == LeaveStatus.APPROVED


def test_without_a_deputy_the_committee_organisation_member_decides(session, org):
    _drop_role(session, org.deputy, Role.DEPUTY_SECRETARY)
    m = _meeting(session, org)
    leave = leave_uc.request_leave(session, org.secretary, m.id, reason="生病", now=NOW, cfg=CFG)
    assert recipients(session, f"leave:{leave.id}:ask") == {org.reviewer.id}
    assert "上级党委的周组织委员" in leave_uc.submitted_reply(session, leave, CFG)
    # Only the people the card went to: not the branch's 组织委员, not a neighbouring secretary.
    for actor in (org.org_member, org.other_secretary, org.deputy):
        with pytest.raises(Refused, match="只有本支部") as refused:
            leave_uc.decide_leave(session, actor, leave.id, approve=True, now=NOW, cfg=CFG)
        assert refused.value.status == 403
    leave_uc.decide_leave(session, org.reviewer, leave.id, approve=False, note="请参加", now=NOW, cfg=CFG)
    assert leave.status == LeaveStatus.REJECTED and leave.decided_by_id == org.reviewer.id
    # An ordinary member's leave still goes to the branch secretary, not up to the committee.
    alice = leave_uc.request_leave(session, org.alice, m.id, reason="家中有事", now=NOW, cfg=CFG)
    assert recipients(session, f"leave:{alice.id}:ask") == {org.secretary.id}
    assert leave_uc.submitted_reply(session, alice, CFG).endswith("等待书记审批。")
    with pytest.raises(Refused, match="只有本支部"):
        leave_uc.decide_leave(session, org.reviewer, alice.id, approve=True, now=NOW, cfg=CFG)


def test_when_nobody_else_can_approve_the_secretary_is_told(session, org):
    _drop_role(session, org.deputy, Role.DEPUTY_SECRETARY)
    _drop_role(session, org.reviewer, Role.ORGANIZATION_MEMBER)
    m = _meeting(session, org)
    leave = leave_uc.request_leave(session, org.secretary, m.id, reason="生病", now=NOW, cfg=CFG)
    assert not sent(session, f"leave:{leave.id}:ask")
    reply = leave_uc.submitted_reply(session, leave, CFG)
    assert "都没有可以审批的人" in reply and "组织部" in reply
    with pytest.raises(Refused, match="不能审批自己"):
        leave_uc.decide_leave(session, org.secretary, leave.id, approve=True, now=NOW, cfg=CFG)
    assert leave.status == LeaveStatus.PENDING


def test_secretary_cannot_confirm_his_own_makeup(session, org):
    # Scheduled by the deputy: the secretary is not its host, so missing it gives him a 补学.
    _meeting(session, org, by=org.deputy)
    signin_uc.close_windows(session, now=START + timedelta(hours=1), cfg=CFG)
    task = session.scalars(select(MakeupTask).where(MakeupTask.person_id == org.secretary.id)).one()
    later = START + timedelta(days=1)
    makeup_uc.report_makeup(session, org.secretary, note="已学习党章", now=later, cfg=CFG)
    assert {m.person_id for m in sent(session, f"makeup:{task.id}:reported")} == {org.deputy.id}
    assert "李副书记" in makeup_uc.reported_reply(session, task, CFG)
    for confirm in (True, False):
        with pytest.raises(Refused, match="不能确认自己的补学"):
            makeup_uc.decide_makeup(session, org.secretary, task.id, confirm=confirm, now=later, cfg=CFG)
    assert task.status == MakeupStatus.REPORTED and task.confirmed_by_id is None
    assert not sent(session, f"makeup:{task.id}:decided") and not sent(session, f"makeup:{task.id}:told")
    makeup_uc.decide_makeup(session, org.deputy, task.id, confirm=True, now=later, cfg=CFG)
    assert task.status == MakeupStatus.CONFIRMED and task.confirmed_by_id == org.deputy.id
    # A member's 补学 still goes to both branch managers.
    alice = session.scalars(select(MakeupTask).where(MakeupTask.person_id == org.alice.id)).one()
    makeup_uc.report_makeup(session, org.alice, note="已学习", now=later, cfg=CFG)
    assert {m.person_id for m in sent(session, f"makeup:{alice.id}:reported")} == {
        org.secretary.id,
        org.deputy.id,
    }


def test_in_chat_the_secretary_is_told_who_approves_and_his_press_is_refused(session_factory, session, org):
    m = _meeting(session, org)
    session.commit()
    chat = Chat(session_factory, [router], now=NOW)
    assert "已转请李副书记审批" in chat.say("wangsj", f"请假 #{m.id} 到县里开会").text
    with session_factory() as s:
        leave = s.scalars(select(leave_uc.LeaveRequest)).one()
    assert "不能审批自己的请假申请" in chat.press("wangsj", "leave.approve", leave=str(leave.id)).text
    with session_factory() as s:
        assert s.get(leave_uc.LeaveRequest, leave.id).status == LeaveStatus.PENDING
    chat.press("lifsj", "leave.approve", leave=str(leave.id))
    with session_factory() as s:
        assert s.get(leave_uc.LeaveRequest, leave.id).status == LeaveStatus.APPROVED


def test_a_committee_reviewer_who_runs_the_branch_cannot_review_its_plan(session, org):
    """The committee's 组织委员 who is also the branch's secretary: the plan goes to the other reviewer."""
    from datetime import UTC, date, datetime

    from handlers.meetings import plans as plans_uc
    from models.meetings import PlanStatus

    session.add(
        RoleAssignment(
            person_id=org.secretary.id, org_unit_id=org.committee.id, role=Role.ORGANIZATION_MEMBER
        )
    )
    session.flush()
    item = plans_uc.PlanItemInput(["主题党日"], datetime(2026, 6, 5, 1, 0, tzinfo=UTC), "党员活动室", "学习")
    plan = plans_uc.save_plan(session, org.secretary, month=date(2026, 6, 1), items=[item], now=NOW, cfg=CFG,
        confirm_missing=True)  # fmt: skip
    assert recipients(session, f"plan:{plan.id}:r1") == {org.reviewer.id}
    with pytest.raises(Refused, match="不能审核自己负责的支部"):
        plans_uc.review_plan(session, org.secretary, plan.id, approve=True, now=NOW, cfg=CFG)
    assert plan.status == PlanStatus.SUBMITTED and plan.reviewed_by_id is None
    plans_uc.review_plan(session, org.reviewer, plan.id, approve=True, now=NOW, cfg=CFG)
    assert plan.status == PlanStatus.APPROVED
