"""Issue 15 points 6 and 7 and the meetings items of "also seen", through the real dispatcher: the
minutes from chat, the 详情 card by role, numbers on every list, buttons that do what numbers do."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from handlers.help import router as help_router
from handlers.meetings import meetings as meetings_uc
from handlers.meetings import plans as plans_uc
from handlers.meetings.chat import router
from models.meetings import Attendance, AttendanceStatus, LeaveRequest, MakeupTask, Meeting
from models.org import Role, RoleAssignment
from tests.harness import Chat
from tests.meetings.conftest import CFG, NOW, sent

START = NOW + timedelta(days=1)


def _schedule(session, org, start=START, types=("党员大会",), by=None):
    m = meetings_uc.schedule_meeting(
        session, by or org.secretary, types=list(types), starts_at=start, place="会议室", topic="学习党章",
        now=NOW, cfg=CFG,
    )  # fmt: skip
    session.commit()
    return m


def _labels(payload: dict) -> list[str]:
    return [b["label"] for b in payload.get("buttons", [])]


def test_minutes_from_chat_one_meeting_a_list_or_a_number(session_factory, session, org):
    first = _schedule(session, org)
    second = _schedule(session, org, start=START + timedelta(hours=3))
    chat = Chat(session_factory, [router], now=NOW)
    # 会议记录 is its own command, not 会议 (which lists the meetings).
    assert "没有待填写记录的会议" in chat.say("wangsj", "会议记录").text
    assert "只有本支部" in chat.say("zhangli", "会议记录").text
    chat.now = START + timedelta(hours=1)
    (card,) = chat.say("wangsj", "会议记录").replies
    assert card["title"] == f"会议记录：{first.title}" and f"会议 #{first.id}" in card["text"]
    assert card["buttons"][0]["url"].endswith(f"/h5/meetings/{first.id}/minutes")
    assert "记录应于5月22日前完成" in card["text"]
    chat.now = START + timedelta(days=7)  # past the 3 working days
    assert "记录已于5月22日到期" in chat.say("wangsj", f"会议记录 #{first.id}").text
    (listing,) = chat.say("wangsj", "填写会议记录").replies
    assert listing["title"] == "待填写记录的会议（2次）"
    assert f"#{first.id} " in listing["text"] and f"#{second.id} " in listing["text"]
    assert [b["url"].rsplit("/h5/meetings", 1)[1] for b in listing["buttons"]] == [
        f"/{first.id}/minutes",
        f"/{second.id}/minutes",
    ]
    (one,) = chat.say("wangsj", f"会议记录 #{second.id}").replies
    assert one["buttons"][0]["url"].endswith(f"/h5/meetings/{second.id}/minutes")
    assert "只有本支部" in chat.say("wusj", f"会议记录 #{second.id}").text  # another branch's secretary
    # The button on the closing summary does what the number does.
    (pressed,) = chat.press("wangsj", "meetings.minutes", meeting=str(first.id)).replies
    assert pressed["buttons"][0]["url"].endswith(f"/h5/meetings/{first.id}/minutes")


def test_the_detail_card_shows_the_viewers_own_actions(session_factory, session, org):
    m = _schedule(session, org)
    chat = Chat(session_factory, [router], now=NOW)
    (secretary,) = chat.press("wangsj", "meetings.detail", meeting=str(m.id)).replies
    assert _labels(secretary) == ["签到码", "代签", "调整", "取消"]  # what can be done before it starts
    assert "状态：未开始" in secretary["text"] and "我的状态" not in secretary["text"]
    assert ["会议编号", f"#{m.id}"] in [list(f) for f in secretary["fields"]]
    (member,) = chat.press("zhangli", "meetings.detail", meeting=str(m.id)).replies
    assert _labels(member) == ["请假"] and "我的状态：未签到" in member["text"]
    assert ["会议编号", f"#{m.id}"] in [list(f) for f in member["fields"]]
    # Each secretary button answers with the command and the number filled in.
    assert f"调整会议 #{m.id} " in chat.press("wangsj", "meetings.move", meeting=str(m.id)).text
    assert f"取消会议 #{m.id} " in chat.press("wangsj", "meetings.cancel", meeting=str(m.id)).text
    proxy = chat.press("wangsj", "meetings.proxy", meeting=str(m.id)).text
    assert f"代签 #{m.id} 姓名 原因" in proxy and "刘芳" in proxy
    assert "只有本支部" in chat.press("zhangli", "meetings.cancel", meeting=str(m.id)).text
    assert "开始后才能结束签到" in chat.press("wangsj", "meetings.end_signin", meeting=str(m.id)).text
    chat.now = START + timedelta(minutes=5)
    with session_factory() as s, s.begin():
        s.add(Attendance(meeting_id=m.id, person_id=org.alice.id, status=AttendanceStatus.PRESENT,
                         method="qr", at=START))  # fmt: skip
    (running,) = chat.press("wangsj", "meetings.detail", meeting=str(m.id)).replies
    assert _labels(running) == ["签到码", "代签", "结束签到", "填写会议记录"]
    chat.press("wangsj", "meetings.end_signin", meeting=str(m.id))
    (closed,) = chat.press("wangsj", "meetings.detail", meeting=str(m.id)).replies
    # 张丽 scanned and 王书记, who scheduled it, counts as its host.
    assert _labels(closed) == ["代签", "填写会议记录"] and "已签到2人" in closed["text"]
    # Once signed in, the member has nothing left to press.
    (signed,) = chat.press("zhangli", "meetings.detail", meeting=str(m.id)).replies
    assert _labels(signed) == [] and "我的状态：出席" in signed["text"]


def test_end_signin_early_then_proxy_a_late_arrival(session_factory, session, org):
    m = _schedule(session, org)
    chat = Chat(session_factory, [router], now=NOW)
    chat.now = START + timedelta(minutes=5)
    assert "已结束" in chat.press("wangsj", "meetings.end_signin", meeting=str(m.id)).text
    assert "已经结束" in chat.press("wangsj", "meetings.end_signin", meeting=str(m.id)).text
    with session_factory() as s:
        assert s.get(Meeting, m.id).closed_at == chat.now
        assert org.carol.id in set(
            s.scalars(select(MakeupTask.person_id).where(MakeupTask.meeting_id == m.id))
        )
    # 刘芳 was there after all: 代签 with the number turns her 缺席 into present and drops her 补学.
    assert "已为刘芳代签" in chat.say("wangsj", f"代签 #{m.id} 刘芳 手机没电").text
    with session_factory() as s:
        row = s.scalars(
            select(Attendance).where(Attendance.meeting_id == m.id, Attendance.person_id == org.carol.id)
        ).one()
        assert row.status == AttendanceStatus.PRESENT
        assert org.carol.id not in set(s.scalars(select(MakeupTask.person_id)))


def test_numbers_on_the_month_list_with_detail_buttons(session_factory, session, org):
    m = _schedule(session, org)
    chat = Chat(session_factory, [router], now=NOW)
    (month,) = chat.say("wangsj", "本月会议").replies
    assert f"- #{m.id} " in month["text"]
    assert [(b["label"], b["params"]) for b in month["buttons"]] == [
        (f"#{m.id} 详情", {"meeting": str(m.id)})
    ]


def test_free_text_leave_goes_to_the_next_meeting_not_the_one_signed_in_to(session_factory, session, org):
    now_meeting = _schedule(session, org)
    later = _schedule(session, org, start=START + timedelta(days=7))
    chat = Chat(session_factory, [router], now=NOW)
    chat.now = START - timedelta(minutes=20)  # the window of the first is open
    with session_factory() as s, s.begin():
        s.add(Attendance(meeting_id=now_meeting.id, person_id=org.alice.id, status=AttendanceStatus.PRESENT,
                         method="qr", at=chat.now))  # fmt: skip
    reply = chat.say("zhangli", "请假 下周出差").text
    assert "已提交" in reply and "无需请假" not in reply
    with session_factory() as s:
        (leave,) = s.scalars(select(LeaveRequest)).all()
        assert leave.meeting_id == later.id


def test_a_moved_meeting_notice_says_the_old_time(session_factory, session, org):
    m = _schedule(session, org)
    chat = Chat(session_factory, [router], now=NOW)
    chat.say("wangsj", f"调整会议 #{m.id} 2026-05-20 15:00 党员活动室")
    (notice,) = [s for s in sent(session, f"meeting:{m.id}:v2:moved") if s.person_id == org.alice.id]
    assert "原定5月19日（周二）10:00在会议室" in notice.payload["text"]
    assert ["时间", "5月20日（周三）15:00"] in [list(f) for f in notice.payload["fields"]]


def test_plan_card_after_submitting_says_what_happens_next(session_factory, session, org):
    chat = Chat(session_factory, [router], now=NOW)
    before = chat.say("wangsj", "月度计划").text
    assert "状态：未提交。请于25日前提交。" in before
    assert "2026年6月应开：支部党员大会1次、支委会1次、党小组会1次、党课1次、主题党日1次。" in before
    from datetime import UTC, date, datetime

    item = plans_uc.PlanItemInput(["主题党日"], datetime(2026, 6, 5, 1, tzinfo=UTC), "活动室", "学习")
    with session_factory() as s, s.begin():
        from models.org import Person

        plans_uc.save_plan(s, s.get(Person, org.secretary.id), month=date(2026, 6, 1), items=[item], now=NOW,
                           cfg=CFG, confirm_missing=True)  # fmt: skip
    after = chat.say("wangsj", "月度计划").text
    assert "状态：待审核。已提交，等待上级党委组织委员审核" in after and "请于25日前提交" not in after


def test_only_committee_reviewers_see_plan_return_in_help(session_factory, session, org):
    chat = Chat(session_factory, [help_router, router], now=NOW)
    assert "退回计划" not in chat.say("zhaowy", "帮助").text  # a branch 组织委员
    assert "退回计划" in chat.say("zhouzz", "帮助").text  # the committee's
    session.add(
        RoleAssignment(person_id=org.alice.id, org_unit_id=org.group.id, role=Role.ORGANIZATION_MEMBER)
    )
    session.commit()
    assert "退回计划" not in chat.say("zhangli", "帮助").text
