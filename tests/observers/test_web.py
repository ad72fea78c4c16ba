"""The H5 evaluation form and the .xlsx export over HTTP (TestClient) with a fake identity exchange."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from io import BytesIO

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import func, select

from bot.web.app import answer_refusals
from bot.web.meetings import build_meetings_router
from bot.web.observers import build_observers_router
from handlers.meetings.types import DEFAULT_CONFIG as MCFG
from handlers.observers import access
from models.observers import Observation
from tests.meetings.test_web import CORE, Clock, FakeIdentity
from tests.observers.conftest import CFG, NOW, full_form, make_meeting
from tests.web import open_session


@pytest.fixture
def web(session_factory, world):
    ident, clock = FakeIdentity(), Clock(NOW)
    app = FastAPI()
    answer_refusals(app, session_factory)  # as create_app does
    app.include_router(
        build_observers_router(session_factory, {"dingtalk": ident}, CORE, cfg=CFG, clock=clock)
    )
    app.include_router(
        build_meetings_router(session_factory, {"dingtalk": ident}, CORE, cfg=MCFG, clock=clock)
    )
    return TestClient(app), ident, clock


def login(client, ident, account, prefix="/h5/observers"):
    return open_session(client, f"{prefix}/session", {"platform": "dingtalk", "code": ident.issue(account)})


@pytest.fixture
def held(session, world):
    m = make_meeting(session, world, NOW - timedelta(days=1))
    session.commit()
    return m


def _forms(session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(Observation))


def test_without_identity_the_page_asks_the_platform_and_the_post_is_refused(web, held):
    client, ident, _ = web
    page = client.get(f"/h5/observers/{held.id}/form")
    assert page.status_code == 200 and "zbIdentify" in page.text and "/h5/observers" in page.text
    assert client.post(f"/h5/observers/{held.id}/form", json=full_form()).status_code == 401
    assert (
        client.post("/h5/observers/session", json={"platform": "dingtalk", "code": "forged"}).status_code
        == 401
    )
    assert login(client, ident, "nobody-here").status_code == 403


def test_the_meetings_pages_session_works_here_too(web, held):
    client, ident, _ = web
    assert login(client, ident, "qiangc", prefix="/h5/meetings").status_code == 200
    page = client.get(f"/h5/observers/{held.id}/form")
    assert "会前准备" in page.text and "城关社区党支部" in page.text


def test_the_wrong_people_get_a_page_saying_why(web, held, session, world):
    client, ident, _ = web
    login(client, ident, "konggc")
    page = client.get(f"/h5/observers/{held.id}/form")
    assert page.status_code == 403 and "您不是城关社区党支部的观察员" in page.text
    assert client.post(f"/h5/observers/{held.id}/form", json=full_form()).status_code == 403
    login(client, ident, "wangsj")
    assert client.post(f"/h5/observers/{held.id}/form", json=full_form()).status_code == 403
    assert client.get("/h5/observers/999999/form").status_code == 404
    assert _forms(session) == 0


def test_submit_validate_edit_and_deadline(web, held, session):
    client, ident, clock = web
    login(client, ident, "qiangc")
    page = client.get(f"/h5/observers/{held.id}/form")
    for label in (
        "会前准备",
        "程序规范",
        "到会情况",
        "内容质量",
        "记录规范",
        "议定事项落实/整改",
        "责令重开",
    ):
        assert label in page.text
    bad = client.post(f"/h5/observers/{held.id}/form", json=full_form(score_content="30"))
    assert bad.status_code == 400
    assert "应为 0–25 分" in bad.json()["error"] and bad.json()["fields"] == ["score_content"]
    assert _forms(session) == 0
    ok = client.post(f"/h5/observers/{held.id}/form", json=full_form())
    assert ok.status_code == 200 and "88/100 分，等次 B" in ok.json()["message"]
    again = client.get(f"/h5/observers/{held.id}/form")
    assert 'value="22"' in again.text and "整体规范" in again.text and "可以修改到" in again.text
    clock.now = NOW + timedelta(days=CFG.submit_days + 1)
    login(client, ident, "qiangc")  # the session cookie lasts hours, not days
    closed = client.post(f"/h5/observers/{held.id}/form", json=full_form(score_prep="15"))
    assert closed.status_code == 403 and "评价表已截止" in closed.json()["error"]
    assert client.get(f"/h5/observers/{held.id}/form").status_code == 403
    session.expire_all()
    assert session.scalars(select(Observation)).one().total == 88


def test_export_is_for_the_committee_and_holds_the_record(web, held, session, world):
    client, ident, clock = web
    login(client, ident, "qiangc")
    raw = full_form("责令纠正", correct_by="2026-06-01", issues="补签名\n补名单")
    assert client.post(f"/h5/observers/{held.id}/form", json=raw).status_code == 200
    assert client.get("/h5/observers/export.xlsx").status_code == 403  # an observer sees chat stats only
    login(client, ident, "zhangli")
    assert client.get("/h5/observers/export.xlsx").status_code == 403
    clock.now = datetime(2026, 12, 31, 8, tzinfo=UTC)
    login(client, ident, "zhouzz")  # the committee's 组织委员
    resp = client.get("/h5/observers/export.xlsx", params={"year": 2026})
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("application/vnd.openxml")
    wb = load_workbook(BytesIO(resp.content))
    ws = wb["观察员年度统计"]
    assert [c.value for c in ws[1]][:4] == ["观察员", "手机号", "联系支部", "列席次数"]
    row = [c.value for c in ws[2]]
    assert row[0] == "钱观察" and row[2] == "城关社区党支部"
    assert row[3:10] == [1, 1, 1, 2, 0, 2, 1]  # attended, forms, on time, raised, closed, periods, covered
    assert ws[1][10].value == "年度评定" and row[10] == "见管理后台“观察员年度评定”"  # the one rule's place
    assert ws.max_row == 2
    detail = wb["评价表明细"]
    assert [c.value for c in detail[2]][:8] == ["钱观察", "城关社区党支部", held.title, datetime(2026, 5, 17, 10, 0),
                                                88, 100, "B", "责令纠正"]  # fmt: skip
    assert detail[2][9].value == "是"
    # The committee's 组织委员 sees the observers of its branches, as an administrator.
    assert access.stats_scope(session, world.reviewer) == ([world.observer.id], True)


def test_the_form_body_is_text_and_anything_else_is_refused_unsaved(web, held, session):
    client, ident, _ = web
    login(client, ident, "qiangc")
    url = f"/h5/observers/{held.id}/form"
    # A value that is not text or a number (a script's mistake, or tampering): 400, named, nothing saved.
    r = client.post(url, json=full_form() | {"score_prep": {"x": 1}, "comment": ["a"]})
    assert r.status_code == 400
    assert r.json() == {
        "error": "提交的内容格式不对，没有保存。请刷新页面后重新填写。",
        "fields": ["comment", "score_prep"],
    }
    assert _forms(session) == 0
    # Numbers are taken as typed, issues may be a list, unknown fields are ignored.
    body = full_form("责令纠正", correct_by="2026-06-01") | {"score_prep": 14, "issues": ["补齐签名"], "x": 1}
    r = client.post(url, json=body)
    assert r.status_code == 200, r.text
    obs = session.scalars(select(Observation)).one()
    assert {i["key"]: i["score"] for i in obs.items}["prep"] == 14
    assert [rect.text for rect in obs.rectifications] == ["补齐签名"]
