"""QR sign-in use case: signed tokens, outcomes, uniqueness, 代签, the live list and closing the window."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from handlers.meetings import meetings as meetings_uc
from handlers.meetings import signin as uc
from handlers.meetings.leave import decide_leave, request_leave
from handlers.meetings.types import Refused
from models.meetings import (
    Attendance,
    AttendanceMethod,
    AttendanceStatus,
    MakeupOrigin,
    MakeupTask,
    SigninAttempt,
    SigninOutcome,
)
from tests.meetings.conftest import CFG, NOW, SECRET, recipients

START = NOW + timedelta(days=1)


@pytest.fixture
def meeting(session, org):
    m = meetings_uc.schedule_meeting(
        session,
        org.secretary,
        types=["党员大会"],
        starts_at=START,
        place="会议室",
        topic="学习",
        now=NOW,
        cfg=CFG,
    )
    session.commit()
    return m


def _sign(session, meeting, person, now, token=None):
    token = token or uc.chat_token(SECRET, meeting, now, CFG)
    return uc.sign_in(
        session, meeting_id=meeting.id, token=token, person=person, now=now, cfg=CFG, secret=SECRET
    )


def _attendance(session, meeting_id=None):
    stmt = select(func.count()).select_from(Attendance)
    if meeting_id:
        stmt = stmt.where(Attendance.meeting_id == meeting_id)
    return session.scalar(stmt)


def test_token_checks():
    now = NOW
    good = uc.make_token(SECRET, 7, now + timedelta(seconds=30))
    grace = timedelta(seconds=15)
    assert uc.check_token(SECRET, good, 7, now, grace=grace) == SigninOutcome.OK
    assert uc.check_token(SECRET, good, 8, now, grace=grace) == SigninOutcome.OTHER_MEETING
    assert uc.check_token(SECRET, good, 7, now + timedelta(seconds=44), grace=grace) == SigninOutcome.OK
    assert uc.check_token(SECRET, good, 7, now + timedelta(seconds=46), grace=grace) == SigninOutcome.EXPIRED
    assert uc.check_token("another-key", good, 7, now, grace=grace) == SigninOutcome.FORGED
    mid, exp, sig = good.split(".")
    assert (
        uc.check_token(SECRET, f"{mid}.{int(exp) + 3600}.{sig}", 7, now, grace=grace) == SigninOutcome.FORGED
    )
    assert uc.check_token(SECRET, "garbage", 7, now, grace=grace) == SigninOutcome.FORGED
    # A projector key is never accepted as a sign-in token.
    key = uc.make_token(SECRET, 7, now + timedelta(hours=1), uc.PROJECTOR)
    assert uc.check_token(SECRET, key, 7, now, grace=grace) == SigninOutcome.FORGED


def test_sign_in_on_time_late_and_again(session, org, meeting):
    r = _sign(session, meeting, org.alice, START - timedelta(minutes=10))
    assert r.outcome == SigninOutcome.OK
    r = _sign(session, meeting, org.bob, START + timedelta(minutes=11))
    assert r.outcome == SigninOutcome.LATE
    again = _sign(session, meeting, org.alice, START)
    assert again.outcome == SigninOutcome.ALREADY and again.at == START - timedelta(minutes=10)
    session.commit()
    assert _attendance(session) == 2
    statuses = dict(session.execute(select(Attendance.person_id, Attendance.status)).all())
    assert statuses == {org.alice.id: AttendanceStatus.PRESENT, org.bob.id: AttendanceStatus.LATE}
    # Each success's receipt is due, and queued once by the relays' feeder however often it is asked.
    assert uc.queue_signin_receipts(session, START, cfg=CFG) == 2
    assert uc.queue_signin_receipts(session, START, cfg=CFG) == 0
    assert recipients(session, f"meeting:{meeting.id}:signin") == {org.alice.id, org.bob.id}
    outcomes = [a.outcome for a in session.scalars(select(SigninAttempt).order_by(SigninAttempt.id))]
    assert outcomes == [SigninOutcome.ALREADY]  # the two successes are their attendance rows
    title, text = uc.outcome_page(again, CFG)
    assert title == "您已签到" and "无需重复签到" in text


def test_refusals_change_nothing_but_are_logged(session, org, meeting):
    other = meetings_uc.schedule_meeting(
        session, org.other_secretary, types=["党课"], starts_at=START, place="x", topic="y", now=NOW, cfg=CFG
    )
    cases = [
        (org.other_member, START, None, SigninOutcome.NOT_EXPECTED),
        (org.exempt, START, None, SigninOutcome.NOT_EXPECTED),
        (None, START, None, SigninOutcome.NOT_MEMBER),
        (org.alice, START - timedelta(minutes=31), None, SigninOutcome.NOT_OPEN),
        (org.alice, START + timedelta(minutes=31), None, SigninOutcome.CLOSED),
        (org.alice, START, uc.chat_token(SECRET, other, START, CFG), SigninOutcome.OTHER_MEETING),
        (
            org.alice,
            START,
            uc.make_token("forger", meeting.id, START + timedelta(hours=1)),
            SigninOutcome.FORGED,
        ),
        (
            org.alice,
            START,
            uc.make_token(SECRET, meeting.id, START - timedelta(minutes=5)),
            SigninOutcome.EXPIRED,
        ),
    ]
    for person, when, token, expected in cases:
        assert _sign(session, meeting, person, when, token).outcome == expected, expected
    session.commit()
    assert _attendance(session) == 0
    assert session.scalar(select(func.count()).select_from(SigninAttempt)) == len(cases)
    assert recipients(session, f"meeting:{meeting.id}:signin") == set()


def test_projector_token_valid_for_refresh_plus_grace(session, org, meeting):
    issued = START - timedelta(minutes=5)
    token = uc.projector_token(SECRET, meeting, issued, CFG)
    assert (
        _sign(session, meeting, org.alice, issued + timedelta(seconds=40), token).outcome == SigninOutcome.OK
    )
    assert (
        _sign(session, meeting, org.bob, issued + timedelta(seconds=50), token).outcome
        == SigninOutcome.EXPIRED
    )


def test_cancelled_meeting_refuses(session, org, meeting):
    meetings_uc.cancel_meeting(session, org.secretary, meeting.id, reason="改期", now=NOW, cfg=CFG)
    assert _sign(session, meeting, org.alice, START).outcome == SigninOutcome.CANCELLED
    assert _attendance(session) == 0


def test_proxy_sign_in_by_secretary_only(session, org, meeting):
    now = START + timedelta(minutes=5)
    with pytest.raises(Refused):
        uc.proxy_sign_in(session, org.alice, meeting.id, name="陈刚", reason="手机没电", now=now, cfg=CFG)
    with pytest.raises(Refused):
        uc.proxy_sign_in(
            session, org.other_secretary, meeting.id, name="陈刚", reason="手机没电", now=now, cfg=CFG
        )
    with pytest.raises(Refused, match="原因"):
        uc.proxy_sign_in(session, org.secretary, meeting.id, name="陈刚", reason="", now=now, cfg=CFG)
    with pytest.raises(Refused, match="郑强"):
        uc.proxy_sign_in(session, org.secretary, meeting.id, name="郑强", reason="x", now=now, cfg=CFG)
    assert _attendance(session) == 0
    assert "已为陈刚代签" in uc.proxy_sign_in(
        session, org.secretary, meeting.id, name="陈刚", reason="手机没电", now=now, cfg=CFG
    )
    assert "已有记录" in uc.proxy_sign_in(
        session, org.secretary, meeting.id, name="陈刚", reason="手机没电", now=now, cfg=CFG
    )
    row = session.scalars(select(Attendance)).one()
    assert (
        row.method == AttendanceMethod.PROXY
        and row.reason == "手机没电"
        and row.marked_by_id == org.secretary.id
    )
    assert _sign(session, meeting, org.bob, now).outcome == SigninOutcome.ALREADY


def test_attendance_sheet_and_window_close(session, org, meeting):
    leave = request_leave(session, org.carol, meeting.id, reason="出差", now=NOW, cfg=CFG)
    decide_leave(session, org.secretary, leave.id, approve=True, now=NOW, cfg=CFG)
    _sign(session, meeting, org.alice, START)
    _sign(session, meeting, org.secretary, START)
    sheet = uc.attendance_sheet(session, meeting)
    assert [p.name for p, _ in sheet.present] == ["王书记", "张丽"]
    assert [p.name for p in sheet.leave] == ["刘芳"]
    assert {p.name for p in sheet.missing} == {"李副书记", "赵委员", "陈刚"}
    assert "应到6人，已签到2人" in uc.attendance_text(sheet)
    # Not yet closed at +29 min; closed at +31 min; a second run does nothing.
    assert uc.close_windows(session, now=START + timedelta(minutes=29), cfg=CFG) == []
    assert uc.close_windows(session, now=START + timedelta(minutes=31), cfg=CFG) == [meeting.id]
    assert uc.close_windows(session, now=START + timedelta(minutes=40), cfg=CFG) == []
    session.commit()
    statuses = dict(session.execute(select(Attendance.person_id, Attendance.status)).all())
    assert statuses[org.carol.id] == AttendanceStatus.LEAVE
    assert (
        statuses[org.bob.id] == AttendanceStatus.ABSENT and statuses[org.deputy.id] == AttendanceStatus.ABSENT
    )
    assert _attendance(session) == 6
    tasks = {t.person_id: t for t in session.scalars(select(MakeupTask))}
    assert set(tasks) == {org.carol.id, org.bob.id, org.deputy.id, org.org_member.id}
    assert (
        tasks[org.carol.id].origin == MakeupOrigin.LEAVE and tasks[org.bob.id].origin == MakeupOrigin.ABSENCE
    )
    assert str(tasks[org.bob.id].due_on) == "2026-05-26"  # meeting on the 19th + 7 days
    assert recipients(session, "makeup:") == set(tasks)
    # After closing, a scan is refused.
    assert _sign(session, meeting, org.bob, START + timedelta(minutes=20)).outcome == SigninOutcome.CLOSED
