"""组织生活会 end to end through the sandbox and the real adapters, on both platforms: the secretary plans it on
DingTalk, a member on WeCom submits their 对照检查材料, the secretary marks it, the daily job reminds the rest
(delivered to DingTalk), and after the meeting the secretary records 查摆问题 and a 整改措施 its WeCom owner
reports done."""

from __future__ import annotations

from datetime import date

from sqlalchemy import delete, select

from config import demo
from handlers.lifemeeting.config import DEFAULT
from handlers.lifemeeting.reminders import remind
from handlers.meetings.types import DEFAULT_CONFIG as MEETINGS
from handlers.talks.config import DEFAULT as TALKS
from models.lifemeeting import LifeMeetingMeasure, LifeMeetingMinutes, LifeMeetingStep
from models.org import ChatAccount, Platform
from tests.core.e2e import running_bot
from tests.lifemeeting.conftest import local, org_life_meeting

# The platforms' callbacks are checked against the wall clock, so the bot's clock stays put: the day of the
# meeting, which the secretary planned late (every step already due).
T0 = local(date(2026, 12, 18), 15)


def _to(bot, platform, user):
    return [str(m) for m in bot.sb.outbox(platform=platform) if user in m.get("to", [])]


def _wecom(bot, user, text):
    result = bot.sb.deliver_wecom(user, text)
    assert result["delivered"], result
    bot.drain()
    reply = (result.get("reply") or {}).get("fields", {}).get("Content", "")
    return "\n".join([reply, *_to(bot, "wecom", user)])


def test_a_branch_year_on_both_platforms(session_factory, database_url, session, branches):
    chen = branches.by_name("陈红")
    session.execute(delete(ChatAccount).where(ChatAccount.person_id == chen.id))
    session.add(ChatAccount(person_id=chen.id, platform=Platform.WECOM, corp_id=demo.WECOM_CORP_ID,
                            account_id="ChenHong"))  # fmt: skip
    session.commit()
    with running_bot(session_factory, database_url, clock_start=T0) as bot:
        bot.sb.push_dingtalk_message("wang", "组织生活会计划 2026-12-18")
        bot.drain()
        assert "计划2026年12月18日召开" in _to(bot, "dingtalk", "wang")[-1]

        assert "已收到您的对照检查材料" in _wecom(bot, "ChenHong", "对照检查材料 一、理论学习不够深入")
        bot.sb.push_dingtalk_message("wang", "标记完成 对照检查材料 陈红")
        bot.drain()
        assert "已确认对照检查材料完成：陈红" in _to(bot, "dingtalk", "wang")[-1]

        # The daily job that morning: the materials were due on the 15th; everyone else is reminded.
        with session_factory() as s:
            remind(s, now=local(date(2026, 12, 18), 9), cfg=DEFAULT, talks_cfg=TALKS, meetings_cfg=MEETINGS)
            s.commit()
        bot.drain()
        assert any("对照检查材料已过期限（2026年12月15日）" in m for m in _to(bot, "dingtalk", "zs"))
        assert any("还有7人未完成" in m for m in _to(bot, "dingtalk", "wang"))
        assert not any("对照检查材料 正文" in m for m in _to(bot, "wecom", "ChenHong"))

        # The meeting is held; its minutes of the 组织生活会 are recorded in chat.
        org_life_meeting(session, branches.by_name("王书记"), local(date(2026, 12, 18), 14),
                         now=local(date(2026, 12, 10)))  # fmt: skip
        bot.sb.push_dingtalk_message("wang", "查摆问题 理论学习不够系统")
        bot.drain()
        assert "查摆出的问题" in _to(bot, "dingtalk", "wang")[-1]
        bot.sb.push_dingtalk_message("wang", "整改措施 每月集中学习一次 责任人 陈红 期限 2027-03-31")
        bot.drain()
        assert "责任人陈红" in _to(bot, "dingtalk", "wang")[-1]
        session.expire_all()
        measure = session.scalar(select(LifeMeetingMeasure))
        assert f"整改措施#{measure.id}已记为完成" in _wecom(bot, "ChenHong", f"整改措施完成 {measure.id}")
    session.expire_all()
    step = session.scalar(select(LifeMeetingStep))
    assert step.person_id == chen.id and step.done_at is not None
    assert session.scalar(select(LifeMeetingMinutes.problems)) == "理论学习不够系统"
    assert session.scalar(select(LifeMeetingMeasure.done_at)) is not None


def test_talks_step_says_what_is_owed_on_both_platforms(session_factory, database_url, session, branches):
    """The walker's case: a member records a talk with the 书记; her 组织生活会 said only 未完成 and the
    secretary's 组织生活会情况 stayed 0/8. Now both say what is still owed, counted as the talks count."""
    chen = branches.by_name("陈红")
    session.execute(delete(ChatAccount).where(ChatAccount.person_id == chen.id))
    session.add(ChatAccount(person_id=chen.id, platform=Platform.WECOM, corp_id=demo.WECOM_CORP_ID,
                            account_id="ChenHong"))  # fmt: skip
    session.commit()
    with running_bot(session_factory, database_url, clock_start=T0) as bot:
        bot.sb.push_dingtalk_message("wang", "组织生活会计划 2026-12-28")
        bot.drain()
        assert "已登记谈心谈话" in _wecom(bot, "ChenHong", "谈心谈话 王书记 12月17日 工作和思想情况")
        mine = _wecom(bot, "ChenHong", "组织生活会")
        assert "谈心谈话（2026年12月21日前）：未完成" in mine and "还需：与另一名党员谈一次。" in mine
        bot.sb.push_dingtalk_message("wang", "组织生活会情况")
        bot.drain()
        status = _to(bot, "dingtalk", "wang")[-1]
        assert "应谈13项，已完成1项（已登记1次）" in status and "还没与其他党员谈：张三、张三丰" in status
        bot.sb.push_dingtalk_message("wang", "组织生活会")
        bot.drain()
        assert "还需：与支委李委员、赵委员各谈一次。" in _to(bot, "dingtalk", "wang")[-1]
