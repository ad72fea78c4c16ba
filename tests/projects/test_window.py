"""Which year a secretary registers for, asked in December (the demo's season): the closed call is said
first, with when the next one opens and whom to ask, before any form is read; once the committee
publishes next year's call the form opens for that year, and its examples are dates of that year that
the form accepts as they stand."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from bot.core.errors import Refused
from handlers.projects import chat as projects_chat
from handlers.projects import library
from handlers.projects.config import DEFAULT as CFG
from models.org import Platform
from models.projects import SecretaryProject
from tests.harness import Chat
from tests.projects.conftest import REGISTRATION, build, local

DECEMBER = local(date(2026, 12, 4))


@pytest.fixture(params=[Platform.DINGTALK, Platform.WECOM], ids=["dingtalk", "wecom"])
def world(request, session, session_factory):
    o = build(session, request.param)
    session.commit()
    return o, Chat(session_factory, [projects_chat.router], now=DECEMBER, platform=request.param)


def test_december_says_the_call_is_closed_then_opens_next_years_call(world, session):
    o, chat = world
    closed = chat.say("wangsj", "申报项目").text
    assert "2026年书记项目申报已于2026年3月31日截止" in closed, closed
    assert "2027年的申报待上级党委或组织部发布2027年书记项目征集后开始" in closed
    assert "请联系周组织" in closed and "名称：" not in closed
    # A whole form (dates in 2027) gets the same answer, not a complaint about its dates.
    full = chat.say("wangsj", "申报项目\n" + REGISTRATION["wangsj"]).text
    assert full == closed and "不在2026年内" not in full
    assert session.scalar(select(SecretaryProject.id)) is None

    assert "已发布2027年书记项目征集" in chat.say("fengsj", "项目征集 2027 2027-03-31 1").text
    usage = chat.say("wangsj", "申报项目").text
    assert "2027年书记项目申报中（2027年3月31日截止，每位书记1个）" in usage, usage
    assert "节点：2027-03-31 完成入户调研；2027-06-30 完成建设" in usage
    # The example, filled in as shown (its dates kept), is accepted for 2027.
    form = usage[
        usage.index("申报项目\n名称：") : usage.index("领办人：张三、李四") + len("领办人：张三、李四")
    ]
    filled = (
        form.replace("……", "村集体经济增收")
        .replace("拟解决的突出问题", "村集体收入低")
        .replace("项目内容和举措", "发展光伏")
        .replace("预期目标", "年收入超过10万元")
    )
    answer = chat.say("wangsj", filled).text
    assert "已提交书记项目 #" in answer, answer
    session.expire_all()
    (p,) = session.scalars(select(SecretaryProject)).all()
    assert p.year == 2027 and [m.due_on for m in p.milestones] == [date(2027, 3, 31), date(2027, 6, 30)]


def test_the_examples_are_dates_ahead_in_the_projects_year():
    assert library.example_days(2027, date(2026, 12, 4)) == [date(2027, 3, 31), date(2027, 6, 30)]
    assert library.example_days(2027, date(2027, 8, 1)) == [date(2027, 9, 30), date(2027, 12, 31)]
    assert library.example_days(2027, date(2027, 12, 31)) == [date(2027, 12, 31)]
    assert "节点：2027-09-30 完成入户调研；2027-12-31 完成建设" in library.form_text(2027, date(2027, 8, 1))
    # A milestone that cannot be read is shown an example of the project's year.
    with pytest.raises(Refused) as bad:
        library.parse_registration(
            {
                "title": "t",
                "problem": "p",
                "content": "c",
                "expected": "e",
                "leaders": "l",
                "milestones": ["明年 调研"],
            },
            2027,
            CFG,
            today=date(2027, 8, 1),
        )
    assert "请写成“2027-09-30 完成建设”或“9月30日 完成建设”" in str(bad.value)
