"""The host and the recorder count as present (issue 15 point 5): one definition of "present" serves
the sign-in list, 补学, the minutes' 实到 and quorum, and the monthly absence counts."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from handlers.meetings import makeup as makeup_uc
from handlers.meetings import meetings as meetings_uc
from handlers.meetings import minutes as minutes_uc
from handlers.meetings import signin as signin_uc
from handlers.meetings.jobs import meeting_reminders
from models.meetings import Attendance, AttendanceStatus, MakeupTask
from tests.meetings.conftest import CFG, NOW, SECRET, recipients, sent

START = NOW + timedelta(days=1)
CLOSED = START + timedelta(hours=1)


def _meeting(session, org):
    m = meetings_uc.schedule_meeting(
        session, org.secretary, types=["党员大会"], starts_at=START, place="会议室", topic="学习党章",
        now=NOW, cfg=CFG,
    )  # fmt: skip
    session.flush()
    return m


def _scan(session, meeting, person, at):
    token = signin_uc.make_token(SECRET, meeting.id, at + timedelta(minutes=1))
    result = signin_uc.sign_in(
        session, meeting_id=meeting.id, token=token, person=person, now=at, cfg=CFG, secret=SECRET
    )
    assert result.signed_in


def _status(session, meeting) -> dict[int, AttendanceStatus]:
    rows = session.scalars(select(Attendance).where(Attendance.meeting_id == meeting.id))
    return {a.person_id: a.status for a in rows}


def _tasks(session, meeting) -> set[int]:
    return set(session.scalars(select(MakeupTask.person_id).where(MakeupTask.meeting_id == meeting.id)))


def test_the_host_is_asked_to_sign_in_once_when_the_window_opens(session, org):
    m = _meeting(session, org)
    meeting_reminders(session, START - timedelta(minutes=31), CFG)
    assert not sent(session, f"meeting:{m.id}:v1:host-signin")  # not open yet
    meeting_reminders(session, START - timedelta(minutes=29), CFG)
    meeting_reminders(session, START - timedelta(minutes=20), CFG)
    (card,) = sent(session, f"meeting:{m.id}:v1:host-signin")
    assert card.person_id == org.secretary.id
    assert f"会议 #{m.id}" in card.payload["text"] and "您本人也请扫码签到" in card.payload["text"]
    assert [(b["label"], b["action"]) for b in card.payload["buttons"]] == [
        ("签到码", "meetings.signin_code")
    ]


def test_a_host_who_signed_in_is_not_reminded(session, org):
    m = _meeting(session, org)
    _scan(session, m, org.secretary, START - timedelta(minutes=29))
    meeting_reminders(session, START - timedelta(minutes=25), CFG)
    assert not sent(session, f"meeting:{m.id}:v1:host-signin")


def test_the_host_who_did_not_scan_is_present_and_hears_the_summary(session, org):
    m = _meeting(session, org)
    _scan(session, m, org.alice, START)
    signin_uc.close_windows(session, now=CLOSED, cfg=CFG)
    status = _status(session, m)
    assert (
        status[org.secretary.id] == AttendanceStatus.PRESENT
        and status[org.alice.id] == AttendanceStatus.PRESENT
    )
    assert [p.id for p, _ in signin_uc.attendance_sheet(session, m).present] == [
        org.secretary.id,
        org.alice.id,
    ]
    # 补学 for the four who missed it, never for the host.
    assert _tasks(session, m) == {org.deputy.id, org.org_member.id, org.bob.id, org.carol.id}
    (summary,) = sent(session, f"meeting:{m.id}:closed-summary")
    assert summary.person_id == org.secretary.id
    text = summary.payload["text"]
    assert "应到6人，实到2人，请假0人，缺席4人" in text
    assert "缺席：李副书记、赵委员、陈刚、刘芳" in text
    assert [b["action"] for b in summary.payload["buttons"]] == ["meetings.minutes"]


def test_the_minutes_chair_and_recorder_count_and_a_presumed_host_they_leave_out_does_not(session, org):
    m = _meeting(session, org)
    _scan(session, m, org.alice, START)
    signin_uc.close_windows(session, now=CLOSED, cfg=CFG)
    assert org.org_member.id in _tasks(session, m)
    # 李副书记 chaired and 赵委员 recorded; 王书记, who scheduled it, was not there after all.
    data = minutes_uc.MinutesInput("李副书记", "赵委员", "学习党章")
    saved = minutes_uc.record_minutes(session, org.deputy, m.id, data, now=CLOSED, cfg=CFG)
    status = _status(session, m)
    assert status[org.deputy.id] == status[org.org_member.id] == AttendanceStatus.PRESENT
    assert status[org.secretary.id] == AttendanceStatus.ABSENT
    assert _tasks(session, m) == {org.secretary.id, org.bob.id, org.carol.id}
    assert saved.present_count == 3 and saved.present_full == 3
    assert {a["name"] for a in saved.absentees} == {"王书记", "陈刚", "刘芳"}
    withdrawn = [s for s in sent(session, "makeup:") if s.dedup_key.endswith(":withdrawn")]
    assert {s.person_id for s in withdrawn} == {org.deputy.id, org.org_member.id}
    assert "无需补学" in withdrawn[0].payload["text"]
    # The monthly counts read the same rows: the recorder is not absent, the secretary is.
    counts = makeup_uc.absence_counts(session, date(2026, 5, 1), CFG, branch_ids=[org.branch.id])
    assert set(counts) == {org.secretary.id, org.bob.id, org.carol.id}
    # Saving the same minutes again changes nothing and tells nobody twice.
    before = len(sent(session))
    minutes_uc.record_minutes(session, org.deputy, m.id, data, now=CLOSED + timedelta(minutes=5), cfg=CFG)
    assert _tasks(session, m) == {org.secretary.id, org.bob.id, org.carol.id}
    assert len(sent(session)) == before


def test_minutes_before_the_window_closes_make_the_hosts_present_and_close_adds_no_task(session, org):
    m = _meeting(session, org)
    data = minutes_uc.MinutesInput("王书记", "赵委员", "学习党章")
    minutes_uc.record_minutes(session, org.secretary, m.id, data, now=START + timedelta(minutes=20), cfg=CFG)
    signin_uc.close_windows(session, now=CLOSED, cfg=CFG)
    assert org.secretary.id not in _tasks(session, m) and org.org_member.id not in _tasks(session, m)
    assert recipients(session, f"meeting:{m.id}:closed-summary") == {org.secretary.id, org.org_member.id}


def test_a_host_on_approved_leave_is_not_presumed_present(session, org):
    from handlers.meetings import leave as leave_uc

    m = _meeting(session, org)
    leave = leave_uc.request_leave(session, org.secretary, m.id, reason="出差在外", now=NOW, cfg=CFG)
    leave_uc.decide_leave(session, org.deputy, leave.id, approve=True, now=NOW, cfg=CFG)
    signin_uc.close_windows(session, now=CLOSED, cfg=CFG)
    assert _status(session, m)[org.secretary.id] == AttendanceStatus.LEAVE
    assert org.secretary.id in _tasks(session, m)
