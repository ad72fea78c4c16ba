"""书记项目 in chat for a committee's leaders and the 组织部: their scope's projects in brief (how many in
each state, this year and next once there are any), what waits for their 预审 or score, and the way to
the console; a branch secretary sees their own only."""

from __future__ import annotations

from datetime import date

import pytest

from handlers.projects import chat as projects_chat
from handlers.projects import review
from models.org import Platform
from tests.harness import Chat, readable
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


def test_the_prereview_card_is_shown_again_on_the_list(chat):
    """Whoever missed the card on submission (or came later) gets it again with 书记项目; its button works."""
    assert "已提交书记项目" in chat.say("lisj", "申报项目\n" + REGISTRATION["lisj"]).text
    answer = chat.say("zhouzz", "书记项目")
    cards = [r for r in answer.replies if r.get("buttons")]
    assert len(cards) == 1 and "书记项目预审：城关社区党支部" in readable(cards[0])
    assert [b["label"] for b in cards[0]["buttons"]] == ["预审通过", "退回修改"]
    assert "已预审通过" in chat.press("zhouzz", review.ACTION_PRE_ACCEPT, project="1").text
    assert not [r for r in chat.say("zhouzz", "书记项目").replies if r.get("buttons")]
    # Those who do not pre-review it get no card.
    assert not [r for r in chat.say("fengsj", "书记项目").replies if r.get("buttons")]
