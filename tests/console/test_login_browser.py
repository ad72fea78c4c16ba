"""Headless Chromium logs in to the console by each of the three ways, on DingTalk and on WeCom, against
the demo organisation: the platform's login page (the sandbox's), the chat command 登录后台 typed in the
sandbox's chat page and its link opened, and a member turned away. Screenshots of the login pages go to
$ZHIBU_CONSOLE_SHOTS (a directory) when it is set."""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.cli.serve import DEMO_HISTORY_MONTHS
from config import demo as demo_ids
from config import use_settings
from models.db import make_engine, make_sessionmaker, unit_of_work
from models.seed import seed
from tests.core import e2e
from tests.journeys.conftest import Demo
from tests.journeys.driver import ARGS, CHROMIUM, DESKTOP_UA, WAIT_MS

T0 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
SHOTS = os.environ.get("ZHIBU_CONSOLE_SHOTS")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.timeout(600),
    pytest.mark.skipif(
        not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} is missing (apt-get install chromium)"
    ),
]

# account → (name, the scope title the header shows)
ORG_STAFF = ("zhaomin01", "赵敏", "组织部")
BRANCH_SECRETARY = ("wangjianguo01", "王建国", "东风村党支部 书记")
MEMBER = ("lixiaohong01", "李小红")


@pytest.fixture(scope="module", params=["dingtalk", "wecom"])
def demo(request, tmp_path_factory, _sqlite_migrated_template):
    from playwright.sync_api import sync_playwright

    platform = request.param
    path = tmp_path_factory.mktemp("console-login") / "demo.db"
    shutil.copyfile(_sqlite_migrated_template, path)
    database_url = f"sqlite:///{path}"
    engine = make_engine(database_url)
    session_factory = make_sessionmaker(engine)
    today = T0.astimezone(ZoneInfo("Asia/Shanghai")).date()
    with unit_of_work(session_factory) as s:
        seed(s, "demo", dingtalk_corp_id=demo_ids.DINGTALK_CORP_ID, wecom_corp_id=demo_ids.WECOM_CORP_ID,
             seed=2026, months=DEMO_HISTORY_MONTHS, today=today, now=T0)  # fmt: skip
    try:
        with (
            e2e.running_bot(session_factory, database_url, clock_start=T0) as bot,
            sync_playwright() as pw,
        ):
            use_settings(bot.service.settings)  # the chat command's link names this bot
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            try:
                yield Demo(bot, browser, platform, session_factory)
            finally:
                browser.close()
    finally:
        use_settings(None)
        engine.dispose()


def _desk(demo: Demo):
    """A desktop browser at 1366×768, the console's target screen."""
    context = demo.browser.new_context(
        user_agent=DESKTOP_UA, viewport={"width": 1366, "height": 768}, locale="zh-CN"
    )
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    return context, page


def _shot(page, demo: Demo, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}-{demo.platform}.png"))


def _scan(demo: Demo, page, account: str, name: str) -> None:
    """On the console's login page, the platform's button; on the platform's page, the person."""
    page.goto(f"{demo.bot.url}/console/login")
    label = "钉钉扫码登录" if demo.platform == "dingtalk" else "企业微信扫码登录"
    page.get_by_role("link", name=label).click()
    page.locator("ul.people").wait_for()
    assert page.url.startswith(demo.bot.sb.url)
    page.locator(f'ul.people a[data-userid="{account}"]').click()
    page.wait_for_load_state()


def test_scan_to_login_lands_on_the_console(demo: Demo):
    account, name, title = ORG_STAFF
    context, page = _desk(demo)
    try:
        page.goto(f"{demo.bot.url}/console/")  # not logged in: the login page, asking to come back
        assert "/console/login" in page.url
        page.get_by_role("link", name="钉钉扫码登录").wait_for()
        _shot(page, demo, "console-login")
        label = "钉钉扫码登录" if demo.platform == "dingtalk" else "企业微信扫码登录"
        page.get_by_role("link", name=label).click()
        page.locator("ul.people").wait_for()
        page.fill("#filter", name)  # the corp's people, found by name
        assert page.locator("ul.people li:visible").count() == 1
        _shot(page, demo, "console-login-platform")
        page.locator(f'ul.people a[data-userid="{account}"]').click()
        page.wait_for_url(f"{demo.bot.url}/console/")
        who = page.locator("header.top .who")
        assert name in who.inner_text() and title in who.inner_text()
        # 退出 ends it: the console asks to log in again.
        page.get_by_role("button", name="退出").click()
        page.wait_for_url("**/console/login?out=1")
        assert "您已退出管理后台" in page.content()
        page.goto(f"{demo.bot.url}/console/")
        assert "/console/login" in page.url
    finally:
        context.close()


def test_chat_command_link_logs_in(demo: Demo):
    account, name, title = BRANCH_SECRETARY
    person = demo.person(account)
    try:
        answer = person.say("登录后台")
        assert "5 分钟" in answer
        page = person.open("进入管理后台")
        page.set_viewport_size({"width": 1366, "height": 768})
        assert "/console/login/link/" in page.url
        _shot(page, demo, "console-login-link")
        link = page.url
        page.get_by_role("button", name="进入管理后台").click()
        page.wait_for_url(f"{demo.bot.url}/console/")
        who = page.locator("header.top .who")
        assert name in who.inner_text() and title in who.inner_text()
        # The same link a second time: used up, and the page says what to do.
        page.goto(link)
        assert "登录链接已失效" in page.content() and "再发送一次“登录后台”" in page.content()
        _shot(page, demo, "console-login-link-used")
    finally:
        person.close()


def test_a_member_is_turned_away_politely(demo: Demo):
    account, name = MEMBER
    context, page = _desk(demo)
    try:
        _scan(demo, page, account, name)
        assert "管理后台仅供书记、党委和组织部使用" in page.content() and name in page.content()
        assert page.locator("header.top .who").count() == 0
        _shot(page, demo, "console-login-member")
        page.goto(f"{demo.bot.url}/console/")
        assert "/console/login" in page.url
    finally:
        context.close()
