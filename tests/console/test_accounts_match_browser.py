"""按手机号匹配账号 in headless Chromium at 1366×768: 赵敏 (组织部) presses the button on 组织与党员, reads
the dry run (matched, not in a directory, an account already someone else's, with the fixes), presses
应用 and finds the accounts on a newcomer's page. Screenshots go to $ZHIBU_CONSOLE_SHOTS (a directory)
when it is set, else to the test's tmp directory."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from fastapi import FastAPI

from bot.core.context import CoreConfig
from bot.platforms.dingtalk.api import DingTalkApi
from bot.platforms.dingtalk.identity import DingTalkIdentity
from bot.platforms.wecom.client import ZhibuWeComClient
from bot.platforms.wecom.identity import WeComIdentity
from bot.web.console import build_console
from bot.web.console.deps import COOKIE
from config import demo
from tests.console.people_world import DT, NOW, SECRET, TZ, WC, login_token
from tests.console.test_accounts_match import (  # noqa: F401 - the organisation with newcomers, the staging dir
    fixture,
    uploads,
    world,
)
from tests.console.test_people_browser import Served
from tests.journeys.driver import ARGS, CHROMIUM, DESKTOP_UA

pytestmark = [
    pytest.mark.browser,
    pytest.mark.timeout(300),
    pytest.mark.skipif(
        not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} is missing (apt-get install chromium)"
    ),
]
WAIT_MS = 15_000


def test_match_accounts_by_phone_in_the_browser(session_factory, world, tmp_path, uploads):  # noqa: F811
    from playwright.sync_api import expect, sync_playwright

    from sandbox.testing import running_sandbox

    shots = Path(os.environ.get("ZHIBU_CONSOLE_SHOTS") or tmp_path / "shots")
    shots.mkdir(parents=True, exist_ok=True)
    token = login_token(session_factory, world.people["zhao"])
    with running_sandbox(fixture()) as sb:
        api = DingTalkApi(
            demo.DINGTALK_CLIENT_ID,
            demo.DINGTALK_CLIENT_SECRET,
            openapi_endpoint=sb.url,
            oapi_endpoint=sb.url,
        )
        client = ZhibuWeComClient(
            WC, demo.WECOM_SECRET, api_base=sb.wecom_api_base, oauth_base=sb.wecom_oauth_base
        )
        identities = {
            "dingtalk": DingTalkIdentity(api, DT),
            "wecom": WeComIdentity(
                client, corp_id=WC, agent_id=demo.WECOM_AGENT_ID, oauth_base=sb.wecom_oauth_base
            ),
        }
        app = FastAPI()
        core = CoreConfig(tz=TZ, public_base_url="http://testserver", secret_key=SECRET)
        build_console(app, session_factory, identities, core, clock=lambda: NOW, cfg=uploads)
        with Served(app) as served, sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            try:
                context = browser.new_context(
                    user_agent=DESKTOP_UA, viewport={"width": 1366, "height": 768}, locale="zh-CN"
                )
                context.add_cookies([{"name": COOKIE, "value": token, "url": served.url}])
                page = context.new_page()
                page.set_default_timeout(WAIT_MS)
                page.goto(f"{served.url}/console/people")
                page.screenshot(path=str(shots / "people-match-button.png"))
                page.click("button:text('按手机号匹配账号')")
                expect(page.locator("h1")).to_have_text("按手机号匹配账号")
                expect(page.locator("h2.outcome.o-matched")).to_contain_text("钉钉 2 人")
                expect(page.locator("h2.outcome.o-taken")).to_contain_text("钉钉 1 人")
                expect(page.locator("#accounts")).to_contain_text("另一人：刘医生")
                page.screenshot(path=str(shots / "accounts-match.png"), full_page=True)
                page.click("button:text('应用')")
                expect(page.locator(".notice")).to_contain_text("已绑定 4 个账号")
                page.screenshot(path=str(shots / "accounts-applied.png"))
                page.goto(f"{served.url}/console/people?q=新党员甲")
                expect(page.locator("#results")).to_contain_text("钉钉：xinjia")
            finally:
                browser.close()
        api.close()
