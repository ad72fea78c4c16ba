"""The weekly 待办, the job registry, and the monthly job under restarts and two schedulers."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from handlers.monthly import todo
from handlers.monthly.config import MonthlyConfig
from models.fees import FeePayment, PaymentMethod, PaymentStatus
from models.meetings import (
    LeaveRequest,
    MakeupOrigin,
    MakeupStatus,
    MakeupTask,
    Meeting,
    MeetingType,
    Minutes,
)
from models.monthly import Escalation, MonthlyScore
from models.outbox import OutboxMessage
from scheduler.jobs import all_jobs
from scheduler.runner import RunResult, latest_fire, run_due, run_job
from tests.harness import CONFIG, Chat
from tests.monthly.conftest import BASE, CFG, comply, local, outbox

TZ = ZoneInfo("Asia/Shanghai")
MONDAY = local(date(2026, 9, 21), 8)  # Mon 2026-09-21 08:00 local; the 2026-10 plan is due on the 25th


def test_weekly_todo_lists_what_waits(session, county):
    m = comply(session, county, county.b1, date(2026, 9, 1), (MeetingType.THEME_DAY,), day=15)
    session.query(Minutes).filter_by(meeting_id=m.id).delete()
    m2 = comply(session, county, county.b1, date(2026, 9, 1), (MeetingType.PARTY_LECTURE,), day=16)
    session.add(
        LeaveRequest(meeting_id=m2.id, person_id=county.people["m1a"].id, reason="出差", requested_at=MONDAY)
    )
    session.add(MakeupTask(meeting_id=m2.id, person_id=county.people["m1b"].id, origin=MakeupOrigin.LEAVE,
                           due_on=date(2026, 9, 23), status=MakeupStatus.REPORTED))  # fmt: skip
    session.add(FeePayment(person_id=county.people["m1a"].id, branch_id=county.b1.id, month=date(2026, 9, 1),
                           amount=5, paid_at=MONDAY, method=PaymentMethod.SELF_REPORTED,
                           status=PaymentStatus.REPORTED))  # fmt: skip
    # Everyone else has handed in the October plan already; nothing else waits on them.
    for b in (county.b2, county.b3, county.b4):
        comply(session, county, b, date(2026, 10, 1), (MeetingType.THEME_DAY,))
    session.query(Meeting).filter(Meeting.branch_id != county.b1.id).delete()
    session.commit()
    sent = todo.send_todos(session, now=MONDAY, base_url=BASE, mcfg=MonthlyConfig(), cfg=CFG)
    session.commit()
    assert sent == 1
    (card,) = outbox(session, "monthly:todo:")
    assert card.person_id == county.people["sec1"].id
    text = card.payload["text"]
    for line in ("2026年10月计划未报送（截止9月25日）", "1次会议待填记录（最早 9月15日）", "1条请假待审批",
                 "1项补学待确认", "1笔党费待确认（发送“党费确认”）"):  # fmt: skip
        assert line in text
    # Issue 15: 6. Each line with a page opens it: the plan form, the minutes form of that meeting
    # (the card's one button used to open the new-meeting form for every line).
    assert [(b["label"], b["url"]) for b in card.payload["buttons"]] == [
        ("报送2026年10月计划", f"{BASE}/h5/meetings/plan?month=2026-10"),
        ("填写会议记录", f"{BASE}/h5/meetings/{m.id}/minutes"),
    ]
    # A job that knows no public URL still sends the minutes' button, as the chat action that
    # answers with that meeting's form.
    assert todo.send_todos(session, now=MONDAY + timedelta(days=7), mcfg=MonthlyConfig(), cfg=CFG) == 1
    session.commit()
    (later,) = outbox(session, f"monthly:todo:{(MONDAY + timedelta(days=7)).date():%Y-%m-%d}")
    assert [(b["label"], b["action"], b["params"]) for b in later.payload["buttons"]] == [
        ("填写会议记录", "meetings.minutes", {"meeting": str(m.id)})
    ]
    # Idempotent within the week; nothing for branches with nothing waiting.
    assert todo.send_todos(session, now=MONDAY + timedelta(hours=2), mcfg=MonthlyConfig(), cfg=CFG) == 0


def test_several_meetings_awaiting_minutes_open_their_list(session_factory, session, county):
    """Two meetings without minutes: the button asks the meetings feature for the list of them, whose
    answer has each meeting's minutes form."""
    from handlers.meetings.chat import router as meetings_router

    waiting = []
    for day in (15, 16):
        m = comply(session, county, county.b1, date(2026, 9, 1), (MeetingType.THEME_DAY,), day=day)
        session.query(Minutes).filter_by(meeting_id=m.id).delete()
        waiting.append(m.id)
    for b in (county.b1, county.b2, county.b3, county.b4):
        comply(session, county, b, date(2026, 10, 1), (MeetingType.THEME_DAY,), day=28)
    session.query(Meeting).filter(Meeting.starts_at > MONDAY).delete()
    session.commit()
    assert todo.send_todos(session, now=MONDAY, base_url=BASE, mcfg=MonthlyConfig(), cfg=CFG) == 1
    session.commit()
    (card,) = outbox(session, "monthly:todo:")
    assert card.payload["text"] == "- 2次会议待填记录（最早 9月15日）"
    (button,) = card.payload["buttons"]
    assert button["label"] == "待填记录的会议" and button["url"] == ""
    chat = Chat(session_factory, [meetings_router], now=MONDAY)
    (answer,) = chat.press("sec1", button["action"], **button["params"]).replies
    assert [b["url"] for b in answer["buttons"]] == [f"{BASE}/h5/meetings/{i}/minutes" for i in waiting]


def test_weekly_todo_sends_nothing_when_empty(session, county):
    for b in (county.b1, county.b2, county.b3, county.b4):
        comply(session, county, b, date(2026, 10, 1), (MeetingType.THEME_DAY,), day=28)
    session.commit()
    assert todo.send_todos(session, now=MONDAY, mcfg=MonthlyConfig(), cfg=CFG) == 0
    assert outbox(session) == []


def test_jobs_are_registered_with_their_periods():
    specs = {j.name: j for j in all_jobs(CONFIG)}
    monthly, weekly = specs["monthly"], specs["monthly.todo"]
    fire = latest_fire(monthly, TZ, datetime(2026, 11, 1, 2, 0, tzinfo=UTC))  # 10:00 local on Nov 1
    assert fire is not None and (fire.day, fire.hour) == (1, 9)
    assert monthly.period(fire) == "2026-10"  # the month it reports on
    fire = latest_fire(weekly, TZ, MONDAY + timedelta(hours=1))
    assert (fire.weekday(), fire.hour, fire.minute) == (0, 8, 30)


def _october(session, county):
    for b in (county.b1, county.b2, county.b3, county.b4):
        comply(session, county, b, date(2026, 10, 1), (MeetingType.THEME_DAY,) if b != county.b3 else ())
    session.commit()


def test_monthly_job_once_per_period_across_restarts(session_factory, session, county, observers):
    _october(session, county)
    spec = {j.name: j for j in all_jobs(CONFIG)}["monthly"]
    now = datetime(2026, 11, 1, 1, 5, tzinfo=UTC)  # 09:05 local
    assert run_due(session_factory, spec, TZ, now, trigger="schedule") == RunResult.RAN
    rows = session.scalar(select(func.count()).select_from(OutboxMessage))
    assert rows > 0
    # A restart catches up: the period is taken, nothing runs again.
    assert (
        run_due(session_factory, spec, TZ, now + timedelta(hours=1), trigger="catch-up") == RunResult.ALREADY
    )
    assert session.scalar(select(func.count()).select_from(OutboxMessage)) == rows
    assert session.scalar(select(func.count()).select_from(MonthlyScore)) == 6


def test_two_schedulers_run_the_month_once(session_factory, session, county, observers, database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("two processes racing for the claim is a PostgreSQL question (SQLite serialises writers)")
    _october(session, county)
    spec = {j.name: j for j in all_jobs(CONFIG)}["monthly"]
    now = datetime(2026, 11, 1, 1, 0, tzinfo=UTC)
    results: list[RunResult] = []
    barrier = threading.Barrier(2)

    def scheduler():
        barrier.wait()
        results.append(run_job(session_factory, spec, now=now, period="2026-10"))

    threads = [threading.Thread(target=scheduler) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(results) == sorted([RunResult.RAN, RunResult.ALREADY])
    session.expire_all()
    keys = session.scalars(select(OutboxMessage.dedup_key)).all()
    assert len(keys) == len(
        set(zip(keys, session.scalars(select(OutboxMessage.person_id)).all(), strict=True))
    )
    assert session.scalar(select(func.count()).select_from(MonthlyScore)) == 6
    assert session.scalar(select(func.count()).select_from(Escalation)) == len(
        set(session.execute(select(Escalation.ladder, Escalation.subject_id, Escalation.rung)).all())
    )
