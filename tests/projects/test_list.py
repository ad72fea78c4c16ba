"""书记项目 in chat for a committee's leaders and the 组织部: their scope's projects in brief (how many in
each state, this year and next once there are any), what waits for their 预审 or score, and the way to
the console; a branch secretary sees their own only."""

from __future__ import annotations

from datetime import date

import pytest

from handlers.projects import chat as projects_chat
from models.org import Platform
from tests.harness import Chat
from tests.projects.conftest import REGISTRATION, build, local


@pytest.fixture(params=[Platform.DINGTALK, Platform.WECOM], ids=["dingtalk", "wecom"])
def chat(request, session, session_factory):
    build(session, request.param)
    session.commit()
    return Chat(session_factory, [projects_chat.router], now=local(date(2027, 2, 10)), platform=request.param)


def test_committee_leaders_see_their_scopes_projects_in_brief(chat):
    empty = chat.say("fengsj", "书记项目").text
    assert (
        "城关镇党委的书记项目" in empty
        and "2027年：还没有书记项目。" in empty
        and "暂无与您相关" not in empty
    )
    for account in ("wangsj", "lisj", "zhaosj"):
        assert "已提交书记项目" in chat.say(account, "申报项目\n" + REGISTRATION[account]).text
    assert "已预审通过" in chat.say("zhouzz", "预审通过 #1").text

    zhou = chat.say("zhouzz", "书记项目").text
    assert "城关镇党委的书记项目" in zhou and "2027年：共3个，待预审2个，预审通过，待评审1个" in zhou, zhou
    assert "/console/projects" in zhou and "登录后台" in zhou
    assert (
        "待我预审" in zhou
        and "#2 老旧小区停车难" in zhou
        and "#1 村集体经济增收" not in zhou.split("待我预审")[1]
    )
    feng = chat.say("fengsj", "书记项目").text
    assert "2027年：共3个，待预审2个，预审通过，待评审1个" in feng and "待我预审" not in feng
    sun = chat.say("sunbz", "书记项目").text
    assert "全县的书记项目" in sun and "待我评分" in sun and "#1 村集体经济增收" in sun
    wang = chat.say("wangsj", "书记项目").text
    assert "我申报的" in wang and "城关镇党委的书记项目" not in wang and "/console/projects" not in wang
