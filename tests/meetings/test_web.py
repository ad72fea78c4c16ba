"""The H5 pages over HTTP (FastAPI TestClient) with a fake identity exchange: sign-in, QR, projector, forms."""

from __future__ import annotations

from datetime import timedelta
from io import BytesIO
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
import zxingcpp
from fastapi import FastAPI
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import func, select

from bot.core.context import CoreConfig
from bot.core.errors import IdentityError
from bot.web.app import answer_refusals
from bot.web.meetings import build_meetings_router
from handlers.meetings import meetings as meetings_uc
from handlers.meetings import signin as signin_uc
from models.meetings import Attendance, Meeting, MonthlyPlan, PlanStatus, SigninAttempt
from tests.meetings.conftest import CFG, CORP, NOW, SECRET
from tests.web import open_session

BASE = "http://testserver"
CORE = CoreConfig(tz=ZoneInfo("Asia/Shanghai"), public_base_url=BASE, secret_key=SECRET)
START = NOW + timedelta(days=1)


class FakeIdentity:
    """Codes are single use, like the platforms' (the code → account map is the test's 'platform')."""

    def __init__(self):
        self.corp_id = CORP
        self.codes: dict[str, str] = {}

    def issue(self, account: str) -> str:
        code = f"code-{len(self.codes)}-{account}"
        self.codes[code] = account
        return code

    def user_for_code(self, code: str) -> str:
        if code not in self.codes:
            raise IdentityError("unknown or used code")
        return self.codes.pop(code)


class Clock:
    def __init__(self, now):
        self.now = now

    def __call__(self):
        return self.now


@pytest.fixture
def web(session_factory, org):
    ident, clock = FakeIdentity(), Clock(START - timedelta(minutes=5))
    app = FastAPI()
    answer_refusals(app, session_factory)  # as create_app does
    app.include_router(
        build_meetings_router(session_factory, {"dingtalk": ident}, CORE, cfg=CFG, clock=clock)
    )
    return TestClient(app), ident, clock


def login(client, ident, account):
    return open_session(
        client, "/h5/meetings/session", {"platform": "dingtalk", "code": ident.issue(account)}
    )


@pytest.fixture
def meeting(session, org):
    m = meetings_uc.schedule_meeting(
        session,
        org.secretary,
        types=["党员大会"],
        starts_at=START,
        place="会议室",
        topic="学习",
        now=NOW,
        cfg=CFG,
    )
    session.commit()
    return m


def decode(png: bytes) -> str:
    results = zxingcpp.read_barcodes(Image.open(BytesIO(png)))
    assert len(results) == 1
    return results[0].text


def test_qr_decodes_to_a_link_that_signs_the_member_in(web, session, org, meeting):
    client, ident, clock = web
    token = signin_uc.chat_token(SECRET, meeting, clock.now, CFG)
    png = client.get(f"/h5/meetings/{meeting.id}/qr.png", params={"t": token})
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    link = decode(png.content)
    assert link == f"{BASE}/h5/meetings/{meeting.id}/signin?t={token}"
    parts = urlsplit(link)
    page = client.get(parts.path + "?" + parts.query, headers={"user-agent": "Mozilla/5.0 DingTalk/7.0"})
    assert page.status_code == 200 and "requestAuthCode" in page.text and "dingtalk.open.js" in page.text
    t = parse_qs(parts.query)["t"][0]
    # No session yet: the page must identify first. A person id in the body is ignored.
    assert client.post(parts.path, json={"t": t, "person_id": org.alice.id}).status_code == 401
    assert {k: v for k, v in login(client, ident, "zhangli").json().items() if k != "csrf"} == {
        "ok": True,
        "name": "张丽",
    }
    r = client.post(parts.path, json={"t": t, "person_id": org.bob.id}).json()
    assert r["outcome"] == "ok" and "张丽" in r["message"]
    again = client.post(parts.path, json={"t": t}).json()
    assert again["outcome"] == "already" and again["title"] == "您已签到"
    with session.begin():
        rows = session.execute(select(Attendance.person_id)).scalars().all()
    assert rows == [org.alice.id]


def test_refusals_over_http_change_nothing(web, session, org, meeting):
    client, ident, clock = web
    path = f"/h5/meetings/{meeting.id}/signin"
    # An unknown code, and an account bound to nobody, get no session.
    assert (
        client.post("/h5/meetings/session", json={"platform": "dingtalk", "code": "forged"}).status_code
        == 401
    )
    assert login(client, ident, "nobody-here").status_code == 403
    assert client.post("/h5/meetings/session", json={"platform": "wecom", "code": "x"}).status_code == 400
    assert login(client, ident, "zhengq").status_code == 200  # the other branch's member
    other = client.post(path, json={"t": signin_uc.chat_token(SECRET, meeting, clock.now, CFG)}).json()
    assert other["outcome"] == "not_expected"
    login(client, ident, "zhangli")
    assert client.post(path, json={"t": "1.2.forged"}).json()["outcome"] == "forged"
    stale = signin_uc.make_token(SECRET, meeting.id, clock.now - timedelta(minutes=5))
    assert client.post(path, json={"t": stale}).json()["outcome"] == "expired"
    clock.now = START + timedelta(hours=1)
    assert (
        client.post(path, json={"t": signin_uc.chat_token(SECRET, meeting, clock.now, CFG)}).json()["outcome"]
        == "closed"
    )
    # A tampered cookie is no identity at all.
    client.cookies.set("zhibu_h5", f"{org.secretary.id}.9999999999.AAAA")
    assert client.post(path, json={"t": "x"}).status_code == 401
    # The QR endpoint draws only tokens we signed for that meeting.
    assert client.get(f"/h5/meetings/{meeting.id}/qr.png", params={"t": "1.2.3"}).status_code == 404
    with session.begin():
        assert session.scalar(select(func.count()).select_from(Attendance)) == 0
        assert (
            session.scalar(select(func.count()).select_from(SigninAttempt)) == 4
        )  # not expected, forged, expired, closed


def test_projector_refreshes_tokens_and_counts(web, session, org, meeting):
    client, ident, clock = web
    url = signin_uc.projector_url(BASE, SECRET, meeting, CFG)
    parts = urlsplit(url)
    assert client.get(parts.path + "?" + parts.query).status_code == 200
    assert client.get(parts.path, params={"k": "1.2.3"}).status_code == 403
    key = parse_qs(parts.query)["k"][0]
    state = client.get(f"/h5/meetings/{meeting.id}/projector/state", params={"k": key}).json()
    assert state["present"] == 0 and state["expected"] == 6
    assert decode(client.get(state["qr"]).content) == state["url"]
    login(client, ident, "chengang")
    clock.now += timedelta(seconds=40)  # within refresh + grace
    assert (
        client.post(f"/h5/meetings/{meeting.id}/signin", json={"t": state["token"]}).json()["outcome"] == "ok"
    )
    clock.now += timedelta(seconds=10)  # 50 s: that code is stale now; the projector has a new one
    assert (
        client.post(f"/h5/meetings/{meeting.id}/signin", json={"t": state["token"]}).json()["outcome"]
        == "expired"
    )
    state2 = client.get(f"/h5/meetings/{meeting.id}/projector/state", params={"k": key}).json()
    assert state2["token"] != state["token"] and state2["present"] == 1


def test_forms_for_the_secretary_only(web, session, org):
    client, ident, clock = web
    clock.now = NOW  # 2026-05-18: the plan is for June
    assert "确认身份" in client.get("/h5/meetings/plan").text  # no session → identify page
    login(client, ident, "zhangli")
    assert client.get("/h5/meetings/plan").status_code == 403
    item = {
        "types": ["theme_day", "party_lecture"],
        "starts_at": "2026-06-05T09:00",
        "place": "活动室",
        "topic": "学习",
    }
    refused = client.post("/h5/meetings/plan", json={"month": "2026-06", "items": [item]})
    assert refused.status_code == 403 and "只有本支部" in refused.json()["error"]
    login(client, ident, "wangsj")
    page = client.get("/h5/meetings/plan")
    assert page.status_code == 200 and "2026年6月" in page.text and "第一党小组" in page.text
    bad = client.post(
        "/h5/meetings/plan", json={"month": "2026-06", "items": [{**item, "starts_at": "明天"}]}
    )
    assert bad.status_code == 400 and "时间格式" in bad.json()["error"]
    # June needs a 党员大会, a 支委会 and a 党小组会 too: the form asks, and submits once confirmed.
    ask = client.post("/h5/meetings/plan", json={"month": "2026-06", "items": [item]})
    assert ask.status_code == 409 and ask.json()["confirm"] is True
    assert "没有安排支部党员大会1次、支委会1次、党小组会1次" in ask.json()["error"]
    with session.begin():
        assert session.scalars(select(MonthlyPlan)).first() is None
    ok = client.post("/h5/meetings/plan", json={"month": "2026-06", "items": [item], "confirm_missing": True})
    assert ok.status_code == 200, ok.text
    with session.begin():
        plan = session.scalars(select(MonthlyPlan)).one()
        assert plan.status == PlanStatus.SUBMITTED and plan.items[0].types == ["theme_day", "party_lecture"]
    made = client.post("/h5/meetings/new", json={"types": ["branch_committee"], "starts_at": "2026-05-20T15:00",
                                                  "place": "办公室", "topic": "研究工作"})  # fmt: skip
    assert made.status_code == 200 and "3名党员" in made.json()["message"]
    with session.begin():
        m = session.scalars(select(Meeting)).one()
    clock.now = m.starts_at + timedelta(hours=2)
    assert "确认身份" in client.get(f"/h5/meetings/{m.id}/minutes").text  # the 12-hour session has lapsed
    login(client, ident, "wangsj")
    assert "到会情况" in client.get(f"/h5/meetings/{m.id}/minutes").text
    saved = client.post(
        f"/h5/meetings/{m.id}/minutes", json={"chair": "王书记", "recorder": "赵委员", "topics": "研究"}
    )
    assert saved.status_code == 200 and "已保存" in saved.json()["message"]


def test_the_app_factory_serves_the_pages_and_picks_the_jsapi(session_factory):
    from types import SimpleNamespace

    from bot.web.app import create_app
    from bot.web.meetings import DINGTALK_JSAPI, default_jsapi_url

    client = TestClient(create_app(session_factory))
    page = client.get("/h5/meetings/1/signin", params={"t": "x"}, headers={"user-agent": "DingTalk/7.0"})
    assert page.status_code == 200 and DINGTALK_JSAPI in page.text
    sandboxed = {"dingtalk": SimpleNamespace(api=SimpleNamespace(oapi="http://127.0.0.1:18080"))}
    assert default_jsapi_url(sandboxed) == "http://127.0.0.1:18080/_sandbox/dd-shim.js"
    real = {"dingtalk": SimpleNamespace(api=SimpleNamespace(oapi="https://oapi.dingtalk.com"))}
    assert default_jsapi_url(real) == DINGTALK_JSAPI and default_jsapi_url({}) == DINGTALK_JSAPI


def test_the_signin_page_names_no_meeting_before_identity(web, meeting):
    """Issue 12: a QR code or a guessed id told anyone the meeting's title without login."""
    client, ident, _ = web
    path = f"/h5/meetings/{meeting.id}/signin"
    assert meeting.title not in client.get(path, params={"t": "x"}).text
    assert login(client, ident, "zhangli").status_code == 200
    assert meeting.title in client.get(path, params={"t": "x"}).text


@pytest.mark.parametrize("big", [2**31, 2**63, 10**30])
def test_ids_beyond_the_database_range_are_refused_not_500(web, big):
    client, ident, _ = web
    for path in (f"/h5/meetings/{big}/signin", f"/h5/meetings/{big}/qr.png", f"/h5/meetings/{big}/projector"):
        assert client.get(path, params={"t": "1.2.3", "k": "1.2.3"}).status_code == 422
    login(client, ident, "wangsj")
    assert client.get(f"/h5/meetings/{big}/minutes").status_code == 422
    assert client.post(f"/h5/meetings/{big}/signin", json={"t": "1.2.3"}).status_code == 422
    plan = client.post(
        "/h5/meetings/plan",
        json={
            "month": "2026-06",
            "items": [{"types": ["党员大会"], "starts_at": "2026-06-10T09:00", "group_id": big}],
        },
    )
    assert plan.status_code == 400


def test_the_chat_code_stops_signing_in_after_its_validity(session, org, meeting):
    """Issue 12: the code sent in chat lasted the whole window, so a forwarded picture signed in
    people who were not in the room; now it lasts cfg.chat_code_valid from when it is asked."""
    opens, closes = meetings_uc.signin_window(meeting, CFG)
    asked = opens + timedelta(minutes=5)
    token = signin_uc.chat_token(SECRET, meeting, asked, CFG)
    assert signin_uc.chat_token_expiry(meeting, asked, CFG) == asked + CFG.chat_code_valid
    # Asked before the window opens: it counts from the opening; never past the close.
    early = opens - timedelta(hours=3)
    assert signin_uc.chat_token_expiry(meeting, early, CFG) == opens + CFG.chat_code_valid
    assert signin_uc.chat_token_expiry(meeting, closes - timedelta(minutes=1), CFG) == closes

    def sign(person, now):
        return signin_uc.sign_in(
            session, meeting_id=meeting.id, token=token, person=person, now=now, cfg=CFG, secret=SECRET
        ).outcome.value

    assert sign(org.alice, asked + timedelta(minutes=1)) in ("ok", "late")
    late = asked + CFG.chat_code_valid + timedelta(seconds=CFG.qr_grace_seconds + 1)
    assert late < closes  # still inside the window: only the code's age refuses it
    assert sign(org.bob, late) == "expired"
    session.commit()
    assert (
        session.scalar(select(func.count()).select_from(Attendance).where(Attendance.person_id == org.bob.id))
        == 0
    )


def test_form_bodies_are_typed_and_a_wrong_shape_is_a_chinese_400(web, session, org, meeting):
    """The meeting pages' POST bodies are pydantic models (issue #13 point 4): a wrong shape is
    answered in Chinese with the field at fault, and nothing is written."""
    client, ident, clock = web
    clock.now = NOW
    login(client, ident, "wangsj")
    bad = client.post("/h5/meetings/plan", json={"month": "2026-06", "items": "学习"})
    assert bad.status_code == 400 and bad.json() == {
        "error": "提交的内容格式不对，请刷新页面后重试（已填写的内容请先复制保存）。",
        "fields": ["items"],
    }
    item = {"types": ["party_lecture"], "starts_at": "2026-05-25T09:00", "place": "活动室", "topic": "学习"}
    for group in ("第一党小组", -3, [1]):
        wrong = client.post("/h5/meetings/new", json={**item, "group_id": group})
        assert wrong.status_code == 400 and wrong.json()["fields"] == ["group_id"]
    assert client.post("/h5/meetings/new", json={**item, "place": 7}).json()["fields"] == ["place"]
    assert client.post(f"/h5/meetings/{meeting.id}/signin", json={"t": ["x"]}).status_code == 400
    clock.now = START + timedelta(hours=1)
    login(client, ident, "wangsj")  # the page's session lasts 12 hours
    minutes = client.post(
        f"/h5/meetings/{meeting.id}/minutes", json={"chair": {"name": "王书记"}, "topics": "x"}
    )
    assert minutes.status_code == 400 and minutes.json()["fields"] == ["chair"]
    with session.begin():
        assert session.scalar(select(func.count()).select_from(MonthlyPlan)) == 0
        assert session.scalar(select(func.count()).select_from(Meeting)) == 1  # the fixture's only
        assert session.scalar(select(func.count()).select_from(SigninAttempt)) == 0
    # "无" (no group) still means no group, and a good body goes through.
    ok = client.post("/h5/meetings/new", json={**item, "starts_at": "2026-05-26T09:00", "group_id": ""})
    assert ok.status_code == 200, ok.text


def test_minutes_photos_are_for_the_branch_and_its_managers(session, org, meeting):
    """Who may see a minutes photo is the use case's rule (handlers/meetings/minutes.py)."""
    from handlers.meetings import minutes as minutes_uc
    from handlers.meetings.types import Refused
    from models import attachments

    data = minutes_uc.MinutesInput("王书记", "赵委员", "学习")
    png = BytesIO()
    Image.new("RGB", (20, 20), (200, 30, 30)).save(png, format="PNG")
    photos = attachments.check_photos([attachments.Upload("p.png", png.getvalue())])
    saved = minutes_uc.record_minutes(
        session, org.secretary, meeting.id, data, now=START + timedelta(hours=1), cfg=CFG, photos=photos
    )
    (photo,) = attachments.photos_of(session, attachments.MINUTES, saved.id)
    assert minutes_uc.minutes_photo(session, org.carol, meeting.id, photo.id, CFG) is photo
    with pytest.raises(Refused) as other:
        minutes_uc.minutes_photo(session, org.other_member, meeting.id, photo.id, CFG)
    assert other.value.status == 403
    with pytest.raises(Refused) as missing:
        minutes_uc.minutes_photo(session, org.carol, meeting.id, photo.id + 1, CFG)
    assert missing.value.status == 404


def test_minutes_counts_follow_the_typed_host_for_the_secretary_only(web, session, org, meeting):
    client, ident, clock = web
    clock.now = START + timedelta(hours=1)
    url = f"/h5/meetings/{meeting.id}/minutes/headcount"
    assert client.get(url, params={"chair": "刘芳"}).status_code == 401
    login(client, ident, "zhangli")
    assert client.get(url, params={"chair": "刘芳"}).status_code == 403  # a member sees no counts
    login(client, ident, "wangsj")
    counts = client.get(url, params={"chair": "刘芳", "recorder": "张丽"}).json()
    assert "实到2人" in counts["headcount"]  # nobody scanned: the two named count
    assert "实到0人" in client.get(url, params={"chair": "路人甲", "recorder": "路人乙"}).json()["headcount"]
