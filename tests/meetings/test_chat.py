"""The meetings commands and card actions through the real dispatcher (one transaction per event)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from handlers.meetings import meetings as meetings_uc
from handlers.meetings.chat import router
from models.meetings import Attendance, AttendanceMethod, LeaveRequest, LeaveStatus, MakeupStatus, MakeupTask
from tests import harness
from tests.meetings.conftest import CFG, NOW

START = NOW + timedelta(days=1)


def test_secretary_and_member_flow_in_chat(session_factory, session, org):
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
    chat = harness.Chat(session_factory, [router], now=NOW)
    # A member cannot get the code; the secretary can, and gets an image plus the projector link.
    assert "只有本支部" in chat.say("zhangli", "签到码").text
    chat.now = START - timedelta(hours=2)
    out = chat.say("wangsj", "签到码").replies
    assert out[0]["kind"] == "image" and f"/h5/meetings/{m.id}/qr.png?t=" in out[0]["url"]
    assert any("/projector?k=" in b["url"] for b in out[1]["buttons"])
    # Leave from the notice button, then by message with the meeting number.
    ask = chat.press("zhangli", "meetings.leave", meeting=str(m.id)).replies
    assert f"请假 #{m.id}" in ask[0]["text"]
    assert [b["label"] for b in ask[0]["buttons"]] == ["出差在外", "学习培训", "生病", "家中有事"]
    reason = ask[0]["buttons"][0]
    assert "已提交" in chat.press("zhangli", reason["action"], **reason["params"]).text
    assert "只能请一次假" in chat.say("zhangli", "请假 还是出差").text
    assert "已提交" in chat.say("chengang", "请假：家里有事").text  # next meeting, full-width colon
    with session_factory() as s:
        leaves = {lr.person_id: lr for lr in s.scalars(select(LeaveRequest))}
    assert set(leaves) == {org.alice.id, org.bob.id}
    # The other branch's secretary cannot approve; ours can.
    assert "只有本支部" in chat.press("wusj", "leave.approve", leave=str(leaves[org.alice.id].id)).text
    chat.press("wangsj", "leave.approve", leave=str(leaves[org.alice.id].id))
    chat.press("wangsj", "leave.reject", leave=str(leaves[org.bob.id].id))
    with session_factory() as s:
        status = dict(s.execute(select(LeaveRequest.person_id, LeaveRequest.status)).all())
    assert status == {org.alice.id: LeaveStatus.APPROVED, org.bob.id: LeaveStatus.REJECTED}
    # After the start, leave is refused with why.
    chat.now = START + timedelta(minutes=1)
    assert "不能再请假" in chat.say("liufang", f"请假 #{m.id} 临时有事").text
    # 代签 and the live list.
    assert "已为刘芳代签" in chat.say("wangsj", "代签 刘芳 手机没电").text
    assert "代签需要写明原因" in chat.say("wangsj", "代签 陈刚").text
    sheet = chat.say("wangsj", "签到情况").text
    assert "应到6人，已签到1人" in sheet and "请假：张丽" in sheet
    with session_factory() as s:
        assert s.scalars(select(Attendance.method)).all() == [AttendanceMethod.PROXY]
    # 详情 shows a member their own status only for meetings they are invited to.
    assert "请假已批准" in chat.press("zhangli", "meetings.detail", meeting=str(m.id)).text
    assert "无法查看" in chat.press("zhengq", "meetings.detail", meeting=str(m.id)).text
    # Window closes; 补学 reported and confirmed from the card.
    from handlers.meetings.signin import close_windows

    with session_factory() as s, s.begin():
        close_windows(s, now=START + timedelta(hours=1), cfg=CFG)
    chat.now = START + timedelta(days=1)
    assert "待补学" in chat.say("zhangli", "我的补学").text
    assert "等待书记确认" in chat.say("zhangli", "补学完成 已学习会议精神").text
    with session_factory() as s:
        task = s.scalars(select(MakeupTask).where(MakeupTask.person_id == org.alice.id)).one()
    assert "只有本支部" in chat.press("zhangli", "makeup.confirm", task=str(task.id)).text
    chat.press("wangsj", "makeup.confirm", task=str(task.id))
    with session_factory() as s:
        assert s.get(MakeupTask, task.id).status == MakeupStatus.CONFIRMED
    month = chat.say("wangsj", "本月会议").text
    # 刘芳 (代签) and 王书记, who scheduled it and so is taken to be its host (issue 15 point 5).
    assert "党员大会" in month and "待记录，出席2/6" in month
    assert "只有本支部" in chat.say("zhangli", "本月会议").text


def test_bad_params_and_strangers_change_nothing(session_factory, session, org):
    chat = harness.Chat(session_factory, [router], now=NOW)
    assert "没有找到这次会议" in chat.press("wangsj", "meetings.signin_code", meeting="abc").text
    assert "没有需要签到" in chat.say("wangsj", "签到码").text
    assert "没有需要参加的会议" in chat.say("zhangli", "请假 出差").text
    assert "没有待完成" in chat.say("zhangli", "补学完成 学了").text
    assert "用法" in chat.say("zhouzz", "退回计划 没有编号").text
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(LeaveRequest)) == 0


def test_move_and_cancel_in_chat(session_factory, session, org):
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
    chat = harness.Chat(session_factory, [router], now=NOW)
    assert "用法" in chat.say("wangsj", "调整会议 明天").text
    assert "时间格式" in chat.say("wangsj", f"调整会议 #{m.id} 明天 上午").text
    assert "只有本支部" in chat.say("wusj", f"调整会议 #{m.id} 2026-05-21 09:00").text
    assert "调整通知已发给6名党员" in chat.say("wangsj", f"调整会议 #{m.id} 2026-05-21 09:00 大礼堂").text
    with session_factory() as s:
        moved = s.get(type(m), m.id)
        assert moved.place == "大礼堂" and moved.starts_at.isoformat() == "2026-05-21T01:00:00+00:00"
    assert "取消通知已发给6名党员" in chat.say("wangsj", f"取消会议 #{m.id} 台风").text
    assert "已经取消" in chat.say("wangsj", f"取消会议 #{m.id} 台风").text
