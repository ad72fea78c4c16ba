"""The observers' commands and card actions through the real dispatcher (one transaction per event)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from handlers import help as help_handlers
from handlers.meetings.chat import router as meetings_router
from handlers.observers import assignments, notices, observation, rectification
from handlers.observers.chat import router as observers_router
from models.observers import ObserverRsvp, Rectification, RectificationStatus
from models.org import UnitKind
from tests.harness import Chat
from tests.meetings.conftest import _unit
from tests.observers.conftest import CFG, NOW, full_form, make_meeting


@pytest.fixture
def chat(session_factory, world):
    # The observers' router sits beside the meetings one, so 整改/整改完成 and the meetings words are
    # matched as people type them.
    return Chat(session_factory, [help_handlers.router, meetings_router, observers_router], now=NOW)


def test_my_branches(chat, session, world):
    make_meeting(session, world, NOW + timedelta(days=2), topic="学习二十大报告")
    session.commit()
    text = chat.say("qiangc", "我的支部").text
    assert "城关社区党支部" in text and "本半年已观察 0/1 次" in text and "学习二十大报告" in text
    assert "还没有联系的支部" in chat.say("konggc", "我的支部").text


def test_attend_from_the_card(chat, session, world):
    m = make_meeting(session, world, NOW + timedelta(days=2))
    session.commit()
    assert "已告知城关社区党支部书记" in chat.press("qiangc", notices.ACTION_ATTEND, meeting=str(m.id)).text
    assert (
        "您不是城关社区党支部的观察员" in chat.press("konggc", notices.ACTION_ATTEND, meeting=str(m.id)).text
    )
    assert "没有找到这次会议" in chat.press("qiangc", notices.ACTION_ATTEND, meeting="x").text
    session.expire_all()
    assert [r.observer_id for r in session.scalars(select(ObserverRsvp))] == [world.observer.id]


def test_attend_by_number_from_a_card_listing_several_meetings(chat, session, world):
    m = make_meeting(session, world, NOW + timedelta(days=2))
    session.commit()
    assert "已告知城关社区党支部书记" in chat.say("qiangc", f"我要列席 {m.id}").text
    assert "已报名" in chat.say("qiangc", f"我要列席 #{m.id}").text
    assert "请在“我要列席”后面写上观察提示里的会议编号" in chat.say("qiangc", "我要列席").text
    assert "您不是城关社区党支部的观察员" in chat.say("konggc", f"我要列席 {m.id}").text
    session.expire_all()
    assert [r.observer_id for r in session.scalars(select(ObserverRsvp))] == [world.observer.id]


def test_rectification_in_chat(chat, session, world):
    held = make_meeting(session, world, NOW - timedelta(days=1))
    raw = full_form("责令纠正", correct_by="2026-06-01", issues="补齐签名")
    obs = observation.submit_observation(session, world.observer, held.id, raw, now=NOW, cfg=CFG)
    session.commit()
    rid = obs.rectifications[0].id
    assert f"#{rid} 补齐签名（待整改" in chat.say("wangsj", "整改").text
    assert "请说明整改情况" in chat.say("wangsj", f"整改完成 #{rid}").text
    assert "不是您负责的" in chat.say("wusj", f"整改完成 #{rid} 已改").text
    assert "等待观察员确认" in chat.say("wangsj", f"整改完成 #{rid} 已补签").text
    assert f"退回整改 #{rid}" in chat.press("qiangc", rectification.ACTION_RECT_REOPEN, rect=str(rid)).text
    assert "已退回" in chat.say("qiangc", f"退回整改 #{rid} 主持人未签").text
    assert "等待观察员确认" in chat.say("wangsj", f"整改完成 #{rid} 主持人已签").text
    assert "不是您负责的" in chat.press("wangsj", rectification.ACTION_RECT_CONFIRM, rect=str(rid)).text
    assert "已确认销号" in chat.press("qiangc", rectification.ACTION_RECT_CONFIRM, rect=str(rid)).text
    session.expire_all()
    assert session.get(Rectification, rid).status == RectificationStatus.CLOSED
    assert "没有未销号" in chat.say("wangsj", "整改").text


def test_stats_for_an_observer_and_for_the_committee(chat, session, world):
    held = make_meeting(session, world, NOW - timedelta(days=1))
    observation.submit_observation(session, world.observer, held.id, full_form(), now=NOW, cfg=CFG)
    session.commit()
    mine = chat.say("qiangc", "观察统计")
    assert "钱观察" in mine.text and "提交评价 1 份（按时 1 份）" in mine.text
    assert not mine.replies[0].get("buttons")
    committee = chat.say("zhouzz", "观察统计 2026")
    assert "观察统计（2026年）" in committee.replies[0]["title"]
    assert committee.replies[0]["buttons"][0]["url"].endswith("/h5/observers/export.xlsx?year=2026")
    assert "只有观察员和党委组织委员" in chat.say("zhangli", "观察统计").text


def test_stats_say_in_words_which_branches_were_attended_and_why_the_rating(chat, session, world):
    """Issue #15: "覆盖 2/5，建议等次：基本称职" said nothing an observer could act on. The grade is the
    console's alone (观察员年度评定): the chat gives the figures and points there, so the two never differ."""
    third = _unit(session, "东湖社区党支部", UnitKind.BRANCH, world.committee)
    session.flush()
    assignments.assign_observer(session, world.observer.id, third.id)
    held = make_meeting(session, world, NOW - timedelta(days=1))
    observation.submit_observation(session, world.observer, held.id, full_form(), now=NOW, cfg=CFG)
    session.commit()
    text = chat.say("qiangc", "观察统计").text
    assert "2026年上半年已列席：城关社区党支部；还没列席：东湖社区党支部。" in text
    # The figures, and the grade's one place: the console's 观察员年度评定 proposes and the committee decides
    # (an older rule here once suggested a grade the console's proposal could contradict).
    assert (
        "年度评定：系统建议等次、理由和党委的评定见管理后台“年度工作 → 观察员年度评定”（发送“登录后台”获取链接）。"
        "今年情况：每个联系支部每半年至少列席 1 次，已到期的 1 次中做到 1 次；评价表按时提交 1/1 份。"
    ) in text
    assert not any(grade in text for grade in ("优秀", "称职", "建议等次："))
    # Both half-years over: 4 requirements (2 branches × 2 half-years), 1 met.
    chat.now = datetime(2027, 1, 5, 2, tzinfo=UTC)
    text = chat.say("qiangc", "观察统计 2026").text
    assert "2026年下半年已列席：无；还没列席：东湖社区党支部、城关社区党支部。" in text
    assert "已到期的 4 次中做到 1 次；评价表按时提交 1/1 份。" in text
    assert not any(grade in text for grade in ("优秀", "称职", "建议等次："))
