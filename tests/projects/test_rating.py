"""群众评议: the committee opens a window; members of the project's unit rate once each inside it, from
chat on DingTalk and WeCom; others are refused; the satisfaction rate the year-end uses follows every
rating. The public link: its token is checked (forged, another purpose, past the window), the committee
must have opened it to the public, and one browser (cookie) rates once."""

from __future__ import annotations

from datetime import date

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from bot.core.errors import Refused
from bot.core.signing import TokenSigner
from bot.web.app import answer_refusals
from bot.web.projects import RATER_COOKIE, build_projects_router
from handlers.projects import chat as projects_chat
from handlers.projects import library, rating, review
from handlers.projects.config import DEFAULT as CFG
from models.org import Platform
from models.projects import ProjectRating, RatingVerdict, SecretaryProject
from tests.console.people_world import console_app, login
from tests.harness import Chat
from tests.meetings.test_web import CORE, Clock
from tests.projects.conftest import REGISTRATION, build, local

T0 = local(date(2027, 2, 10))
OPEN_DAY = local(date(2027, 11, 5))


def _accepted(session, org, account="wangsj"):
    secretary = {"wangsj": org.wang, "lisj": org.li}[account]
    p = library.register(session, secretary, REGISTRATION[account], now=T0, cfg=CFG)
    review.pre_accept(session, org.zhou, p.id, now=T0, cfg=CFG, public_base_url="http://x")
    review.score(session, org.sun, p.id, 85, "", now=T0, cfg=CFG, public_base_url="http://x")
    return p


@pytest.mark.parametrize("platform", [Platform.DINGTALK, Platform.WECOM])
def test_members_rate_once_inside_the_window(session_factory, session, platform):
    org = build(session, platform)
    p = _accepted(session, org)
    session.commit()
    chat = Chat(session_factory, [projects_chat.router], now=local(date(2027, 10, 30)), platform=platform)

    # Before any window nobody rates; a secretary of the unit may not open one, the committee may.
    assert "不在开放时间内" in chat.say("zhangdy", f"评议 #{p.id} 满意").text
    assert "由其上级党委" in chat.say("wangsj", f"开启评议 #{p.id} 2027-11-01 2027-11-30").text
    assert "请发送：开启评议" in chat.say("zhouzz", f"开启评议 #{p.id} 2027-11-30 2027-11-01").text
    opened = chat.say("zhouzz", f"开启评议 #{p.id} 2027-11-01 2027-11-30").text
    assert "群众评议已开启" in opened and "/rate/" not in opened
    # Not yet open on the 30th of October.
    assert "不在开放时间内" in chat.say("zhangdy", f"评议 #{p.id} 满意").text

    chat.now = OPEN_DAY
    assert "请发送：评议" in chat.say("zhangdy", f"评议 #{p.id} 还行吧").text
    assert "您不在该单位" in chat.say("liudy", f"评议 #{p.id} 不满意").text
    assert "基本满意" in chat.say("zhangdy", f"评议 #{p.id} 基本满意 路灯还要加").text
    assert "只能评议一次" in chat.say("zhangdy", f"评议 #{p.id} 满意").text
    # The secretary is a member of his own branch: he rates too (once).
    assert "满意" in chat.say("wangsj", f"评议 #{p.id} 满意").text

    chat.now = local(date(2027, 12, 1))
    assert "不在开放时间内" in chat.say("zhangdy", f"评议 #{p.id} 不满意").text

    session.expire_all()
    rows = session.scalars(select(ProjectRating).where(ProjectRating.project_id == p.id)).all()
    assert sorted((r.person_id, r.verdict) for r in rows) == sorted(
        [(org.member.id, RatingVerdict.FAIRLY), (org.wang.id, RatingVerdict.SATISFIED)]
    )
    assert next(r for r in rows if r.person_id == org.member.id).comment == "路灯还要加"
    assert session.get(SecretaryProject, p.id).satisfaction == 1.0
    result = chat.say("zhouzz", f"评议结果 #{p.id}").text
    assert "2人参评" in result and "满意1、基本满意1、不满意0" in result and "100.0%" in result


def test_the_satisfaction_rate_counts_dissatisfied(session, org):
    p = _accepted(session, org)
    rating.open_window(
        session, org.zhou, p.id, date(2027, 11, 1), date(2027, 11, 30), public=False, now=OPEN_DAY, cfg=CFG
    )
    rating.rate(session, org.member, p.id, RatingVerdict.DISSATISFIED, "", now=OPEN_DAY, cfg=CFG)
    rating.rate(session, org.wang, p.id, RatingVerdict.SATISFIED, "", now=OPEN_DAY, cfg=CFG)
    assert p.satisfaction == 0.5
    assert rating.tally(session, p.id)[RatingVerdict.DISSATISFIED] == 1


@pytest.fixture
def web(session_factory, session, org):
    p = _accepted(session, org)
    session.commit()
    app = FastAPI()
    clock = Clock(OPEN_DAY)
    answer_refusals(app, session_factory, CORE, clock)
    app.include_router(build_projects_router(session_factory, {}, CORE, clock=clock))
    return app, p.id


def _count(session, project_id):
    session.expire_all()
    return session.scalar(select(func.count(ProjectRating.id)).where(ProjectRating.project_id == project_id))


def test_the_public_link(web, session, org):
    app, pid = web
    p = session.get(SecretaryProject, pid)
    # A window for members only: the link (even a genuine one) rates nothing.
    rating.open_window(
        session, org.zhou, pid, date(2027, 11, 1), date(2027, 11, 30), public=False, now=OPEN_DAY, cfg=CFG
    )
    session.commit()
    token = rating.public_token(CORE.secret_key, p, CFG)
    browser = TestClient(app)
    page = browser.get(f"/h5/projects/rate/{token}")
    assert page.status_code == 200 and 'id="closed"' in page.text and RATER_COOKIE in browser.cookies
    assert browser.post(f"/h5/projects/rate/{token}", data={"verdict": "satisfied"}).status_code == 403
    assert _count(session, pid) == 0

    rating.open_window(
        session, org.zhou, pid, date(2027, 11, 1), date(2027, 11, 30), public=True, now=OPEN_DAY, cfg=CFG
    )
    session.commit()
    # Forged, or signed for another purpose, or naming another project: 404 and nothing saved.
    assert browser.get(f"/h5/projects/rate/{token[:-2]}xx").status_code == 404
    other = TokenSigner(CORE.secret_key, "h5.session").sign(pid, expires_at=rating.window_end(p, CFG))
    assert browser.post(f"/h5/projects/rate/{other}", data={"verdict": "satisfied"}).status_code == 404
    # A browser without the page's cookie, or a bad verdict: refused.
    assert (
        TestClient(app).post(f"/h5/projects/rate/{token}", data={"verdict": "satisfied"}).status_code == 422
    )
    assert browser.post(f"/h5/projects/rate/{token}", data={"verdict": "good"}).status_code == 422
    assert _count(session, pid) == 0

    page = browser.get(f"/h5/projects/rate/{token}")
    assert 'id="rate"' in page.text and "村集体经济增收" in page.text
    ok = browser.post(f"/h5/projects/rate/{token}", data={"verdict": "satisfied", "comment": "很好"})
    assert ok.status_code == 200 and "满意" in ok.text
    assert browser.post(f"/h5/projects/rate/{token}", data={"verdict": "dissatisfied"}).status_code == 409
    assert 'id="rated"' in browser.get(f"/h5/projects/rate/{token}").text
    second = TestClient(app)
    second.get(f"/h5/projects/rate/{token}")
    assert second.post(f"/h5/projects/rate/{token}", data={"verdict": "dissatisfied"}).status_code == 200
    assert _count(session, pid) == 2
    rows = session.scalars(select(ProjectRating).where(ProjectRating.project_id == pid)).all()
    assert all(r.person_id is None and r.public_key for r in rows)
    assert session.get(SecretaryProject, pid).satisfaction == 0.5


def test_the_public_link_expires_with_the_window(session, org):
    p = _accepted(session, org)
    rating.open_window(
        session, org.zhou, p.id, date(2027, 11, 1), date(2027, 11, 30), public=True, now=OPEN_DAY, cfg=CFG
    )
    token = rating.public_token("k" * 32, p, CFG)
    args = ("k" * 32, token, "browser-1", RatingVerdict.SATISFIED, "")
    late = local(date(2027, 12, 1), 1)
    with pytest.raises(Refused) as refused:
        rating.rate_public(session, *args, now=late, cfg=CFG)
    assert refused.value.status == 404
    rating.rate_public(session, *args, now=local(date(2027, 11, 30), 23), cfg=CFG)
    assert p.satisfaction == 1.0


def test_the_committee_sees_the_result_in_the_console(session_factory, session, org):
    p = _accepted(session, org)
    rating.open_window(
        session, org.zhou, p.id, date(2027, 11, 1), date(2027, 11, 30), public=True, now=OPEN_DAY, cfg=CFG
    )
    rating.rate(session, org.member, p.id, RatingVerdict.SATISFIED, "", now=OPEN_DAY, cfg=CFG)
    rating.rate_public(
        session, CORE.secret_key, rating.public_token(CORE.secret_key, p, CFG), "b1",
        RatingVerdict.DISSATISFIED, "", now=OPEN_DAY, cfg=CFG,
    )  # fmt: skip
    session.commit()
    app = console_app(session_factory, now=OPEN_DAY)
    page = login(session_factory, app, org.zhou.id, now=OPEN_DAY).get("/console/projects?year=2027").text
    assert "2人参评，满意1、基本满意0、不满意1，满意率50.0%" in page
    assert "评议时间：2027年11月1日至2027年11月30日" in page
