"""Console login end to end: the bot's real DingTalk and WeCom adapters against the sandbox's login
pages and APIs, the chat command 登录后台, sessions on the injected clock, logout, rate limits."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import unquote
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, select

from bot.core import signing
from bot.core.context import CoreConfig
from bot.web.app import create_app
from bot.web.console import auth
from bot.web.console.deps import COOKIE
from config.settings import Settings
from handlers.console.sessions import ConsoleConfig, console_config, issue_ticket
from models.console import ConsoleSession
from models.db import unit_of_work
from models.org import RoleAssignment
from tests.core import e2e
from tests.core.helpers import make_org

T0 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
LINK = re.compile(r"(http://127\.0\.0\.1:\d+/console/login/link/[A-Za-z0-9_-]+)")


@pytest.fixture
def org(session_factory):
    return make_org(session_factory)


@pytest.fixture
def bot(org, session_factory, database_url):
    extra = [("dingtalk", {"userid": "waibu", "name": "外部联系人", "contact_type": 1}),
             ("dingtalk", {"userid": "stranger", "name": "陌生人"})]  # fmt: skip
    with e2e.running_bot(session_factory, database_url, clock_start=T0, extra_users=extra) as bot:
        yield bot


@pytest.fixture
def browser(bot):
    with httpx.Client(base_url=bot.url, trust_env=False, timeout=30) as client:
        yield client


def _scan(client: httpx.Client, bot, platform: str, user: str, *, next_url: str = "") -> httpx.Response:
    """Press the platform's button on the login page, pick `user` on the platform's page, come back."""
    start = client.get(f"/console/login/{platform}/start", params={"next": next_url} if next_url else None)
    assert start.status_code == 302
    page = start.headers["location"]
    path = "/oauth2/auth?" if platform == "dingtalk" else "/wwlogin/sso/login?"
    assert page.startswith(bot.sb.url + path), page
    assert client.get(page).status_code == 200  # the picker page
    picked = client.get(httpx.URL(page).copy_merge_params({"sandbox_user": user}))
    assert picked.status_code == 302
    back = picked.headers["location"]
    assert back.startswith(f"{bot.url}/console/login/{platform}?")
    return client.get(back)


def _sessions(session_factory) -> list[ConsoleSession]:
    with session_factory() as s:
        return list(s.scalars(select(ConsoleSession).order_by(ConsoleSession.id)))


def _logged_in(client: httpx.Client) -> bool:
    """The login page sends a live session on to the console; anyone else sees the page."""
    r = client.get("/console/login")
    return r.status_code == 303 and r.headers["location"] == "/console/"


def _csrf(bot, cookie: str) -> str:
    return signing.signature(bot.service.core.secret_key, "console.csrf", cookie)


def test_dingtalk_scan_login_runs_the_three_calls_and_opens_a_session(bot, browser, org, session_factory):
    r = _scan(browser, bot, "dingtalk", "wangshuji", next_url="/console/people?q=王")
    assert r.status_code == 303 and unquote(r.headers["location"]) == "/console/people?q=王"
    cookie = next(h for h in r.headers.get_list("set-cookie") if h.startswith(COOKIE + "="))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/console" in cookie
    assert "Secure" not in cookie  # http://127.0.0.1 in the test; https deployments get Secure
    calls = bot.sb.counters()["calls"]
    for call in ("POST /v1.0/oauth2/userAccessToken", "GET /v1.0/contact/users/me",
                 "POST /topapi/user/getbyunionid"):  # fmt: skip
        assert calls.get(call) == 1, call
    (row,) = _sessions(session_factory)
    assert (row.person_id, row.method, row.revoked_at) == (org.secretary_id, "dingtalk", None)
    assert _logged_in(browser)


def test_wecom_web_login_opens_a_session(bot, browser, org, session_factory):
    r = _scan(browser, bot, "wecom", "WangShuJi")
    assert r.status_code == 303 and r.headers["location"] == "/console/"
    assert bot.sb.counters()["calls"].get("GET /cgi-bin/auth/getuserinfo") == 1
    (row,) = _sessions(session_factory)
    assert (row.person_id, row.method) == (org.secretary_id, "wecom")
    assert _logged_in(browser)


@pytest.mark.parametrize(("platform", "account"), [("dingtalk", "member0"), ("wecom", "member1")])
def test_a_member_gets_a_polite_page_and_no_session(bot, browser, session_factory, platform, account):
    r = _scan(browser, bot, platform, account)
    assert r.status_code == 403
    assert (
        "仅供书记、党委和组织部使用" in r.text and ("党员0" if platform == "dingtalk" else "党员1") in r.text
    )
    assert _sessions(session_factory) == []
    assert not _logged_in(browser)


def test_unknown_account_and_external_contact_are_refused(bot, browser, session_factory):
    r = _scan(browser, bot, "dingtalk", "stranger")
    assert r.status_code == 403 and "没有登记您的钉钉账号" in r.text and "stranger" in r.text
    r = _scan(browser, bot, "dingtalk", "waibu")  # contact_type 1: an external contact of the corp
    assert r.status_code == 400 and "未能从钉钉确认您的身份" in r.text
    assert _sessions(session_factory) == []


def test_a_forged_or_foreign_state_is_refused(bot, browser, session_factory):
    start = browser.get("/console/login/dingtalk/start")
    page = start.headers["location"]
    back = browser.get(httpx.URL(page).copy_merge_params({"sandbox_user": "wangshuji"})).headers["location"]
    state = re.search(r"state=([0-9a-fz]+)", back)[1]
    forged = back.replace(state, state[:-1] + ("0" if state[-1] != "0" else "1"))
    r = browser.get(forged)
    assert r.status_code == 400 and "不是从本站打开的" in r.text
    # The genuine state in another browser (no nonce cookie): a login someone else started.
    with httpx.Client(trust_env=False) as other:
        assert other.get(back).status_code == 400
    # The state is for DingTalk; WeCom's callback does not take it.
    assert browser.get(f"/console/login/wecom?code=x&state={state}").status_code == 400
    assert _sessions(session_factory) == []
    # Ten minutes on, the genuine state of this browser has expired too.
    bot.clock.sleep(11 * 60)
    assert browser.get(back).status_code == 400
    assert _sessions(session_factory) == []


def test_chat_command_gives_a_one_time_link(bot, browser, org, session_factory):
    bot.sb.push_dingtalk_message("wangshuji", "登录后台")
    bot.drain()
    (reply,) = [m for m in bot.sb.outbox(platform="dingtalk") if "wangshuji" in m["to"]]
    link = LINK.search(reply["text"])[1]
    page = browser.get(link)
    assert page.status_code == 200 and "进入管理后台" in page.text
    assert browser.get(link).status_code == 200  # looking at it does not use it up
    r = browser.post(link)
    assert r.status_code == 303 and r.headers["location"] == "/console/"
    (row,) = _sessions(session_factory)
    assert (row.person_id, row.method) == (org.secretary_id, "link")
    # Used: a clear page that says what to do.
    with httpx.Client(trust_env=False) as other:
        for r in (other.get(link), other.post(link)):
            assert r.status_code == 410 and "再发送一次“登录后台”" in r.text
    # WeCom too; and five minutes is the limit.
    bot.sb.deliver_wecom("WangShuJi", "登录后台")
    bot.drain()
    (reply,) = [m for m in bot.sb.outbox(platform="wecom") if "WangShuJi" in m["to"]]
    link = LINK.search(reply["text"])[1]
    bot.clock.sleep(5 * 60 + 1)
    with httpx.Client(trust_env=False) as other:
        assert other.get(link).status_code == 410
        assert other.post(link).status_code == 410
    assert len(_sessions(session_factory)) == 1


def test_chat_command_in_a_group_answers_privately_and_refuses_members(bot, org):
    group = f"cidBranch{org.branch_id:04d}=="
    bot.sb.push_dingtalk_message("wangshuji", "登录后台", conversation=group)
    bot.sb.push_dingtalk_message("member0", "登录后台")
    bot.drain()
    out = bot.sb.outbox(platform="dingtalk")
    in_group = [m for m in out if m.get("conversation") == group]
    assert [m["text"] for m in in_group] == ["涉及个人信息，已单独发给您，请在与我的单聊中查看。"]
    private = [m for m in out if m.get("conversation") is None and "wangshuji" in m["to"]]
    assert len(private) == 1 and LINK.search(private[0]["text"])
    (member,) = [m for m in out if m.get("conversation") is None and "member0" in m["to"]]
    assert "不需要登录" in member["text"] and not LINK.search(member["text"])


def test_idle_and_absolute_expiry_on_the_injected_clock(bot, browser, session_factory):
    assert _scan(browser, bot, "dingtalk", "wangshuji").status_code == 303
    bot.clock.sleep(29 * 60)
    assert _logged_in(browser)  # and seen: the idle time starts again
    bot.clock.sleep(29 * 60)
    assert _logged_in(browser)
    bot.clock.sleep(31 * 60)
    assert not _logged_in(browser)  # idle for 31 minutes
    assert _scan(browser, bot, "wecom", "WangShuJi").status_code == 303
    for _ in range(12 * 60 // 25):  # busy all day, never idle
        bot.clock.sleep(25 * 60)
        assert _logged_in(browser)
    bot.clock.sleep(25 * 60)  # past 12 hours since logging in
    assert not _logged_in(browser)


def test_an_ended_role_closes_the_console_at_the_next_request(bot, browser, session_factory):
    assert _scan(browser, bot, "dingtalk", "wangshuji").status_code == 303
    assert _logged_in(browser)
    with unit_of_work(session_factory) as s:
        (row,) = _sessions(session_factory)
        s.execute(delete(RoleAssignment).where(RoleAssignment.person_id == row.person_id))
    assert not _logged_in(browser)  # the session row lives on; the scope it opened does not


def test_logout_needs_the_csrf_token_and_revokes(bot, browser, session_factory):
    r = _scan(browser, bot, "dingtalk", "wangshuji")
    cookie = r.cookies[COOKIE]
    assert browser.post("/console/logout").status_code == 403
    assert browser.post("/console/logout", data={"csrf_token": "x" * 43}).status_code == 403
    assert _sessions(session_factory)[0].revoked_at is None
    r = browser.post("/console/logout", data={"csrf_token": _csrf(bot, cookie)})
    assert r.status_code == 303 and r.headers["location"] == "/console/login?out=1"
    assert f'{COOKIE}=""' in r.headers["set-cookie"] or "Max-Age=0" in r.headers["set-cookie"]
    (row,) = _sessions(session_factory)
    assert row.revoked_at is not None
    # The old cookie is worth nothing now, whoever still holds it.
    with httpx.Client(base_url=bot.url, trust_env=False, cookies={COOKIE: cookie}) as stolen:
        assert not _logged_in(stolen)
        assert stolen.post("/console/logout", headers={"X-CSRF-Token": _csrf(bot, cookie)}).status_code == 401


def test_a_form_from_a_page_left_open_too_long_is_a_chinese_page(bot, browser):
    """A browser posting a console form without a valid token (the page outlived its session) reads a
    Chinese page saying so; htmx and scripts keep the JSON answer."""
    _scan(browser, bot, "dingtalk", "wangshuji")
    page = browser.post("/console/logout", data={"csrf_token": "x" * 43}, headers={"Accept": "text/html"})
    assert page.status_code == 403 and page.headers["content-type"].startswith("text/html")
    assert (
        "页面已过期，请刷新后再试。" in page.text and "操作未完成" in page.text and "detail" not in page.text
    )
    htmx = browser.post("/console/logout", headers={"Accept": "text/html", "HX-Request": "true"})
    assert htmx.status_code == 403 and htmx.json() == {"detail": "页面已过期，请刷新后再试。"}
    assert browser.post("/console/logout").json() == {"detail": "页面已过期，请刷新后再试。"}


def test_failed_attempts_are_rate_limited(bot, browser, session_factory):
    for _ in range(auth.THROTTLE_LIMIT):
        assert browser.get("/console/login/dingtalk?authCode=x&state=1z00").status_code == 400
    r = browser.get("/console/login/dingtalk?authCode=x&state=1z00")
    assert r.status_code == 429 and "登录失败次数过多" in r.text
    # A good login from the same client waits too, and so does a login link.
    assert _scan(browser, bot, "dingtalk", "wangshuji").status_code == 429
    assert browser.post("/console/login/link/whatever").status_code == 429
    assert _sessions(session_factory) == []
    bot.clock.sleep(auth.THROTTLE_WINDOW.total_seconds())
    assert _scan(browser, bot, "dingtalk", "wangshuji").status_code == 303


def test_throttle_counts_per_key_in_a_sliding_window():
    throttle = auth.LoginThrottle(limit=3, window=timedelta(minutes=10))
    for minute in range(3):
        assert not throttle.blocked("account:dingtalk:a", T0 + timedelta(minutes=minute))
        throttle.fail("account:dingtalk:a", now=T0 + timedelta(minutes=minute))
    assert throttle.blocked("account:dingtalk:a", T0 + timedelta(minutes=3))
    assert not throttle.blocked("account:dingtalk:b", T0 + timedelta(minutes=3))
    assert not throttle.blocked("account:dingtalk:a", T0 + timedelta(minutes=10, seconds=1))


@pytest.mark.parametrize(
    ("path", "change"),
    [
        ("/oauth2/auth", {"client_id": "someone-else"}),
        ("/oauth2/auth", {"prompt": "none"}),
        ("/wwlogin/sso/login", {"agentid": "999"}),
        ("/wwlogin/sso/login", {"login_type": "ServiceApp"}),
        ("/wwlogin/sso/login", {"redirect_uri": "http://127.0.0.1:1/console/login/wecom"}),
    ],
)
def test_the_sandbox_login_pages_check_what_the_real_ones_do(bot, browser, path, change):
    platform = "dingtalk" if path == "/oauth2/auth" else "wecom"
    page = httpx.URL(browser.get(f"/console/login/{platform}/start").headers["location"])
    assert page.path == path
    user = "wangshuji" if platform == "dingtalk" else "WangShuJi"
    with httpx.Client(trust_env=False) as plain:
        assert plain.get(page.copy_merge_params({"sandbox_user": user})).status_code == 302
        assert plain.get(page.copy_merge_params({**change, "sandbox_user": user})).status_code == 400


def test_the_login_page_offers_both_platforms_and_the_chat_command(browser):
    r = browser.get("/console/login")
    assert r.status_code == 200
    assert "钉钉扫码登录" in r.text and "企业微信扫码登录" in r.text and "登录后台" in r.text


def test_on_https_the_session_cookie_is_secure_and_the_page_says_when_no_platform_is_on(org, session_factory):
    core = CoreConfig(tz=ZoneInfo("Asia/Shanghai"), public_base_url="https://zhibu.example.cn",
                      secret_key="a-test-secret-key-long-enough")  # fmt: skip
    app = create_app(session_factory, clock=lambda: T0, core=core)
    with unit_of_work(session_factory) as s:
        token = issue_ticket(s, org.secretary_id, now=T0, cfg=ConsoleConfig())
    with TestClient(app, base_url="https://zhibu.example.cn", follow_redirects=False) as client:
        page = client.get("/console/login")
        assert "还没有接入钉钉或企业微信" in page.text and "钉钉扫码登录" not in page.text
        r = client.post(f"/console/login/link/{token}")
        assert r.status_code == 303
        assert "Secure" in r.headers["set-cookie"] and "HttpOnly" in r.headers["set-cookie"]


def test_the_dingtalk_page_checks_the_registered_redirect_url(bot, browser):
    fixture = bot.sb.fixture()
    page = httpx.URL(browser.get("/console/login/dingtalk/start").headers["location"])
    pick = page.copy_merge_params({"sandbox_user": "wangshuji"})
    with httpx.Client(trust_env=False) as plain:
        fixture["dingtalk"]["app"]["redirect_hosts"] = ["zhibu.example.cn"]
        bot.sb.load_fixture(fixture)
        refused = plain.get(pick)
        assert refused.status_code == 400 and "重定向 URL" in refused.text
        fixture["dingtalk"]["app"]["redirect_hosts"] = [httpx.URL(bot.url).netloc.decode()]
        bot.sb.load_fixture(fixture)
        assert plain.get(pick).status_code == 302


def test_the_session_rules_come_from_the_settings(org, session_factory):
    settings = Settings(console={"idle_minutes": 10, "lifetime_hours": 2, "link_minutes": 3})
    cfg = console_config(CoreConfig.from_settings(settings))
    assert (cfg.idle, cfg.lifetime, cfg.ticket_valid) == (
        timedelta(minutes=10),
        timedelta(hours=2),
        timedelta(minutes=3),
    )
    now = [T0]
    app = create_app(session_factory, clock=lambda: now[0], core=CoreConfig.from_settings(settings))
    with unit_of_work(session_factory) as s:
        token = issue_ticket(s, org.secretary_id, now=T0, cfg=cfg)
    with TestClient(app, follow_redirects=False) as client:
        assert client.post(f"/console/login/link/{token}").status_code == 303
        assert client.get("/console/").status_code == 200
        now[0] = T0 + timedelta(minutes=11)  # idle past the configured 10 minutes, not the default 30
        assert client.get("/console/").status_code == 303


def test_the_uploads_directory_comes_from_the_environment(monkeypatch, tmp_path):
    """ZHIBU_CONSOLE__UPLOADS, as docker-compose.yml sets it for every web replica; unset, the temp dir."""
    monkeypatch.setenv("ZHIBU_CONSOLE__UPLOADS", str(tmp_path / "shared"))
    assert console_config(CoreConfig.from_settings(Settings())).uploads == tmp_path / "shared"
    monkeypatch.delenv("ZHIBU_CONSOLE__UPLOADS")
    assert console_config(CoreConfig.from_settings(Settings())).uploads == ConsoleConfig().uploads
