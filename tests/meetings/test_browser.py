"""The sign-in and projector pages in headless Chromium, against the running bot and the sandbox.

The sandbox's dd shim plays DingTalk's JSAPI and its OAuth page plays WeCom's; the browser is told who
it is by the sandbox's cookies, exactly as the sandbox chat page does it.
"""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import timedelta
from io import BytesIO
from urllib.parse import urlsplit

import httpx
import pytest
import zxingcpp
from PIL import Image
from sqlalchemy import select

from bot.web.meetings import build_meetings_router
from handlers.meetings import meetings as meetings_uc
from handlers.meetings import signin as signin_uc
from handlers.meetings.types import DEFAULT_CONFIG
from models.meetings import Attendance
from models.org import Person
from tests.core.e2e import running_bot
from tests.meetings.test_e2e import DING_UA, T0, WECOM_UA, _arrange

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]  # fmt: skip
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} is missing (apt-get install chromium)"
    ),
]
CFG = replace(DEFAULT_CONFIG, qr_refresh_seconds=1)


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield b
        finally:
            b.close()


def _page(browser, ua: str, cookies: dict[str, str]):
    ctx = browser.new_context(user_agent=ua)
    ctx.add_cookies([{"name": k, "value": v, "domain": "127.0.0.1", "path": "/"} for k, v in cookies.items()])
    page = ctx.new_page()
    page.set_default_timeout(15_000)
    return page


def _outcome(page) -> tuple[str, str]:
    page.wait_for_selector("#box[data-outcome]:not([data-outcome=''])")
    return page.get_attribute("#box", "data-outcome"), page.text_content("#title")


def test_signin_and_projector_pages_in_chromium(session_factory, database_url, browser):
    org = _arrange(session_factory)
    with running_bot(session_factory, database_url, clock_start=T0) as bot:
        core = bot.service.dispatcher.config
        app = bot.service.app
        bot.service.app.include_router(
            build_meetings_router(
                session_factory, bot.service.platforms.identities, core, cfg=CFG, clock=bot.clock.now,
                dingtalk_jsapi_url=bot.sb.url + "/_sandbox/dd-shim.js",
            )
        )  # fmt: skip
        app.router.routes.insert(0, app.router.routes.pop())  # first match wins over the app factory's
        with session_factory() as s, s.begin():
            secretary = s.get(Person, org.secretary.id)
            m = meetings_uc.schedule_meeting(
                s, secretary, types=["党员大会"], starts_at=T0 + timedelta(minutes=10), place="会议室",
                topic="学习党章", now=T0, cfg=CFG,
            )  # fmt: skip
        link = signin_uc.signin_url(bot.url, m.id, signin_uc.chat_token(core.secret_key, m, T0, CFG))
        # DingTalk: the page asks the (shimmed) JSAPI for an auth code, the server exchanges it.
        ding = _page(browser, DING_UA, {"sandbox_dingtalk_user": "chengang"})
        ding.goto(link)
        assert _outcome(ding) == ("ok", "签到成功")
        assert "陈刚" in ding.text_content("#message")
        ding.goto(link)  # a second scan: the session cookie is reused, nothing is added
        assert _outcome(ding) == ("already", "您已签到")
        ding.goto(link[:-3] + "AAA")
        assert _outcome(ding)[0] == "forged"
        # WeCom: the page goes through the OAuth authorize page and comes back with ?code=.
        wecom = _page(browser, WECOM_UA, {"sandbox_wecom_user": "LiuFang"})
        wecom.goto(link)
        assert _outcome(wecom) == ("ok", "签到成功")
        assert "code=" in wecom.url
        # An ordinary browser is told to open the page in the app.
        plain = _page(browser, "Mozilla/5.0 (X11; Linux x86_64) Chrome/120", {})
        plain.goto(link)
        assert _outcome(plain) == ("identity", "请在钉钉或企业微信中打开")
        with session_factory() as s:
            assert set(s.scalars(select(Attendance.person_id))) == {org.bob.id, org.carol.id}
        # The projector shows a QR that decodes to a working link and refreshes it.
        proj = _page(browser, "Mozilla/5.0 Chrome/120", {})
        proj.goto(signin_uc.projector_url(bot.url, core.secret_key, m, CFG))
        proj.wait_for_function("document.getElementById('qr').src.includes('qr.png')")
        assert "已签到 2 / 应到 6" in proj.text_content("#count")
        first = proj.get_attribute("#qr", "src")
        png = httpx.get(first if first.startswith("http") else bot.url + first, trust_env=False).content
        (decoded,) = zxingcpp.read_barcodes(Image.open(BytesIO(png)))
        assert decoded.text == proj.get_attribute("#qr", "data-url")
        assert urlsplit(decoded.text).path == f"/h5/meetings/{m.id}/signin"
        bot.clock.sleep(5)
        proj.wait_for_function(f"document.getElementById('qr').getAttribute('src') !== {first!r}")
        screenshot = proj.screenshot()
        assert zxingcpp.read_barcodes(Image.open(BytesIO(screenshot)))  # readable from the screen itself
