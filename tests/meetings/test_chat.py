"""The meetings commands and card actions through the real dispatcher (one transaction per event)."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from bot.core.context import CoreConfig
from bot.core.dispatcher import Dispatcher
from bot.core.events import Account, CardActionPressed, Conversation, TextReceived
from bot.core.router import Routes
from handlers.meetings import meetings as meetings_uc
from handlers.meetings.chat import router
from models.meetings import Attendance, AttendanceMethod, LeaveRequest, LeaveStatus, MakeupStatus, MakeupTask
from models.org import Platform
from models.outbox import OutboxMessage
from tests.meetings.conftest import CFG, CORP, NOW, SECRET

CORE = CoreConfig(tz=ZoneInfo("Asia/Shanghai"), public_base_url="http://127.0.0.1:8000", secret_key=SECRET)
START = NOW + timedelta(days=1)


class Chat:
    def __init__(self, session_factory):
        self.now = NOW
        self.dispatcher = Dispatcher(session_factory, Routes([router]), CORE, clock=lambda: self.now)
        self.session_factory = session_factory
        self.n = 0

    def _conv(self, account):
        return Account(Platform.DINGTALK, CORP, account), Conversation(Platform.DINGTALK, CORP, account)

    def say(self, account: str, text: str) -> list[dict]:
        self.n += 1
        sender, conv = self._conv(account)
        self.dispatcher.dispatch(TextReceived(f"e{self.n}", sender, "x", conv, text, self.now))
        return self.replies(f"e{self.n}")

    def press(self, account: str, action: str, **params) -> list[dict]:
        self.n += 1
        sender, conv = self._conv(account)
        self.dispatcher.dispatch(
            CardActionPressed(f"e{self.n}", sender, "x", conv, action, params, "card", self.now)
        )
        return self.replies(f"e{self.n}")

    def replies(self, event_id: str) -> list[dict]:
        with self.session_factory() as s:
            rows = s.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.dedup_key.startswith(f"reply:{event_id}:"))
                .order_by(OutboxMessage.id)
            ).all()
            return [r.payload for r in rows]


def _text(payloads: list[dict]) -> str:
    return "\n".join(p.get("text", "") + " ".join(str(f) for f in p.get("fields", [])) for p in payloads)


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
    chat = Chat(session_factory)
    # A member cannot get the code; the secretary can, and gets an image plus the projector link.
    assert "只有本支部" in _text(chat.say("zhangli", "签到码"))
    chat.now = START - timedelta(hours=2)
    out = chat.say("wangsj", "签到码")
    assert out[0]["kind"] == "image" and f"/h5/meetings/{m.id}/qr.png?t=" in out[0]["url"]
    assert any("/projector?k=" in b["url"] for b in out[1]["buttons"])
    # Leave from the notice button, then by message with the meeting number.
    ask = chat.press("zhangli", "meetings.leave", meeting=str(m.id))
    assert f"请假 #{m.id}" in ask[0]["text"]
    assert [b["label"] for b in ask[0]["buttons"]] == ["出差在外", "学习培训", "生病", "家中有事"]
    reason = ask[0]["buttons"][0]
    assert "已提交" in _text(chat.press("zhangli", reason["action"], **reason["params"]))
    assert "只能请一次假" in _text(chat.say("zhangli", "请假 还是出差"))
    assert "已提交" in _text(chat.say("chengang", "请假：家里有事"))  # next meeting, full-width colon
    with session_factory() as s:
        leaves = {lr.person_id: lr for lr in s.scalars(select(LeaveRequest))}
    assert set(leaves) == {org.alice.id, org.bob.id}
    # The other branch's secretary cannot approve; ours can.
    assert "只有本支部" in _text(chat.press("wusj", "leave.approve", leave=str(leaves[org.alice.id].id)))
    chat.press("wangsj", "leave.approve", leave=str(leaves[org.alice.id].id))
    chat.press("wangsj", "leave.reject", leave=str(leaves[org.bob.id].id))
    with session_factory() as s:
        status = dict(s.execute(select(LeaveRequest.person_id, LeaveRequest.status)).all())
    assert status == {org.alice.id: LeaveStatus.APPROVED, org.bob.id: LeaveStatus.REJECTED}
    # After the start, leave is refused with why.
    chat.now = START + timedelta(minutes=1)
    assert "不能再请假" in _text(chat.say("liufang", f"请假 #{m.id} 临时有事"))
    # 代签 and the live list.
    assert "已为刘芳代签" in _text(chat.say("wangsj", "代签 刘芳 手机没电"))
    assert "代签需要写明原因" in _text(chat.say("wangsj", "代签 陈刚"))
    sheet = _text(chat.say("wangsj", "签到情况"))
    assert "应到6人，已签到1人" in sheet and "请假：张丽" in sheet
    with session_factory() as s:
        assert s.scalars(select(Attendance.method)).all() == [AttendanceMethod.PROXY]
    # 详情 shows a member their own status only for meetings they are invited to.
    assert "请假已批准" in _text(chat.press("zhangli", "meetings.detail", meeting=str(m.id)))
    assert "无法查看" in _text(chat.press("zhengq", "meetings.detail", meeting=str(m.id)))
    # Window closes; 补学 reported and confirmed from the card.
    from handlers.meetings.signin import close_windows

    with session_factory() as s, s.begin():
        close_windows(s, now=START + timedelta(hours=1), cfg=CFG)
    chat.now = START + timedelta(days=1)
    assert "待补学" in _text(chat.say("zhangli", "我的补学"))
    assert "等待书记确认" in _text(chat.say("zhangli", "补学完成 已学习会议精神"))
    with session_factory() as s:
        task = s.scalars(select(MakeupTask).where(MakeupTask.person_id == org.alice.id)).one()
    assert "只有本支部" in _text(chat.press("zhangli", "makeup.confirm", task=str(task.id)))
    chat.press("wangsj", "makeup.confirm", task=str(task.id))
    with session_factory() as s:
        assert s.get(MakeupTask, task.id).status == MakeupStatus.CONFIRMED
    month = _text(chat.say("wangsj", "本月会议"))
    # 刘芳 (代签) and 王书记, who scheduled it and so is taken to be its host (issue 15 point 5).
    assert "党员大会" in month and "待记录，出席2/6" in month
    assert "只有本支部" in _text(chat.say("zhangli", "本月会议"))


def test_bad_params_and_strangers_change_nothing(session_factory, session, org):
    chat = Chat(session_factory)
    assert "没有找到这次会议" in _text(chat.press("wangsj", "meetings.signin_code", meeting="abc"))
    assert "没有需要签到" in _text(chat.say("wangsj", "签到码"))
    assert "没有需要参加的会议" in _text(chat.say("zhangli", "请假 出差"))
    assert "没有待完成" in _text(chat.say("zhangli", "补学完成 学了"))
    assert "用法" in _text(chat.say("zhouzz", "退回计划 没有编号"))
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
    chat = Chat(session_factory)
    assert "用法" in _text(chat.say("wangsj", "调整会议 明天"))
    assert "时间格式" in _text(chat.say("wangsj", f"调整会议 #{m.id} 明天 上午"))
    assert "只有本支部" in _text(chat.say("wusj", f"调整会议 #{m.id} 2026-05-21 09:00"))
    assert "调整通知已发给6名党员" in _text(chat.say("wangsj", f"调整会议 #{m.id} 2026-05-21 09:00 大礼堂"))
    with session_factory() as s:
        moved = s.get(type(m), m.id)
        assert moved.place == "大礼堂" and moved.starts_at.isoformat() == "2026-05-21T01:00:00+00:00"
    assert "取消通知已发给6名党员" in _text(chat.say("wangsj", f"取消会议 #{m.id} 台风"))
    assert "已经取消" in _text(chat.say("wangsj", f"取消会议 #{m.id} 台风"))
