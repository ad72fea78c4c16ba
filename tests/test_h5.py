"""The shared H5 identity (bot.web.h5): /h5/session for both platforms, the cookie every feature reads,
and /h5/auth/wecom's `next`, which must stay on our own /h5/ pages."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, quote, urlsplit
from zoneinfo import ZoneInfo

import pytest
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient

from bot.core.context import CoreConfig
from bot.core.errors import IdentityError
from bot.web.app import answer_refusals
from bot.web.h5 import (
    COOKIE,
    CSRF_HEADER,
    OAUTH_STATE_COOKIE,
    SESSION_TTL,
    H5Pages,
    build_h5_router,
    session_token,
)
from bot.web.meetings import build_meetings_router
from handlers.meetings import signin, strings
from models.org import ChatAccount, OrgUnit, Person, Platform, UnitKind, set_path

BASE = "https://zhibu.example.org"
CORE = CoreConfig(tz=ZoneInfo("Asia/Shanghai"), public_base_url=BASE, secret_key="test-secret-for-h5")
NOW = datetime(2026, 5, 18, 2, 0, tzinfo=UTC)
DING_CORP, WECOM_CORP = "dingh5test", "wwh5test"


class FakeIdentity:
    """Single-use codes, like the platforms'; WeCom's also has the OAuth authorize URL."""

    def __init__(self, corp_id: str):
        self.corp_id = corp_id
        self.codes: dict[str, str] = {}

    def issue(self, account: str) -> str:
        code = f"code-{len(self.codes)}-{account}"
        self.codes[code] = account
        return code

    def user_for_code(self, code: str) -> str:
        if code not in self.codes:
            raise IdentityError("unknown or used code")
        return self.codes.pop(code)

    def authorize_url(self, redirect_uri: str, state: str) -> str:
        return f"https://wecom.invalid/oauth?redirect_uri={quote(redirect_uri, safe='')}&state={state}"


class Clock:
    def __init__(self, now):
        self.now = now

    def __call__(self):
        return self.now


@pytest.fixture
def people(session):
    branch = OrgUnit(name="第一党支部", kind=UnitKind.BRANCH)
    session.add(branch)
    session.flush()
    set_path(branch, None)
    ding = Person(name="张丽", branch_id=branch.id)
    wecom = Person(name="刘芳", branch_id=branch.id)
    session.add_all([ding, wecom])
    session.flush()
    session.add_all(
        [
            ChatAccount(
                person_id=ding.id, platform=Platform.DINGTALK, corp_id=DING_CORP, account_id="zhangli"
            ),
            ChatAccount(
                person_id=wecom.id, platform=Platform.WECOM, corp_id=WECOM_CORP, account_id="LiuFang"
            ),
        ]
    )
    session.commit()
    return ding.id, wecom.id


@pytest.fixture
def web(session_factory, people):
    ids = {"dingtalk": FakeIdentity(DING_CORP), "wecom": FakeIdentity(WECOM_CORP)}
    clock = Clock(NOW)
    app = FastAPI()
    answer_refusals(app, session_factory)  # as create_app does
    app.include_router(build_h5_router(session_factory, ids, CORE, clock=clock))
    app.include_router(build_meetings_router(session_factory, ids, CORE, clock=clock))
    # A stand-in feature page that only reports whom the shared cookie names.
    pages = H5Pages(session_factory, ids, CORE, prefix="/h5/probe", clock=clock)
    probe = APIRouter(prefix="/h5/probe")

    @probe.get("/whoami")
    def whoami(request: Request):
        with session_factory() as session:
            person = pages.person(request, session)
            return {"id": person.id if person else None}

    app.include_router(probe)
    # https, as the public URL: the browser sends a Secure cookie back only over https.
    return TestClient(app, base_url="https://testserver", follow_redirects=False), ids, clock


def wecom_state(client: TestClient, next_: str = "/h5/meetings/1/signin") -> str:
    """Start WeCom's OAuth round trip as a page does: the browser keeps the state cookie, the
    redirect carries the same state to WeCom and back."""
    r = client.get("/h5/auth/wecom", params={"next": next_})
    assert r.status_code == 302
    return parse_qs(urlsplit(r.headers["location"]).query)["state"][0]


def test_session_for_both_platforms_sets_the_one_cookie(web, people):
    client, ids, clock = web
    ding_id, wecom_id = people
    assert client.get("/h5/probe/whoami").json() == {"id": None}
    r = client.post("/h5/session", json={"platform": "dingtalk", "code": ids["dingtalk"].issue("zhangli")})
    assert r.status_code == 200 and r.json()["ok"] is True and r.json()["name"] == "张丽"
    cookie = r.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=") and "HttpOnly" in cookie and "Path=/" in cookie
    assert "samesite=lax" in cookie.lower() and "Secure" in cookie  # https public URL
    assert f"Max-Age={int(SESSION_TTL.total_seconds())}" in cookie
    assert client.get("/h5/probe/whoami").json() == {"id": ding_id}

    r = client.post(
        "/h5/session",
        json={"platform": "wecom", "code": ids["wecom"].issue("LiuFang"), "state": wecom_state(client)},
    )
    assert r.status_code == 200 and r.json()["name"] == "刘芳"
    assert client.get("/h5/probe/whoami").json() == {"id": wecom_id}
    # The cookie expires with the session, whatever the browser keeps.
    clock.now = NOW + SESSION_TTL + timedelta(seconds=1)
    assert client.get("/h5/probe/whoami").json() == {"id": None}


def test_only_a_session_token_is_a_session(web, people):
    """The cookie is signed for the session alone: a sign-in QR token that happens to carry the same
    number (meeting 1, person 1) names nobody."""
    client, _, _ = web
    ding_id, _ = people
    client.cookies.set(COOKIE, session_token(CORE.secret_key, ding_id, NOW))
    assert client.get("/h5/probe/whoami").json() == {"id": ding_id}
    client.cookies.set(COOKIE, signin.make_token(CORE.secret_key, ding_id, NOW + SESSION_TTL))
    assert client.get("/h5/probe/whoami").json() == {"id": None}
    client.cookies.set(COOKIE, session_token("another-secret", ding_id, NOW))
    assert client.get("/h5/probe/whoami").json() == {"id": None}


def test_session_refusals_set_no_cookie(web):
    client, ids, _ = web
    code = ids["wecom"].issue("LiuFang")
    state = wecom_state(client)
    assert (
        client.post("/h5/session", json={"platform": "wecom", "code": code, "state": state}).status_code
        == 200
    )
    client.cookies.clear()
    state = wecom_state(client)
    used = client.post("/h5/session", json={"platform": "wecom", "code": code, "state": state})  # single use
    assert used.status_code == 401 and used.json()["title"] == strings.SIGNIN_IDENTITY_FAILED[0]
    forged = client.post("/h5/session", json={"platform": "dingtalk", "code": "forged"})
    assert forged.status_code == 401
    stranger = client.post(
        "/h5/session", json={"platform": "dingtalk", "code": ids["dingtalk"].issue("nobody")}
    )
    assert stranger.status_code == 403 and stranger.json()["error"] == "not_member"
    assert stranger.json()["message"]  # a Chinese explanation for the page to show
    assert client.post("/h5/session", json={"platform": "qq", "code": "x"}).status_code == 400
    assert client.post("/h5/session", json={"platform": "dingtalk", "code": ""}).status_code == 400
    # Naming oneself is not identifying oneself.
    assert client.post("/h5/session", json={"platform": "dingtalk", "person_id": 1}).status_code == 400
    for r in (used, forged, stranger):
        assert "set-cookie" not in r.headers
    assert client.get("/h5/probe/whoami").json() == {"id": None}


@pytest.mark.parametrize(
    "next_", ["/h5/meetings/7/signin?t=1.2.3", "/h5/observers/7/form", "/h5/monthly/3/2026-05"]
)
def test_wecom_authorize_returns_to_any_h5_page(web, next_):
    client, _, _ = web
    r = client.get("/h5/auth/wecom", params={"next": next_})
    assert r.status_code == 302
    redirect = parse_qs(urlsplit(r.headers["location"]).query)["redirect_uri"][0]
    assert redirect == BASE + next_


@pytest.mark.parametrize(
    "next_",
    [
        "",
        "https://evil.example/h5/meetings/1/signin",
        "//evil.example/h5/meetings/1/signin",
        "/h5",
        "/h5evil/x",
        "/api/v1/people",
        "h5/meetings/1/signin",
    ],
)
def test_wecom_authorize_never_leaves_our_h5_pages(web, next_):
    client, _, _ = web
    r = client.get("/h5/auth/wecom", params={"next": next_})
    assert r.status_code == 400 and "location" not in r.headers


def test_a_feature_s_own_wecom_redirect_stays_within_that_feature(web):
    client, _, _ = web
    ok = client.get("/h5/meetings/auth/wecom", params={"next": "/h5/meetings/7/signin"})
    assert ok.status_code == 302
    other = client.get("/h5/meetings/auth/wecom", params={"next": "/h5/observers/7/form"})
    assert other.status_code == 400


def test_wecom_authorize_without_wecom_is_refused(session_factory):
    app = FastAPI()
    answer_refusals(app, session_factory)  # as create_app does
    app.include_router(build_h5_router(session_factory, {"dingtalk": FakeIdentity(DING_CORP)}, CORE))
    r = TestClient(app, follow_redirects=False).get(
        "/h5/auth/wecom", params={"next": "/h5/meetings/1/signin"}
    )
    assert r.status_code == 400


# ---- CSRF, content types and the WeCom OAuth state (issue 12: 2, 11) ------------------------------


@pytest.fixture
def guarded(session_factory, people):
    """A stand-in H5 feature with one state-changing route, behind the shared guard."""
    ids = {"dingtalk": FakeIdentity(DING_CORP), "wecom": FakeIdentity(WECOM_CORP)}
    clock = Clock(NOW)
    pages = H5Pages(session_factory, ids, CORE, prefix="/h5/probe", clock=clock)
    router = pages.router()
    changes: list[dict] = []

    @router.post("/change")
    async def change(request: Request):
        with session_factory() as session:
            if pages.person(request, session) is None:
                return JSONResponse({"error": "need_identity"}, status_code=401)
        ctype = request.headers.get("content-type", "")
        changes.append(dict(await request.form()) if "form" in ctype else {"json": await request.body()})
        return {"ok": True}

    @router.get("/page")
    def page(request: Request):
        return pages.page(request, "h5/message.html", title="t", text="x")

    app = FastAPI()
    app.include_router(router)
    client = TestClient(app, base_url="https://testserver", follow_redirects=False)
    client.clock = clock
    return client, ids, changes


def _login(client, ids) -> str:
    r = client.post(
        "/h5/probe/session", json={"platform": "dingtalk", "code": ids["dingtalk"].issue("zhangli")}
    )
    assert r.status_code == 200
    return r.json()["csrf"]


def test_a_request_without_the_session_s_csrf_token_changes_nothing(guarded):
    client, ids, changes = guarded
    token = _login(client, ids)
    assert client.post("/h5/probe/change", json={"paid": True}).status_code == 403
    wrong = client.post("/h5/probe/change", json={"paid": True}, headers={CSRF_HEADER: "0" * 32})
    assert wrong.status_code == 403 and wrong.json()["detail"] == strings.H5_CROSS_SITE
    # A plain HTML form of another site: no header, no field.
    assert client.post("/h5/probe/change", data={"paid": "1"}).status_code == 403
    assert changes == []
    assert (
        client.post("/h5/probe/change", json={"paid": True}, headers={CSRF_HEADER: token}).status_code == 200
    )
    assert client.post("/h5/probe/change", data={"paid": "1", "csrf_token": token}).status_code == 200
    assert len(changes) == 2


def test_the_token_is_bound_to_the_session(guarded):
    client, ids, changes = guarded
    first = _login(client, ids)
    client.clock.now += timedelta(minutes=1)
    second = _login(client, ids)  # a new session: the old page's token no longer serves
    assert first != second
    assert client.post("/h5/probe/change", json={}, headers={CSRF_HEADER: first}).status_code == 403
    assert client.post("/h5/probe/change", json={}, headers={CSRF_HEADER: second}).status_code == 200


def test_bodies_are_parsed_only_as_the_type_they_declare(guarded):
    """A cross-site "simple" request (text/plain, or no type at all) used to pass for JSON."""
    client, ids, changes = guarded
    token = _login(client, ids)
    body = b'{"paid": true}'
    for headers in ({"content-type": "text/plain"}, {}):
        r = client.post("/h5/probe/change", content=body, headers={CSRF_HEADER: token, **headers})
        assert r.status_code == 415 and r.json()["detail"] == strings.H5_BAD_REQUEST
    assert changes == []


def test_a_multipart_body_needs_a_session_before_it_is_read(guarded):
    client, _, changes = guarded
    r = client.post("/h5/probe/change", files={"photos": ("a.png", b"x" * 1000)})
    assert r.status_code == 401 and r.json()["detail"] == strings.NEED_LOGIN
    # Without a session and without a body the handler itself asks for an identity.
    assert client.post("/h5/probe/change", json={}).status_code == 401
    assert changes == []


def test_pages_carry_the_token_for_their_own_posts(guarded):
    client, ids, _ = guarded
    assert 'csrf: ""' in client.get("/h5/probe/page").text
    token = _login(client, ids)
    assert f'csrf: "{token}"' in client.get("/h5/probe/page").text


def test_opening_a_session_takes_json_from_our_own_origin(guarded):
    client, ids, _ = guarded
    code = ids["dingtalk"].issue("zhangli")
    evil = client.post(
        "/h5/probe/session",
        json={"platform": "dingtalk", "code": code},
        headers={"origin": "https://evil.zhibu.example.org"},
    )
    assert evil.status_code == 403 and "set-cookie" not in evil.headers
    form = client.post("/h5/probe/session", data={"platform": "dingtalk", "code": code})
    assert form.status_code in (403, 415) and "set-cookie" not in form.headers
    ours = client.post(
        "/h5/probe/session", json={"platform": "dingtalk", "code": code}, headers={"origin": BASE}
    )
    assert ours.status_code == 200


def test_the_wecom_state_is_random_and_belongs_to_the_browser_that_asked(web):
    """Login CSRF: the state was the constant "zhibu" and any ?code= was exchanged."""
    client, ids, _ = web
    r = client.get("/h5/auth/wecom", params={"next": "/h5/meetings/1/signin"})
    cookie = r.headers["set-cookie"]
    assert cookie.startswith(f"{OAUTH_STATE_COOKIE}=") and "HttpOnly" in cookie and "Max-Age=600" in cookie
    state = parse_qs(urlsplit(r.headers["location"]).query)["state"][0]
    assert state != "zhibu" and state != wecom_state(client)
    state = wecom_state(client)
    for bad in ("", "zhibu", state + "x"):
        r = client.post(
            "/h5/session", json={"platform": "wecom", "code": ids["wecom"].issue("LiuFang"), "state": bad}
        )
        assert r.status_code == 400 and "set-cookie" not in r.headers
    # Another browser (no state cookie) with the right state and a good code is refused too.
    other = TestClient(client.app, base_url="https://testserver")
    r = other.post(
        "/h5/session", json={"platform": "wecom", "code": ids["wecom"].issue("LiuFang"), "state": state}
    )
    assert r.status_code == 400
    ok = client.post(
        "/h5/session", json={"platform": "wecom", "code": ids["wecom"].issue("LiuFang"), "state": state}
    )
    assert ok.status_code == 200


# ---- the sandbox's ordinary browser (issue 15: 1) -------------------------------------------------


def _platform_shown(session_factory, ids, headers=None, cookies=None) -> str:
    pages = H5Pages(session_factory, ids, CORE, prefix="/h5/probe", clock=Clock(NOW))
    router = pages.router()

    @router.get("/page")
    def page(request: Request):
        return {"platform": pages.platform(request)}

    app = FastAPI()
    app.include_router(router)
    client = TestClient(app)
    for k, v in (cookies or {}).items():
        client.cookies.set(k, v)
    return client.get("/h5/probe/page", headers=headers or {}).json()["platform"]


def test_on_the_sandbox_an_ordinary_browser_plays_the_client_the_chat_page_chose(session_factory):
    """The demo's chat page sets sandbox_platform; a plain desktop browser names no client."""
    wecom = FakeIdentity(WECOM_CORP)
    wecom.oauth_base = "http://127.0.0.1:18080/connect/oauth2/authorize"
    sandbox = {"wecom": wecom}
    assert _platform_shown(session_factory, sandbox) == ""
    assert _platform_shown(session_factory, sandbox, cookies={"sandbox_platform": "wecom"}) == "wecom"
    assert _platform_shown(session_factory, sandbox, cookies={"sandbox_platform": "qq"}) == ""
    # The client's own User-Agent still decides first.
    ua = {"user-agent": "Mozilla/5.0 DingTalk/7.0"}
    assert (
        _platform_shown(session_factory, sandbox, headers=ua, cookies={"sandbox_platform": "wecom"})
        == "dingtalk"
    )


def test_real_platforms_never_read_the_sandbox_cookie(session_factory):
    wecom = FakeIdentity(WECOM_CORP)
    wecom.oauth_base = "https://open.weixin.qq.com/connect/oauth2/authorize"
    assert _platform_shown(session_factory, {"wecom": wecom}, cookies={"sandbox_platform": "wecom"}) == ""


def test_each_page_asks_for_the_app_in_its_own_words(web):
    client, _, _ = web

    def in_page(text: str, page: str) -> bool:  # the page's script carries it as JSON
        return json.dumps(text)[1:-1] in page

    signin = client.get("/h5/meetings/1/signin", params={"t": "x"}).text
    assert in_page(strings.SIGNIN_NEED_APP[1], signin)
    plan = client.get("/h5/meetings/plan").text
    assert in_page(strings.H5_NEED_APP[1], plan) and not in_page(strings.SIGNIN_NEED_APP[1], plan)
