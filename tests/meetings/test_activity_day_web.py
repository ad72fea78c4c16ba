"""The plan and minutes forms over HTTP with the 党员活动日 on the 25th: the plan form shows and
proposes the day; a 主题党日's minutes form has the menu's checkboxes and the 自选动作, saves them,
and refuses an unknown item or a 自选动作 too long in Chinese with nothing saved."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from bot.web.app import answer_refusals
from bot.web.meetings import build_meetings_router
from handlers.meetings import meetings as meetings_uc
from handlers.meetings.activity import DayRule
from models.meetings import Meeting, Minutes
from tests.meetings.conftest import CFG, NOW
from tests.meetings.test_web import CORE, Clock, FakeIdentity, login

ON_25 = replace(CFG, activity=replace(CFG.activity, rule=DayRule.DAY_OF_MONTH, day=25))
START = NOW + timedelta(days=1)


@pytest.fixture
def site(session_factory, org):
    ident, clock = FakeIdentity(), Clock(NOW)
    app = FastAPI()
    answer_refusals(app, session_factory)
    app.include_router(
        build_meetings_router(session_factory, {"dingtalk": ident}, CORE, cfg=ON_25, clock=clock)
    )
    client = TestClient(app)
    login(client, ident, "wangsj")
    return client, clock, ident


def _meeting(session, org, types) -> Meeting:
    m = meetings_uc.schedule_meeting(
        session, org.secretary, types=types, starts_at=START, place="活动室", topic="学习", now=NOW, cfg=ON_25
    )
    session.commit()
    return m


def test_the_plan_form_shows_and_proposes_the_activity_day(site):
    client, _, _ = site
    page = client.get("/h5/meetings/plan").text
    assert "2026年6月党员活动日：6月25日（星期四）" in page
    assert 'data-activity-day="2026-06-25"' in page


def test_the_new_meeting_form_shows_and_proposes_this_months_day(site, session_factory, org):
    client, clock, ident = site
    page = client.get("/h5/meetings/new").text
    assert "本月党员活动日：5月25日（星期一）" in page
    assert 'data-activity-day="2026-05-25"' in page and 'value="theme_day"' in page
    # Once the day has passed the line stays but nothing is proposed; without a fixed day, neither.
    clock.now = NOW + timedelta(days=8)
    login(client, ident, "wangsj")  # the 12-hour session has lapsed
    page = client.get("/h5/meetings/new").text
    assert "本月党员活动日：5月25日（星期一）" in page and 'data-activity-day=""' in page
    app = FastAPI()
    ident = FakeIdentity()
    app.include_router(
        build_meetings_router(session_factory, {"dingtalk": ident}, CORE, cfg=CFG, clock=Clock(NOW))
    )
    plain = TestClient(app)
    login(plain, ident, "wangsj")
    page = plain.get("/h5/meetings/new").text
    assert "本月党员活动日" not in page and 'data-activity-day=""' in page


def test_the_plan_confirmation_says_a_theme_day_is_off_the_activity_day(site, session, org):
    client, _, _ = site
    item = {"types": ["theme_day"], "place": "活动室", "topic": "学习"}
    body = {"month": "2026-06", "confirm_missing": True}
    off = client.post(
        "/h5/meetings/plan", json={**body, "items": [{**item, "starts_at": "2026-06-20T09:00"}]}
    )
    assert off.status_code == 200, off.text
    assert off.json()["message"] == (
        "2026年6月计划已提交，等待上级党委审核。主题党日安排在6月20日，与党员活动日（6月25日）不是同一天。"
    )
    on = client.post("/h5/meetings/plan", json={**body, "items": [{**item, "starts_at": "2026-06-25T09:00"}]})
    assert on.status_code == 200 and on.json()["message"] == "2026年6月计划已提交，等待上级党委审核。"


def test_theme_day_minutes_form_records_the_menu(site, session, org):
    client, clock, ident = site
    theme = _meeting(session, org, ["theme_day"])
    lecture = _meeting(session, org, ["party_lecture"])
    clock.now = START + timedelta(hours=2)
    login(client, ident, "wangsj")  # the first session has lapsed
    page = client.get(f"/h5/meetings/{theme.id}/minutes").text
    assert "规定动作（已开展的请勾选）" in page and 'name="menu" value="重温入党誓词"' in page
    assert "主题党日「7+X」：集中学习、重温入党誓词" in page and 'name="menu_extra"' in page
    assert 'name="menu"' not in client.get(f"/h5/meetings/{lecture.id}/minutes").text
    base = {"chair": "王书记", "recorder": "赵委员", "topics": "重温入党誓词"}
    # Bad input: a Chinese 400 and nothing saved.
    bad = client.post(f"/h5/meetings/{theme.id}/minutes", json={**base, "menu": "集中学习、唱红歌"})
    assert bad.status_code == 400 and "「唱红歌」不是本组织主题党日的规定动作" in bad.json()["error"]
    long = client.post(
        f"/h5/meetings/{theme.id}/minutes", json={**base, "menu": "", "menu_extra": "参" * 201}
    )
    assert long.status_code == 400 and "自选动作太长了（最多200字）" in long.json()["error"]
    # An over-long 决定事项 is named as such (the form's own box), not as the 会议内容.
    decisions = client.post(f"/h5/meetings/{theme.id}/minutes", json={**base, "decisions": "定" * 10001})
    assert decisions.status_code == 400 and decisions.json()["error"].startswith("决定事项太长")
    assert decisions.json()["fields"] == ["decisions"]
    with session.begin():
        assert session.scalars(select(Minutes)).first() is None
    ok = client.post(
        f"/h5/meetings/{theme.id}/minutes",
        json={**base, "menu": "集中学习、重温入党誓词、交纳党费", "menu_extra": "参观红色教育基地"},
    )
    assert ok.status_code == 200, ok.text
    # Multipart (the form with photos) sends the same joined string.
    lect = client.post(
        f"/h5/meetings/{lecture.id}/minutes",
        data={**base, "menu": "集中学习"},
        files={"other": ("a.txt", b"", "text/plain")},
    )
    assert lect.status_code == 200, lect.text
    with session.begin():
        saved = {m.meeting_id: m for m in session.scalars(select(Minutes))}
        assert saved[theme.id].menu_done == ["集中学习", "重温入党誓词", "交纳党费"]
        assert saved[theme.id].menu_extra == "参观红色教育基地"
        assert saved[lecture.id].menu_done is None  # not a 主题党日: no menu
    again = client.get(f"/h5/meetings/{theme.id}/minutes").text
    assert (
        'value="交纳党费" checked' in again and 'value="党内关怀">' in again and "参观红色教育基地" in again
    )
