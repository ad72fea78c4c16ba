"""台账 in headless Chromium at 1366×768: a committee secretary opens 台账 from the nav, picks a branch,
opens its 组织生活纪实台账, switches the period, downloads the .docx and the .xlsx (read back here), then
the committee's 党费台账 and 月积分台账. Screenshots go to the test's tmp dir (ZHIBU_CONSOLE_SHOTS=<dir>
keeps them). SQLite only: the pages' SQL runs on both databases in the other ledger tests."""

from __future__ import annotations

import io
import os

import pytest
from docx import Document
from openpyxl import load_workbook

from bot.core.context import CoreConfig
from handlers.ledgers import exports
from models.base import Base
from models.db import make_engine, make_sessionmaker, unit_of_work
from tests.console.test_overview import NOW, SECRET, TZ, console_app
from tests.console.test_overview_browser import VIEWPORT, browser, free_port, open_as, shots  # noqa: F401
from tests.journeys.driver import CHROMIUM
from tests.ledgers.world import build_ledger_org

pytestmark = [
    pytest.mark.browser,
    pytest.mark.timeout(300),
    pytest.mark.skipif(
        not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} is missing (apt-get install chromium)"
    ),
]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    import threading
    import time

    import uvicorn

    path = tmp_path_factory.mktemp("ledgers") / "ledgers.db"
    engine = make_engine(f"sqlite:///{path}")
    Base.metadata.create_all(engine)
    factory = make_sessionmaker(engine)
    with unit_of_work(factory) as session:
        lorg = build_ledger_org(session)
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
    yield f"http://127.0.0.1:{port}", factory, lorg
    server.should_exit = True
    thread.join(10)
    engine.dispose()


def test_a_committee_secretary_opens_and_downloads_the_ledgers(browser, site, shots):  # noqa: F811
    _, _, lorg = site
    page, errors = open_as(browser, site, lorg.id("c1sec"))
    page.locator("header nav a", has_text="台账").click()
    page.wait_for_url("**/console/ledgers")
    page.locator(".units a", has_text="城关镇党委").click()
    page.locator("h1", has_text="城关镇党委 台账").wait_for()
    page.locator(".units a", has_text="城关社区党支部").click()
    page.locator("h1", has_text="城关社区党支部 台账").wait_for()
    page.screenshot(path=str(shots / "ledgers-branch-hub.png"))
    page.locator("#ledger-meetings a", has_text="查看").click()
    page.locator("h1", has_text="组织生活纪实台账").wait_for()
    assert "十月支部党员大会" in page.content()
    # The period switch: the fourth quarter only.
    page.select_option("select[name=period]", "2026-Q4")
    page.wait_for_url("**period=2026-Q4")
    assert page.locator(".month h2").count() == 3
    assert page.evaluate("() => document.documentElement.scrollWidth") <= VIEWPORT["width"] + 400
    page.screenshot(path=str(shots / "ledgers-meetings.png"), full_page=True)
    with page.expect_download() as info:
        page.locator("#download-docx").click()
    download = info.value
    assert download.suggested_filename == "城关社区党支部-组织生活纪实台账-2026年第4季度.docx"
    doc = Document(io.BytesIO(open(download.path(), "rb").read()))
    assert [p.text for p in doc.paragraphs if p.style.name == "Heading 1"] == [
        "2026年10月",
        "2026年11月",
        "2026年12月",
    ]
    assert len(doc.inline_shapes) == 1
    with page.expect_download() as info:
        page.locator("#download-xlsx").click()
    wb = load_workbook(io.BytesIO(open(info.value.path(), "rb").read()))
    assert "十月支部党员大会" in [r[3] for r in wb["会议"].iter_rows(min_row=3, values_only=True)]

    # The committee's 党费 roll-up, then its 月积分.
    page.locator(".crumbs a", has_text="城关镇党委").click()
    page.locator("#ledger-fees a", has_text="查看").click()
    page.locator("#rollup").wait_for()
    assert "城关社区党支部" in page.locator("#rollup").inner_text()
    page.screenshot(path=str(shots / "ledgers-fees-committee.png"), full_page=True)
    page.locator("#rollup a", has_text="城关社区党支部").click()
    page.locator("#members").wait_for()
    page.screenshot(path=str(shots / "ledgers-fees-branch.png"), full_page=True)
    page.go_back()
    page.locator(".crumbs a", has_text="城关镇党委").click()
    page.locator("#ledger-scores a", has_text="查看").click()
    page.locator("#escalations").wait_for()
    assert "河西" not in page.content()
    page.screenshot(path=str(shots / "ledgers-scores.png"), full_page=True)
    with page.expect_download() as info:
        page.locator("#download-xlsx").click()
    assert load_workbook(io.BytesIO(open(info.value.path(), "rb").read())).sheetnames == [
        "月积分",
        "提醒约谈",
    ]
    assert not errors, errors


def test_a_committee_secretary_opens_and_prints_the_observers_ledger(browser, site, shots):  # noqa: F811
    base, factory, lorg = site
    page, errors = open_as(browser, site, lorg.id("c1sec"))
    page.goto(f"{base}/console/ledgers/{lorg.org.county.c1.id}?period=2026-H2")
    page.locator("#ledger-observers a", has_text="查看").click()
    page.locator("h1", has_text="观察员台账").wait_for()
    assert page.locator("#observations tr[data-observation]").count() == 2  # 老周 in October and November
    assert "未安排观察员" in page.locator("table.coverage").inner_text()  # 东门社区党支部
    assert page.evaluate("() => document.documentElement.scrollWidth") <= VIEWPORT["width"] + 400
    page.screenshot(path=str(shots / "ledgers-observers.png"), full_page=True)
    # The committee's Word file is built in the background: 生成台账（Word）, the worker, then 下载.
    assert page.locator("#download-docx").count() == 0
    page.locator("#export-observers-docx").click()
    row = page.locator("#exports-observers .export").first
    row.locator(".state", has_text="排队中").wait_for()
    assert "观察员台账（Word）" in row.inner_text()
    worker = exports.ExportWorker(
        factory, CoreConfig(tz=TZ, public_base_url="http://testserver", secret_key=SECRET), clock=lambda: NOW
    )  # the product's worker on the page's clock, as test_exports_browser.py runs it
    worker.start()
    try:
        row.locator("a.download", has_text="下载").wait_for()
        assert "Word 文件" in row.inner_text()
        with page.expect_download() as info:
            row.locator("a.download").click()
    finally:
        worker.stop()
    assert info.value.suggested_filename == "城关镇党委-观察员台账-2026年下半年.docx"
    doc = Document(io.BytesIO(open(info.value.path(), "rb").read()))
    assert [p.text for p in doc.paragraphs if p.style.name == "Heading 1"] == [
        "观察员：观察员老周",
        "支部列席覆盖情况",
    ]
    assert not errors, errors
