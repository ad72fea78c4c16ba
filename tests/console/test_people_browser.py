"""组织与党员 and 审计日志 in headless Chromium at 1366×768: 陈志国 (城关镇党委书记) finds 李小红, is told
next to the field what is wrong with a phone, saves the fix, and finds the change in the audit log; then
uploads a roster with errors (listed by row, nothing written) and a good one (previewed, then applied).
Screenshots go to $ZHIBU_CONSOLE_SHOTS (a directory) when it is set, else to the test's tmp directory."""

from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path

import pytest
import uvicorn
from sqlalchemy import func, select

from bot.web.console.deps import COOKIE
from handlers.roster import texts as T
from handlers.roster.fileio import write_roster
from models.audit import AuditEntry
from models.db import unit_of_work
from models.org import Person
from tests.console.people_world import build_world, console_app, login_token
from tests.journeys.driver import ARGS, CHROMIUM, DESKTOP_UA

pytestmark = [
    pytest.mark.browser,
    pytest.mark.timeout(300),
    pytest.mark.skipif(
        not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} is missing (apt-get install chromium)"
    ),
]
WAIT_MS = 15_000


class Served:
    """The console app on a loopback port, in a thread of this process."""

    def __init__(self, app) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    def __enter__(self) -> Served:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the console did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(10)


def row(**cells) -> dict:
    out = dict.fromkeys(T.HEADERS, "")
    out.update({T.STATUS: "正式", T.FEE_CATEGORY: "在职"})
    out.update(cells)
    return out


def test_edit_a_person_see_it_logged_and_upload_rosters(session_factory, session, tmp_path, monkeypatch):
    from playwright.sync_api import expect, sync_playwright

    shots = Path(os.environ.get("ZHIBU_CONSOLE_SHOTS") or tmp_path / "shots")
    shots.mkdir(parents=True, exist_ok=True)
    with unit_of_work(session_factory) as s:
        world = build_world(s)
    token = login_token(session_factory, world.people["chen"])
    bad = tmp_path / "花名册（有错）.xlsx"
    write_roster(bad, [
        row(**{T.COMMITTEE: "城关镇党委", T.BRANCH: "东风村党支部", T.NAME: "赵新", T.PHONE: "137000"}),
        row(**{T.COMMITTEE: "城关镇党委", T.BRANCH: "东风村党支部", T.NAME: "钱进", T.PHONE: "13700000002",
               T.ROLES: "党小组组长"}),
    ])  # fmt: skip
    good = tmp_path / "花名册.xlsx"
    write_roster(good, [
        row(**{T.COMMITTEE: "城关镇党委", T.BRANCH: "东风村党支部", T.GROUP: "第一党小组", T.NAME: "赵新",
               T.PHONE: "13700000001", T.ROLES: "宣传委员"}),
        row(**{T.COMMITTEE: "城关镇党委", T.BRANCH: "幸福社区党支部", T.NAME: "张三", T.PHONE: "13900000005"}),
    ])  # fmt: skip

    def people_count() -> int:
        session.expire_all()
        return session.scalar(select(func.count()).select_from(Person))

    with (
        Served(console_app(session_factory, uploads=tmp_path / "uploads")) as served,
        sync_playwright() as pw,
    ):
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            context = browser.new_context(
                user_agent=DESKTOP_UA, viewport={"width": 1366, "height": 768}, locale="zh-CN"
            )
            context.add_cookies([{"name": COOKIE, "value": token, "url": served.url}])
            page = context.new_page()
            page.set_default_timeout(WAIT_MS)

            page.goto(f"{served.url}/console/people")
            expect(page.locator("h1")).to_have_text("组织与党员")
            page.screenshot(path=str(shots / "people.png"))
            page.fill("input[name=q]", "小红")  # htmx searches as one types
            expect(page.locator("#results tbody tr")).to_have_count(1)
            page.click("#results a:text('李小红')")
            expect(page.locator("#person h1")).to_contain_text("李小红")
            page.screenshot(path=str(shots / "person.png"))

            page.fill("#f-name", "李晓红")
            page.fill("#f-phone", "1390000")
            page.click("#edit-person button[type=submit]")
            error = page.locator("#f-phone + .field-error")
            expect(error).to_contain_text("不是有效的手机号")
            page.screenshot(path=str(shots / "person-error.png"))
            session.expire_all()
            assert session.get(Person, world.people["li"]).name == "李小红"  # all or nothing

            page.fill("#f-phone", "139-0000-0044")
            page.click("#edit-person button[type=submit]")
            expect(page.locator("#person .notice")).to_have_text("已保存。")
            expect(page.locator("#person h1")).to_contain_text("李晓红")

            page.click("text=查看李晓红的修改记录")
            first = page.locator("#entries tbody tr").first
            expect(first).to_contain_text("陈志国")
            expect(first).to_contain_text("管理后台")
            expect(first).to_contain_text("李小红 → 李晓红")
            expect(first).to_contain_text("13900000004 → 13900000044")
            page.screenshot(path=str(shots / "audit.png"))

            before = (people_count(), session.scalar(select(func.count()).select_from(AuditEntry)))
            page.goto(f"{served.url}/console/people")
            page.click("text=上传花名册")
            page.set_input_files("input[type=file]", str(bad))
            page.click("button:text('检查并预览')")
            expect(page.locator(".errors")).to_contain_text("没有导入任何内容")
            expect(page.locator("ol.issues li")).to_have_count(2)
            expect(page.locator("ol.issues")).to_contain_text("第2行「手机号」")
            expect(page.locator("ol.issues")).to_contain_text("第3行「职务」")
            page.screenshot(path=str(shots / "roster-errors.png"), full_page=True)
            session.expire_all()
            assert (people_count(), session.scalar(select(func.count()).select_from(AuditEntry))) == before

            page.set_input_files("input[type=file]", str(good))
            page.click("button:text('检查并预览')")
            expect(page.locator("text=确认导入").last).to_be_visible()
            expect(page.locator("table")).to_contain_text("新增党员")
            expect(page.locator("table")).to_contain_text("赵新")
            page.screenshot(path=str(shots / "roster-preview.png"), full_page=True)
            assert people_count() == before[0]  # the preview wrote nothing

            page.click("button:text('确认导入')")
            expect(page.locator(".notice")).to_contain_text("已导入")
            page.screenshot(path=str(shots / "roster-applied.png"))
            assert people_count() == before[0] + 1
            session.expire_all()
            assert session.get(Person, world.people["zhang"]).status.value == "full"
        finally:
            browser.close()
