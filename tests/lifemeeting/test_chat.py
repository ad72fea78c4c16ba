"""A crafted branch-year of the 组织生活会 through the real dispatcher: the secretary plans it, members submit
their own steps, the secretary marks them, 谈心谈话 counts from the talks recorded, the meeting is held and its
批评和自我批评, 查摆问题 and 整改措施 recorded; everyone acts only within their role, bad input changes nothing."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from handlers import all_routers
from handlers.lifemeeting.config import DEFAULT
from handlers.lifemeeting.record import split_criticism
from handlers.lifemeeting.status import branch_status
from handlers.meetings.types import DEFAULT_CONFIG as MEETINGS
from handlers.talks.config import DEFAULT as TALKS
from models.lifemeeting import (
    LifeMeetingCriticism,
    LifeMeetingMeasure,
    LifeMeetingMinutes,
    LifeMeetingPlan,
    LifeMeetingStep,
)
from tests import harness
from tests.lifemeeting.conftest import local, org_life_meeting

NOW = local(date(2026, 11, 20), 10)


def _count(session, model) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model))


def test_a_branch_year_in_chat(session_factory, session, branches):
    chat = harness.Chat(session_factory, all_routers(), now=NOW)
    # A member cannot plan; before the plan a member has nothing to submit to.
    assert "只有支部书记、副书记和组织委员可以安排组织生活会" in chat.say("zs", "组织生活会计划 12月20日")
    assert "本支部还没有安排2026年的组织生活会" in chat.say("zs", "对照检查材料 我的问题是……")
    assert _count(session, LifeMeetingPlan) == 0

    # Bad days are refused in Chinese and plan nothing.
    assert "没有看懂日期“12月40日”" in chat.say("wang", "组织生活会计划 12月40日")
    assert "晚于会议日期" in chat.say("wang", "组织生活会计划 12月20日 学习研讨 12月25日")
    assert "没有“体检”这个步骤" in chat.say("wang", "组织生活会计划 12月20日 体检 12月1日")
    assert _count(session, LifeMeetingPlan) == 0

    reply = chat.say("wang", "组织生活会计划 12月20日 对照检查材料 12月15日")
    assert "计划2026年12月20日召开" in reply
    assert "- 学习研讨：2026年11月29日前" in reply and "- 对照检查材料：2026年12月15日前" in reply
    plan = session.scalar(select(LifeMeetingPlan))
    assert (plan.planned_on, plan.study_due, plan.opinions_due, plan.talks_due, plan.materials_due) == (
        date(2026, 12, 20), date(2026, 11, 29), date(2026, 12, 6), date(2026, 12, 13), date(2026, 12, 15),
    )  # fmt: skip

    # Members submit their own steps.
    assert "请把对照检查材料的正文写在命令后面" in chat.say("zs", "对照检查材料")
    assert "已收到您的对照检查材料，等支部书记确认" in chat.say("zs", "对照检查材料 一、理论学习不够深入")
    assert "已更新您的对照检查材料" in chat.say("zs", "对照检查材料 一、理论学习不够深入；二、联系群众不够")
    assert "已收到您的学习研讨" in chat.say("ch", "学习研讨 参加了11月的集中学习")
    rows = session.scalars(select(LifeMeetingStep).order_by(LifeMeetingStep.id)).all()
    assert [(r.person_id, str(r.step), r.done_at) for r in rows] == [
        (branches.by_name("张三").id, "materials", None),
        (branches.by_name("陈红").id, "study", None),
    ]
    assert rows[0].content == "一、理论学习不够深入；二、联系群众不够"

    # Only a manager marks; a member cannot mark theirs or others'.
    assert "只有支部书记、副书记和组织委员可以确认会前步骤" in chat.say("zs", "标记完成 对照检查材料 张三")
    assert "谈心谈话按登记的谈话自动统计" in chat.say("li", "标记完成 谈心谈话 张三")
    assert "本支部没有找到“周杰”" in chat.say("li", "标记完成 学习研讨 周杰")  # another branch's member
    reply = chat.say("li", "标记完成 学习研讨 全体")
    assert "已确认学习研讨完成：王书记、李委员、赵委员、张三、张三丰、王小明、陈红、刘芳" in reply
    assert "其中王书记、李委员、赵委员、张三、张三丰、王小明、刘芳还没有提交材料" in reply
    assert "此前已确认：张三" in chat.say("li", "标记完成 学习研讨 张三")
    assert "已确认对照检查材料完成：张三" in chat.say("wang", "标记完成 对照检查材料 张三")
    assert "已由支部确认完成，不能再修改" in chat.say("zs", "对照检查材料 改一改")

    # 谈心谈话 is read from the talks recorded.
    chat.say("wang", "谈心谈话 张三 2026-11-18 工作和思想情况")
    mine = chat.say("zs", "组织生活会")
    assert "支部计划2026年12月20日召开组织生活会" in mine
    assert "- 学习研讨（2026年11月29日前）：已完成" in mine
    assert "- 征求意见（2026年12月6日前）：未完成" in mine
    assert "- 对照检查材料（2026年12月15日前）：已完成" in mine
    # 张三 talked with a 支委 but not yet with another member: still owed, and told what is missing.
    assert (
        "- 谈心谈话（2026年12月13日前）：未完成\n  还需：与另一名党员谈一次。谈话后请发：谈心谈话 姓名 日期 主题"
        in mine
    )
    # 王书记 talked with a member, not yet with the other 支委.
    assert "还需：与支委李委员、赵委员各谈一次。" in chat.say("wang", "组织生活会")

    status = chat.say("wang", "组织生活会情况")
    assert "- 学习研讨（2026年11月29日前）：8/8" in status
    assert "- 对照检查材料（2026年12月15日前）：1/8" in status
    assert "未完成：王书记、李委员、赵委员、张三丰、王小明、陈红、刘芳" in status
    # 谈心谈话 counted as 谈心谈话情况 counts it (3 pairs of 支委, 5 members with a 支委, 5 with another member),
    # so the one talk recorded shows (per person it stayed 0/8: nobody had every talk owed), with what is owed.
    assert "- 谈心谈话（2026年12月13日前）：应谈13项，已完成1项（已登记1次）" in status
    assert "支委之间还没谈：王书记—李委员、王书记—赵委员、李委员—赵委员" in status
    assert "还没与支委谈：张三丰、王小明、陈红、刘芳" in status
    assert "还没与其他党员谈：张三、张三丰、王小明、陈红、刘芳" in status
    assert "2026年已登记谈心谈话1次，应谈13项，已完成1项。" in chat.say("wang", "谈心谈话情况")
    assert "只有支部书记、副书记和组织委员可以查看全支部的准备情况" in chat.say("zs", "组织生活会情况")

    # Before the meeting nothing of its minutes can be recorded.
    assert "本支部2026年还没有召开组织生活会" in chat.say("wang", "查摆问题 理论学习不够")

    # The meeting, scheduled through the meetings feature, is held on 20 December.
    meeting_at = local(date(2026, 12, 20), 9)
    org_life_meeting(session, branches.by_name("王书记"), meeting_at, now=NOW)
    chat.now = local(date(2026, 12, 20), 11)
    assert "批评和自我批评 姓名" in chat.say("wang", "批评和自我批评 张三")
    reply = chat.say(
        "wang", "批评和自我批评 张三 自我批评：学习不够系统；受到批评：发言不够积极；批评他人：无"
    )
    assert "已记录张三在组织生活会：年度组织生活会上的批评和自我批评（本次会议已记录1人）" in reply
    chat.say("wang", "批评和自我批评 刘芳 工作方法简单")
    crit = {
        r.person_id: (r.self_points, r.received, r.given)
        for r in session.scalars(select(LifeMeetingCriticism))
    }
    assert crit == {
        branches.by_name("张三").id: ("学习不够系统", "发言不够积极", "无"),
        branches.by_name("刘芳").id: ("工作方法简单", "", ""),
    }
    assert "只有支部书记、副书记和组织委员可以记录组织生活会" in chat.say("zs", "批评和自我批评 刘芳 xx")
    assert "已记录组织生活会：年度组织生活会查摆出的问题" in chat.say(
        "wang", "查摆问题 1.理论学习不够系统；2.联系群众不够"
    )
    assert session.scalar(select(LifeMeetingMinutes.problems)) == "1.理论学习不够系统；2.联系群众不够"

    # 整改措施: each with an owner and a due day, done one by one by its owner or a manager.
    assert "用法：整改措施 内容 责任人" in chat.say("wang", "整改措施 每月集中学习一次")
    assert "已经过去了" in chat.say("wang", "整改措施 每月集中学习一次 责任人 张三 期限 2026-12-01")
    added = chat.say("wang", "整改措施 每月集中学习一次 责任人 张三 期限 2027-03-31")
    assert "每月集中学习一次，责任人张三，2027年3月31日前完成" in added
    chat.say("wang", "整改措施 走访困难党员 责任人 李委员 期限 2027-01-31")
    first, second = session.scalars(select(LifeMeetingMeasure).order_by(LifeMeetingMeasure.id)).all()
    assert "只有责任人或支部书记" in chat.say("ch", f"整改措施完成 {first.id}")
    assert f"没有找到整改措施#{first.id}" in chat.say("zj", f"整改措施完成 {first.id}")  # another branch
    assert f"整改措施#{first.id}已记为完成" in chat.say("zs", f"整改措施完成 {first.id}")
    assert "已于2026年12月20日报告完成" in chat.say("wang", f"整改措施完成 {first.id}")
    listing = chat.say("li", "整改措施")
    assert f"#{first.id} 每月集中学习一次（责任人张三，2027年3月31日前）：已完成" in listing
    assert f"#{second.id} 走访困难党员（责任人李委员，2027年1月31日前）：未完成" in listing

    life = branch_status(
        session, [branches.east.id, branches.west.id], 2026, now=chat.now, cfg=DEFAULT, talks_cfg=TALKS,
        meetings_cfg=MEETINGS,
    )  # fmt: skip
    east, west = life[branches.east.id], life[branches.west.id]
    assert east.held and east.held_at == meeting_at and (east.measures_total, east.measures_open) == (2, 1)
    assert east.criticisms == 2
    assert not west.held and west.plan is None
    assert "已于2026年12月20日召开" in chat.say("wang", "组织生活会情况")


def test_criticism_parts_in_any_order():
    assert split_criticism("批评他人：甲；自我批评：乙") == ("乙", "", "甲")
    assert split_criticism("开头的话 受到批评 丙") == ("开头的话", "丙", "")
