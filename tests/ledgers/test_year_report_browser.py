"""年终通报 in headless Chromium at 1366×768: a committee secretary opens 年度工作 from the nav, then 年终通报,
downloads a branch's report (.docx) and the committee's roll-up (.xlsx), both read back here. SQLite only:
the SQL runs on both databases in tests/ledgers/test_year_report.py. Screenshots go to the test's tmp dir
(ZHIBU_CONSOLE_SHOTS=<dir> keeps them)."""

from __future__ import annotations

import io
import os
import re

import pytest
from docx import Document
from openpyxl import load_workbook

from models.base import Base
from models.db import make_engine, make_sessionmaker, unit_of_work
from tests.console.test_overview import console_app
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

    path = tmp_path_factory.mktemp("year_reports") / "year_reports.db"
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


def test_a_committee_secretary_downloads_the_reports(browser, site, shots):  # noqa: F811
    _, _, lorg = site
    page, errors = open_as(browser, site, lorg.id("c1sec"))
    page.locator("header nav a", has_text="年度工作").click()
    page.wait_for_url("**/console/year")
    page.locator(".card a", has_text="年终通报").click()
    page.locator("h1", has_text="年终通报（2026年）").wait_for()
    assert page.locator("#reports tbody tr").count() == 2  # 城关社区, 东门社区
    assert page.evaluate("() => document.documentElement.scrollWidth") <= VIEWPORT["width"]
    page.screenshot(path=str(shots / "year-reports.png"), full_page=True)
    with page.expect_download() as info:
        page.locator("#reports tr", has_text="城关社区党支部").locator("a").click()
    assert info.value.suggested_filename == "城关社区党支部-2026年度-年终通报.docx"
    doc = Document(io.BytesIO(open(info.value.path(), "rb").read()))
    assert doc.paragraphs[0].text == "城关社区党支部2026年度组织生活开展情况通报"
    # By its text, not its number: the sections before it depend on the year's data.
    assert any(re.fullmatch("[一二三四五六七八九十]+、存在问题", p.text) for p in doc.paragraphs)
    with page.expect_download() as info:
        page.locator("#rollups a").click()
    assert info.value.suggested_filename == "城关镇党委-2026年度-年终通报汇总.xlsx"
    rows = list(
        load_workbook(io.BytesIO(open(info.value.path(), "rb").read())).active.iter_rows(values_only=True)
    )
    assert [r[0] for r in rows[2:]] == ["城关社区党支部", "东门社区党支部", "合计（2个支部）"]
    assert not errors, errors
