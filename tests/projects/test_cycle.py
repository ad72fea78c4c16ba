"""The cycle through the chat dispatcher: register → 预审 (accept / return with a reason) → 评分 → 公开承诺
→ progress, with every role held to its own part."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from handlers.projects import chat as projects_chat
from handlers.projects import review
from models.org import Platform
from models.outbox import OutboxMessage
from models.projects import ProjectMilestone, ProjectProgress, ProjectStatus, SecretaryProject
from tests.harness import Chat, readable
from tests.projects.conftest import REGISTRATION, build, local

NOW = local(date(2027, 2, 10))


def _to(session_factory, person_id, part=""):
    with session_factory() as s:
        rows = s.scalars(
            select(OutboxMessage).where(OutboxMessage.person_id == person_id).order_by(OutboxMessage.id)
        ).all()
        return [readable(r.payload) for r in rows if part in readable(r.payload)]


@pytest.fixture(params=[Platform.DINGTALK, Platform.WECOM], ids=["dingtalk", "wecom"])
def world(request, session, session_factory):
    o = build(session, request.param)
    session.commit()
    chat = Chat(session_factory, [projects_chat.router], now=NOW, platform=request.param)
    return o, chat


def _register(chat, account):
    answer = chat.say(account, "申报项目\n" + REGISTRATION[account])
    assert "已提交书记项目 #" in answer.text, answer.text
    return int(answer.text.split("#")[1].split("“")[0])


def test_the_cycle_and_the_roles(world, session_factory, session):
    o, chat = world
    # A member may not register; a bad registration names every problem and writes nothing.
    assert "只有党支部、党总支或党委的书记" in chat.say("zhangdy", "申报项目\n" + REGISTRATION["wangsj"]).text
    bad = chat.say("wangsj", "申报项目\n名称：村集体经济增收\n节点：明年 调研")
    assert "缺少“问题”" in bad.text and "节点“明年 调研”看不懂" in bad.text and "缺少“领办人”" in bad.text
    assert session.scalar(select(SecretaryProject.id)) is None
    # An empty 申报项目 shows the form and the template for a village.
    assert "村集体经济增收" in chat.say("wangsj", "申报项目").text

    ids = {a: _register(chat, a) for a in ("wangsj", "lisj", "zhaosj")}
    # The quota (one a secretary, without a call) holds.
    assert "每位书记申报1个项目" in chat.say("wangsj", "申报项目\n" + REGISTRATION["wangsj"]).text
    # The committee's 组织委员 has a card with both buttons per project.
    cards = _to(session_factory, o.zhou.id, "书记项目预审")
    assert len(cards) == 3 and all("预审通过" in c and "退回修改" in c for c in cards)
    # The milestone with its date, as fmt_full_day writes it.
    assert "2. 2027年6月30日 光伏项目并网" in cards[0]

    # Roles: a secretary may not pre-review (not even another's), the 组织部 may not either.
    assert (
        "不在您的预审范围内" in chat.press("lisj", review.ACTION_PRE_ACCEPT, project=str(ids["wangsj"])).text
    )
    assert "不在您的预审范围内" in chat.say("sunbz", f"预审通过 #{ids['wangsj']}").text
    # Return without a reason is refused; the button asks for it; with it, the secretary is told.
    assert "请写明退回理由" in chat.say("zhouzz", f"预审退回 #{ids['zhaosj']}").text
    assert (
        f"预审退回 #{ids['zhaosj']}"
        in chat.press("zhouzz", review.ACTION_PRE_RETURN, project=str(ids["zhaosj"])).text
    )
    assert "已退回" in chat.say("zhouzz", f"预审退回 #{ids['zhaosj']} 问题不够具体，请补充调研数据").text
    assert _to(session_factory, o.zhao.id, "问题不够具体，请补充调研数据")
    # Pre-accept the other two (one by the card's button); twice is refused (409-like message).
    assert "已预审通过" in chat.press("zhouzz", review.ACTION_PRE_ACCEPT, project=str(ids["wangsj"])).text
    assert "不能再预审" in chat.say("zhouzz", f"预审通过 #{ids['wangsj']}").text
    assert "已预审通过" in chat.say("zhouzz", f"预审通过 #{ids['lisj']}").text
    assert _to(session_factory, o.sun.id, "书记项目评审")

    # Only the reviewer (组织部) scores; once.
    assert "您不是项目" in chat.say("zhouzz", f"项目评分 #{ids['wangsj']} 90").text
    assert "分数应为" in chat.say("sunbz", f"项目评分 #{ids['wangsj']} 120").text
    assert "已入库" in chat.say("sunbz", f"项目评分 #{ids['wangsj']} 88 选题精准").text
    assert (
        "评分不能修改" in chat.say("sunbz", f"项目评分 #{ids['wangsj']} 60").text
        or "不能再评分" in chat.say("sunbz", f"项目评分 #{ids['wangsj']} 60").text
    )
    assert "已入库" in chat.say("sunbz", f"项目评分 #{ids['lisj']} 75").text
    # 公开承诺: the village's member gets the card with the page link; the community's member does not.
    published = _to(session_factory, o.member.id, "书记项目公开承诺")
    assert published and "村集体经济增收" in published[0] and "查看项目" in published[0]
    assert not _to(session_factory, o.other_member.id, "村集体经济增收")
    assert _to(session_factory, o.other_member.id, "老旧小区停车难")

    # The returned project is corrected and submitted again: a new card says it was returned once.
    corrected = REGISTRATION["zhaosj"].replace("群众反映办事慢", "群众反映办事慢，平均办结7天")
    assert "已修改并重新提交" in chat.say("zhaosj", f"修改项目 #{ids['zhaosj']}\n{corrected}").text
    assert "此前退回1次" in _to(session_factory, o.zhou.id, "书记项目预审")[-1]
    # Someone else's project cannot be edited, an accepted one cannot be edited at all.
    assert "不是您申报的" in chat.say("lisj", f"修改项目 #{ids['zhaosj']}\n{corrected}").text
    assert "不能再修改" in chat.say("wangsj", f"修改项目 #{ids['wangsj']}\n{REGISTRATION['wangsj']}").text

    # Progress: only the secretary, only on an accepted project, a known milestone.
    assert "不是您申报的" in chat.say("lisj", f"项目进展 #{ids['wangsj']} 已开会").text
    assert "还没有入库" in chat.say("zhaosj", f"项目进展 #{ids['zhaosj']} 已开会").text
    assert "没有节点5" in chat.say("wangsj", f"项目进展 #{ids['wangsj']} 节点5 完成 调研").text
    done = chat.say("wangsj", f"项目进展 #{ids['wangsj']} 节点1 完成 入户调研120户").text
    assert "节点1“完成入户调研”已标记完成" in done
    session.expire_all()
    m1 = session.scalars(select(ProjectMilestone).where(ProjectMilestone.project_id == ids["wangsj"])).first()
    assert m1.done_on == date(2027, 2, 10)
    assert session.scalar(select(ProjectProgress.month)) == date(2027, 2, 1)
    statuses = {p.id: p.status for p in session.scalars(select(SecretaryProject))}
    assert statuses == {
        ids["wangsj"]: ProjectStatus.ACCEPTED,
        ids["lisj"]: ProjectStatus.ACCEPTED,
        ids["zhaosj"]: ProjectStatus.SUBMITTED,
    }
    # 书记项目 lists each person's part.
    assert "待我预审" in chat.say("zhouzz", "书记项目").text
    assert "已入库" in chat.say("wangsj", "我的项目").text
