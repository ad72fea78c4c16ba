"""Year-end of 书记项目 through chat on DingTalk and WeCom: the call's setter names the 观摩评比 panel; only
its members score, once each; the ranking the software offers (mean 观摩 score, then satisfaction);
优秀项目 chosen by the committee, not by a secretary, once; the 典型项目 page shows the chosen only."""

from __future__ import annotations

from datetime import date

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from bot.web.app import answer_refusals
from bot.web.projects import build_projects_router
from handlers.projects import chat as projects_chat
from handlers.projects import library, review, showcase
from handlers.projects.config import DEFAULT as CFG
from models.org import Platform
from models.projects import ProjectShowScore, SecretaryProject
from tests.harness import Chat
from tests.meetings.test_web import CORE, Clock
from tests.projects.conftest import REGISTRATION, build, local
from tests.web import set_session

T0 = local(date(2027, 2, 10))
DEC = local(date(2027, 12, 10))


def _accepted(session, org, secretary, account, score):
    p = library.register(session, secretary, REGISTRATION[account], now=T0, cfg=CFG)
    review.pre_accept(session, org.zhou, p.id, now=T0, cfg=CFG, public_base_url="http://x")
    review.score(session, org.sun, p.id, score, "", now=T0, cfg=CFG, public_base_url="http://x")
    return p


@pytest.mark.parametrize("platform", [Platform.DINGTALK, Platform.WECOM])
def test_panel_scores_ranking_and_the_choice(session_factory, session, platform):
    org = build(session, platform)
    library.set_call(session, org.zhou, 2027, date(2027, 3, 31), 1, cfg=CFG)
    a = _accepted(session, org, org.wang, "wangsj", 90)
    b = _accepted(session, org, org.li, "lisj", 70)
    session.commit()
    chat = Chat(session_factory, [projects_chat.router], now=DEC, platform=platform)

    assert "只有党委书记、组织委员或组织部" in chat.say("wangsj", "观摩评委 2027 孙部长").text
    assert "找不到“无此人”" in chat.say("zhouzz", "观摩评委 2027 孙部长、无此人").text
    assert "孙部长、冯书记" in chat.say("zhouzz", "观摩评委 2027 孙部长、冯书记").text

    # Only the panel scores (the 组织委员 who named it is not on it); once each; 0–100.
    assert "不是项目" in chat.say("zhouzz", f"观摩评分 #{a.id} 95").text
    assert "0–100" in chat.say("sunbz", f"观摩评分 #{a.id} 120").text
    assert "80 分" in chat.say("sunbz", f"观摩评分 #{a.id} 80 成效明显").text
    assert "不能修改" in chat.say("sunbz", f"观摩评分 #{a.id} 99").text
    chat.say("fengsj", f"观摩评分 #{a.id} 90")
    chat.say("sunbz", f"观摩评分 #{b.id} 95")
    chat.say("fengsj", f"观摩评分 #{b.id} 91")
    session.expire_all()
    assert len(session.scalars(select(ProjectShowScore)).all()) == 4

    # The ranking: b (mean 93) before a (85); it chooses nothing.
    ranked = chat.say("zhouzz", "观摩排名 2027").text
    assert ranked.index("老旧小区停车难") < ranked.index("村集体经济增收") and "93.0（2人）" in ranked
    assert session.get(SecretaryProject, b.id).excellent_at is None

    # People choose: not a secretary; the committee may pick the second-ranked; once.
    assert "由其上级党委" in chat.say("wangsj", f"评为优秀 #{a.id}").text
    assert "评为2027年优秀项目" in chat.say("zhouzz", f"评为优秀 #{a.id}").text
    assert chat.say("fengsj", f"评为优秀 #{a.id}").text == f"项目 #{a.id} 已经是优秀项目。"
    assert "★优秀" in chat.say("zhouzz", "观摩排名 2027").text
    session.expire_all()
    assert session.get(SecretaryProject, a.id).excellent_by_id == org.zhou.id


def test_the_showcase_page(session_factory, session, org):
    a = _accepted(session, org, org.wang, "wangsj", 90)
    _accepted(session, org, org.li, "lisj", 70)
    session.commit()
    app = FastAPI()
    answer_refusals(app, session_factory, CORE, Clock(DEC))
    app.include_router(build_projects_router(session_factory, {}, CORE, clock=Clock(DEC)))
    client = TestClient(app)
    assert "村集体经济增收" not in client.get("/h5/projects/showcase?year=2027").text  # not signed in
    set_session(client, CORE.secret_key, org.other_member.id, DEC)
    assert "还没有选定的优秀项目" in client.get("/h5/projects/showcase?year=2027").text
    showcase.choose_excellent(session, org.zhou, a.id, now=DEC, cfg=CFG)
    session.commit()
    page = client.get("/h5/projects/showcase?year=2027").text
    assert "村集体经济增收" in page and "河东村党支部" in page and "老旧小区停车难" not in page
    assert "<form" not in page  # read-only
