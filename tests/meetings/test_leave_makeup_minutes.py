"""Leave before the start, one per meeting; 补学 lifecycle and reminders; absence counts; minutes deadlines."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from handlers.meetings import leave as leave_uc
from handlers.meetings import makeup as makeup_uc
from handlers.meetings import meetings as meetings_uc
from handlers.meetings import minutes as minutes_uc
from handlers.meetings import signin as signin_uc
from handlers.meetings.types import Refused
from models.meetings import LeaveRequest, LeaveStatus, MakeupStatus, MakeupTask, MeetingType, Minutes
from tests.meetings.conftest import CFG, CORE, NOW, SECRET, recipients, sent

START = NOW + timedelta(days=1)


def _meeting(session, org, start=START, types=("党员大会",), actor=None):
    return meetings_uc.schedule_meeting(
        session, actor or org.secretary, types=list(types), starts_at=start, place="会议室", topic="学习党章",
        now=min(NOW, start - timedelta(hours=1)), cfg=CFG,
    )  # fmt: skip


def test_leave_lifecycle(session, org):
    m = _meeting(session, org)
    with pytest.raises(Refused, match="原因"):
        leave_uc.request_leave(session, org.alice, m.id, reason=" ", now=NOW, cfg=CFG)
    with pytest.raises(Refused, match="无需请假"):
        leave_uc.request_leave(session, org.other_member, m.id, reason="忙", now=NOW, cfg=CFG)
    with pytest.raises(Refused, match="不能再请假"):
        leave_uc.request_leave(session, org.alice, m.id, reason="忙", now=START, cfg=CFG)
    assert session.scalar(select(func.count()).select_from(LeaveRequest)) == 0
    leave = leave_uc.request_leave(session, org.alice, m.id, reason="出差在外", now=NOW, cfg=CFG)
    with pytest.raises(Refused, match="只能请一次假"):
        leave_uc.request_leave(session, org.alice, m.id, reason="又有事", now=NOW, cfg=CFG)
    card = sent(session, f"leave:{leave.id}:ask")
    assert {c.person_id for c in card} == {org.secretary.id, org.deputy.id}
    assert [b["label"] for b in card[0].payload["buttons"]] == ["批准", "不批准"]
    for actor in (org.alice, org.org_member, org.other_secretary):
        with pytest.raises(Refused):
            leave_uc.decide_leave(session, actor, leave.id, approve=True, now=NOW, cfg=CFG)
    leave_uc.decide_leave(session, org.secretary, leave.id, approve=True, now=NOW, cfg=CFG)
    assert leave.status == LeaveStatus.APPROVED
    with pytest.raises(Refused, match="已经处理过"):
        leave_uc.decide_leave(session, org.deputy, leave.id, approve=False, now=NOW, cfg=CFG)
    assert sent(session, f"leave:{leave.id}:card")[0].payload["kind"] == "card_update"
    assert recipients(session, f"leave:{leave.id}:told") == {org.alice.id}
    bob = leave_uc.request_leave(session, org.bob, m.id, reason="家中有事", now=NOW, cfg=CFG)
    leave_uc.decide_leave(
        session, org.secretary, bob.id, approve=False, note="请调整时间参加", now=NOW, cfg=CFG
    )
    assert "未批准" in sent(session, f"leave:{bob.id}:told")[0].payload["text"]


def test_makeup_lifecycle_and_reminders(session, org):
    _meeting(session, org)
    signin_uc.close_windows(session, now=START + timedelta(hours=1), cfg=CFG)
    task = session.scalars(select(MakeupTask).where(MakeupTask.person_id == org.alice.id)).one()
    assert task.status == MakeupStatus.OPEN and task.due_on == date(2026, 5, 26)
    with pytest.raises(Refused, match="心得"):
        makeup_uc.report_makeup(session, org.alice, note="", now=NOW, cfg=CFG)
    with pytest.raises(Refused, match="没有待完成"):
        makeup_uc.report_makeup(session, org.other_member, note="学了", now=NOW, cfg=CFG)
    later = START + timedelta(days=2)
    makeup_uc.report_makeup(session, org.alice, note="已学习党章总纲", now=later, cfg=CFG)
    assert task.status == MakeupStatus.REPORTED
    with pytest.raises(Refused):
        makeup_uc.decide_makeup(session, org.bob, task.id, confirm=True, now=later, cfg=CFG)
    with pytest.raises(Refused):
        makeup_uc.decide_makeup(session, org.other_secretary, task.id, confirm=True, now=later, cfg=CFG)
    makeup_uc.decide_makeup(
        session, org.secretary, task.id, confirm=False, reason="请写具体", now=later, cfg=CFG
    )
    assert task.status == MakeupStatus.RETURNED
    assert "请写具体" in sent(session, f"makeup:{task.id}:told")[0].payload["text"]
    makeup_uc.report_makeup(session, org.alice, note="已学习党章总纲并写了心得", now=later, cfg=CFG)
    makeup_uc.decide_makeup(
        session, org.secretary, task.id, confirm=True, now=later + timedelta(minutes=1), cfg=CFG
    )
    assert task.status == MakeupStatus.CONFIRMED
    # Reminders: the day before the due date once; overdue once a day.
    day_before = datetime(2026, 5, 25, 1, tzinfo=UTC)
    n = makeup_uc.remind_makeup(session, now=day_before, cfg=CFG)
    # Everyone but alice (confirmed) and 王书记, who scheduled it and so counts as its host.
    assert n == 4
    assert makeup_uc.remind_makeup(session, now=day_before + timedelta(hours=2), cfg=CFG) == 0
    assert makeup_uc.remind_makeup(session, now=day_before + timedelta(days=2), cfg=CFG) == 4
    assert "逾期" in sent(session, "makeup:")[-1].payload["text"]


def test_absence_counts_consecutive_and_in_month(session, org):
    starts = [datetime(2026, 3, 10, 2, tzinfo=UTC), datetime(2026, 4, 10, 2, tzinfo=UTC),
              datetime(2026, 5, 5, 2, tzinfo=UTC), datetime(2026, 5, 15, 2, tzinfo=UTC)]  # fmt: skip
    for i, start in enumerate(starts):
        m = _meeting(session, org, start=start)
        now = start
        if i == 1:  # bob attends in April: breaks his streak
            signin_uc.sign_in(
                session, meeting_id=m.id, token=signin_uc.chat_token(SECRET, m, now, CFG), person=org.bob, now=now,
                cfg=CFG, secret=SECRET,
            )  # fmt: skip
        if i == 3:  # carol on approved leave in the last one
            session.add(LeaveRequest(meeting_id=m.id, person_id=org.carol.id, reason="病", requested_at=now,
                                     status=LeaveStatus.APPROVED))  # fmt: skip
        for p in (org.secretary, org.deputy, org.org_member, org.alice):
            signin_uc.sign_in(
                session, meeting_id=m.id, token=signin_uc.chat_token(SECRET, m, now, CFG), person=p, now=now, cfg=CFG,
                secret=SECRET,
            )  # fmt: skip
        signin_uc.close_windows(session, now=start + timedelta(hours=1), cfg=CFG)
    counts = makeup_uc.absence_counts(session, date(2026, 5, 1), CFG)
    assert counts[org.bob.id] == makeup_uc.AbsenceCount(absent_in_month=2, consecutive=2)
    assert counts[org.carol.id] == makeup_uc.AbsenceCount(absent_in_month=1, consecutive=0)
    assert org.alice.id not in counts
    april = makeup_uc.absence_counts(session, date(2026, 4, 1), CFG, branch_ids=[org.branch.id])
    assert april[org.carol.id].consecutive == 2 and org.bob.id not in april


def test_minutes_deadline_across_national_day():
    m = type("M", (), {"starts_at": datetime(2026, 9, 30, 6, tzinfo=UTC)})()
    assert minutes_uc.minutes_due_on(m, CFG) == date(2026, 10, 10)  # 10-8, 10-9, 10-10 (调休 Saturday)
    assert minutes_uc.add_workdays(date(2026, 5, 15), 3) == date(2026, 5, 20)
    # Beyond the calendar package's years: weekdays only.
    assert minutes_uc.add_workdays(date(2099, 1, 2), 1) == date(2099, 1, 5)


def test_minutes_recorded_from_signin_and_reminders(session, org):
    start = datetime(2026, 9, 30, 6, tzinfo=UTC)
    m = _meeting(session, org, start=start, types=("党员大会", "党课"))
    leave = leave_uc.request_leave(
        session, org.carol, m.id, reason="住院", now=start - timedelta(hours=2), cfg=CFG
    )
    leave_uc.decide_leave(
        session, org.secretary, leave.id, approve=True, now=start - timedelta(hours=1), cfg=CFG
    )
    for p in (org.secretary, org.deputy, org.org_member, org.alice):
        signin_uc.sign_in(
            session, meeting_id=m.id, token=signin_uc.chat_token(SECRET, m, start, CFG), person=p, now=start, cfg=CFG,
            secret=SECRET,
        )  # fmt: skip
    signin_uc.close_windows(session, now=start + timedelta(hours=1), cfg=CFG)
    data = minutes_uc.MinutesInput(chair="王书记", recorder="赵委员", topics="学习党章", decisions="无")
    with pytest.raises(Refused, match="开始"):
        minutes_uc.record_minutes(session, org.secretary, m.id, data, now=start - timedelta(hours=1), cfg=CFG)
    with pytest.raises(Refused):
        minutes_uc.record_minutes(session, org.alice, m.id, data, now=start, cfg=CFG)
    with pytest.raises(Refused, match="主持人"):
        minutes_uc.record_minutes(
            session, org.secretary, m.id, minutes_uc.MinutesInput("", "赵委员", "x"), now=start, cfg=CFG
        )
    # Not held until minutes exist; reminders start on the due day (10-10), not on 10-9.
    assert minutes_uc.held_meeting_kinds(session, date(2026, 9, 1), date(2026, 10, 1), CFG) == []
    assert minutes_uc.remind_missing_minutes(session, now=datetime(2026, 10, 9, 1, tzinfo=UTC), cfg=CFG) == 0
    assert minutes_uc.remind_missing_minutes(session, now=datetime(2026, 10, 10, 1, tzinfo=UTC), cfg=CFG) == 2
    # The 待办's button opens this meeting's form from chat (issue 15 point 6), no address needed.
    (button,) = sent(session, f"minutes:{org.branch.id}:remind:")[0].payload["buttons"]
    assert (button["action"], button["params"]) == ("meetings.minutes", {"meeting": str(m.id)})
    assert minutes_uc.remind_missing_minutes(session, now=datetime(2026, 10, 10, 3, tzinfo=UTC), cfg=CFG) == 0
    saved = minutes_uc.record_minutes(
        session, org.secretary, m.id, data, now=datetime(2026, 10, 10, 2, tzinfo=UTC), cfg=CFG
    )
    assert saved.expected_count == 6 and saved.present_count == 4 and saved.due_on == date(2026, 10, 10)
    assert {a["name"]: a["reason"] for a in saved.absentees} == {"刘芳": "住院", "陈刚": "无故缺席"}
    assert recipients(session, f"meeting:{m.id}:minutes-to-makeup") == {org.carol.id, org.bob.id}
    held = minutes_uc.held_meeting_kinds(session, date(2026, 9, 1), date(2026, 10, 1), CFG)
    assert sorted(h[1] for h in held) == [MeetingType.PARTY_CONGRESS, MeetingType.PARTY_LECTURE]
    assert all(h[4] for h in held)  # on time
    assert session.scalar(select(func.count()).select_from(Minutes)) == 1
    assert minutes_uc.remind_missing_minutes(session, now=datetime(2026, 10, 11, 1, tzinfo=UTC), cfg=CFG) == 0


def test_registered_jobs_run_idempotently(session, org):
    from handlers.meetings.jobs import jobs
    from scheduler.jobs import all_jobs

    meeting_jobs = jobs(CORE)
    assert {j.name for j in meeting_jobs} <= {j.name for j in all_jobs(CORE)}
    m = _meeting(session, org)
    later = START + timedelta(hours=1)
    for _ in range(2):
        for job in meeting_jobs:
            job.function(session, later, "p")
    session.commit()
    # Six invitees, one of them the host (王书记, who scheduled it): five 补学.
    assert session.scalar(select(func.count()).select_from(MakeupTask)) == 5
    assert session.get(type(m), m.id).closed_at is not None
