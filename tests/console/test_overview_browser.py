"""总览 in headless Chromium at 1366×768: each role logs in (a console session's cookie), opens the
overview, switches the month (htmx swaps the content, the address follows), expands a committee's
row in place, and drills down committee → branch → meeting. Screenshots go to the test's tmp dir
(ZHIBU_CONSOLE_SHOTS=<dir> keeps them somewhere to look at).

The app runs in uvicorn on loopback with the injected clock; SQLite only (the pages' SQL is tested
on both databases in test_overview.py).
"""

from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path

import pytest
import uvicorn

from bot.web.console.deps import COOKIE
from handlers.console.sessions import ConsoleConfig, open_session
from models.base import Base
from models.db import make_engine, make_sessionmaker, unit_of_work
from tests.console.test_overview import NOW, build_org, console_app
from tests.journeys.driver import ARGS, CHROMIUM

pytestmark = [
    pytest.mark.browser,
    pytest.mark.timeout(300),
    pytest.mark.skipif(
        not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} is missing (apt-get install chromium)"
    ),
]
VIEWPORT = {"width": 1366, "height": 768}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """(base URL, session factory, org) with the console served by uvicorn in a thread."""
    path = tmp_path_factory.mktemp("console") / "console.db"
    engine = make_engine(f"sqlite:///{path}")
    Base.metadata.create_all(engine)
    factory = make_sessionmaker(engine)
    with unit_of_work(factory) as session:
        org = build_org(session)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(console_app(factory), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", factory, org
    server.should_exit = True
    thread.join(10)
    engine.dispose()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def shots(tmp_path) -> Path:
    out = Path(os.environ.get("ZHIBU_CONSOLE_SHOTS") or tmp_path)
    out.mkdir(parents=True, exist_ok=True)
    return out


def open_as(browser, site, person_id: int):
    base, factory, _ = site
    with unit_of_work(factory) as session:
        token = open_session(session, person_id, "test", now=NOW, cfg=ConsoleConfig())
    context = browser.new_context(viewport=VIEWPORT, locale="zh-CN")
    context.add_cookies([{"name": COOKIE, "value": token, "url": base}])
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{base}/console/")
    return page, errors


def chart_drawn(page) -> bool:
    return page.evaluate(
        "() => { const el = document.getElementById('trend'); return !!(el && window.echarts"
        " && echarts.getInstanceByDom(el) && el.querySelector('canvas')); }"
    )


def test_org_department_switches_month_expands_and_drills_down(browser, site, shots):
    base, _, org = site
    page, errors = open_as(browser, site, org.id("staff"))
    assert "总览 · 2026年12月" in page.locator("h1").inner_text()
    page.wait_for_function("() => !!document.querySelector('#trend canvas')")
    assert chart_drawn(page)
    page.screenshot(path=str(shots / "overview-staff-december.png"))

    # The month switch swaps the content in place and the address follows.
    page.select_option("select[name=month]", "2026-11")
    page.wait_for_function("() => document.querySelector('h1').innerText.includes('2026年11月')")
    assert page.url.endswith("month=2026-11")
    assert "月积分已于月初发布" in page.content()
    page.wait_for_function("() => !!document.querySelector('#trend canvas')")
    # Lagging units first, then the lowest score: 河西乡党委 (b4 held nothing) before 城关镇党委.
    assert "河西乡党委" in page.locator("#list tbody tr").first.inner_text()

    # Expanding 城关镇党委's row lists its branches under it, without leaving the page.
    row = page.locator("#list tbody tr", has_text="城关镇党委")
    row.locator("button.expand").click()
    page.locator("#list tr.nested", has_text="城关社区党支部").wait_for()
    assert page.locator("#list tr.nested").count() == 2
    page.screenshot(path=str(shots / "overview-staff-november-expanded.png"), full_page=True)

    # Committee → branch → meeting.
    page.locator("#list a", has_text="城关镇党委").first.click()
    page.wait_for_url("**/console/units/*")
    assert "城关镇党委 · 2026年11月" in page.locator("h1").inner_text()
    page.screenshot(path=str(shots / "unit-committee.png"))
    page.locator("#list a", has_text="城关社区党支部").click()
    page.locator("h1", has_text="城关社区党支部").wait_for()
    assert "学习记录不完整" in page.content()  # its open 整改
    page.screenshot(path=str(shots / "unit-branch.png"), full_page=True)
    page.locator("#list a", has_text="会议").first.click()
    page.locator("h2", has_text="签到名单").wait_for()
    text = page.content()
    assert "党员1甲" in text and "缺席" in text and "会议记录" in text
    page.screenshot(path=str(shots / "meeting.png"), full_page=True)
    assert not errors, errors


@pytest.mark.parametrize(
    "who, sees, hidden",
    [
        ("c1sec", "城关镇党委", "河西乡党委"),
        ("sec3", "河西村党支部", "城关社区党支部"),
        ("observer", "城关社区党支部", "河西村党支部"),
    ],
)
def test_each_role_sees_its_scope(browser, site, shots, who, sees, hidden):
    _, _, org = site
    person = org.observer.id if who == "observer" else org.id(who)
    page, errors = open_as(browser, site, person)
    page.wait_for_function("() => !!document.querySelector('#trend canvas')")
    table = page.locator("#list").inner_text()
    assert sees in table and hidden not in table
    if who == "observer":
        assert "只读" in page.content()
    # The layout fits 1366 px: nothing wider than the window.
    assert page.evaluate("() => document.documentElement.scrollWidth") <= VIEWPORT["width"]
    page.screenshot(path=str(shots / f"overview-{who}.png"))
    assert not errors, errors
